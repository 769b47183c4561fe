/**
 * One side of a streamed scenario, run in a process of its own so that the RSS it reports is its
 * own and nothing else's:
 *
 *   node --expose-gc stream-child.js <spacebox|raw> <put|get> <dir> <MiB>
 *
 * spacebox puts one object from a Readable of 64 KiB pieces (what fs.createReadStream yields) and
 * gets it back as a stream; the raw side writes the same bytes as sequential 1 MiB values with
 * db.put and reads them back with an iterator. Prints one JSON line (a ChildResult).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { Level } from 'level'
import { Spacebox } from '../lib/index.js'
import { BUCKET, drain, pattern } from './stores.js'

export interface ChildResult {
  bytes: number
  ms: number
  /** RSS just before the operation and the highest seen during it, in bytes. */
  rssStart: number
  rssPeak: number
  /**
   * The same for anonymous RSS (Linux: RssAnon of /proc/self/status; elsewhere the RSS): the
   * process's own memory, without the file pages that LevelDB maps from its table files to read them.
   */
  anonStart: number
  anonPeak: number
}

const MiB = 1024 * 1024
const PIECE = 64 * 1024
const POOL_MIB = 16
const OBJECT_KEY = 'large/stream.bin'

const [subject, op, dir, mibText] = process.argv.slice(2)
const mib = Number(mibText)
if ((subject !== 'spacebox' && subject !== 'raw') || (op !== 'put' && op !== 'get') || dir === undefined || !(mib > 0)) {
  throw new Error('usage: stream-child.js <spacebox|raw> <put|get> <dir> <MiB>')
}
const total = mib * MiB
const bytes = pattern(POOL_MIB * MiB)
const mibAt = (i: number): Buffer => bytes.subarray((i % POOL_MIB) * MiB, (i % POOL_MIB + 1) * MiB)
const rawKey = (i: number): string => `chunk/${i.toString().padStart(8, '0')}`

async function * pieces (): AsyncGenerator<Buffer> {
  for (let i = 0; i < mib; i++) {
    const one = mibAt(i)
    for (let offset = 0; offset < MiB; offset += PIECE) yield one.subarray(offset, offset + PIECE)
  }
}

/** Open, then return the timed operation: it resolves to the bytes it moved. */
async function prepare (): Promise<{ run: () => Promise<number>, close: () => Promise<void> }> {
  if (subject === 'spacebox') {
    const box = await Spacebox.open({ location: dir as string })
    if (op === 'put') await box.createBucket(BUCKET)
    return {
      run: op === 'put'
        ? async () => (await box.putObject(BUCKET, OBJECT_KEY, Readable.from(pieces()))).size
        : async () => await drain((await box.getObject(BUCKET, OBJECT_KEY)).body),
      close: async () => { await box.close() }
    }
  }
  const db = new Level<string, Buffer>(dir as string, { valueEncoding: 'buffer' })
  await db.open()
  return {
    run: op === 'put'
      ? async () => {
        for (let i = 0; i < mib; i++) await db.put(rawKey(i), mibAt(i))
        return total
      }
      : async () => {
        let read = 0
        for await (const value of db.values({ gte: 'chunk/', lt: 'chunk0' })) read += value.length
        return read
      },
    close: async () => { await db.close() }
  }
}

/** Anonymous RSS in bytes, where the OS tells it apart. */
function anonRss (): number {
  if (process.platform !== 'linux') return process.memoryUsage.rss()
  const match = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return match === null ? process.memoryUsage.rss() : Number(match[1]) * 1024
}

/**
 * Reset the kernel's peak-RSS mark (Linux), so that VmHWM afterwards is the exact peak during the
 * operation, with no sampling. Where that fails, the sampled peak is all there is.
 */
function resetPeak (): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

function peakRss (): number | undefined {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return match === null ? undefined : Number(match[1]) * 1024
}

const side = await prepare()
;(globalThis as { gc?: () => void }).gc?.()
const exactPeak = process.platform === 'linux' && resetPeak()
const rssStart = process.memoryUsage.rss()
const anonStart = anonRss()
let rssPeak = rssStart
let anonPeak = anonStart
const probe = (): void => {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss())
  anonPeak = Math.max(anonPeak, anonRss())
}
// Every 20 ms: often enough to see the sawtooth of garbage collection, rarely enough to cost ~nothing.
const sampler = setInterval(probe, 20)
const started = performance.now()
const moved = await side.run()
const ms = performance.now() - started
clearInterval(sampler)
probe()
if (exactPeak) rssPeak = Math.max(rssPeak, peakRss() ?? 0)
await side.close()
if (moved !== total) throw new Error(`${subject} ${op} moved ${moved} bytes, not ${total}`)
const result: ChildResult = { bytes: moved, ms, rssStart, rssPeak, anonStart, anonPeak }
process.stdout.write(JSON.stringify(result) + '\n')
