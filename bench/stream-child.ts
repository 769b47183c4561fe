/**
 * One side of a streamed scenario, run in a process of its own so that the RSS it reports is its
 * own and nothing else's:
 *
 *   node --expose-gc stream-child.js <spacebox|raw|limit> <put|get> <dir> <MiB>
 *
 * spacebox puts one object from a Readable of 64 KiB pieces (what fs.createReadStream yields) and
 * gets it back as a stream; the raw side writes the same bytes as sequential 1 MiB values with
 * db.put and reads them back with an iterator. The limit (put only) is what any PUT must do and
 * no more: the same pieces hashed with MD5 (the ETag) and written once to a file by an fs stream,
 * the hash on this thread overlapping the writes on libuv's, without fsync (spacebox's default
 * commits do not fsync either). Prints one JSON line (a ChildResult).
 */
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { Level } from 'level'
import { Spacebox } from '../lib/index.js'
import { type Peaks, watchMemory } from './memory.js'
import { BUCKET, drain, pattern } from './stores.js'

/**
 * The bytes moved and how long it took, with RSS just before the operation and the highest seen
 * during it; the same for anonymous RSS: the process's own memory, without the file pages that
 * LevelDB maps from its table files to read them.
 */
export interface ChildResult extends Peaks {
  bytes: number
  ms: number
}

const MiB = 1024 * 1024
const PIECE = 64 * 1024
const POOL_MIB = 16
const OBJECT_KEY = 'large/stream.bin'

const [subject, op, dir, mibText] = process.argv.slice(2)
const mib = Number(mibText)
if ((subject !== 'spacebox' && subject !== 'raw' && subject !== 'limit') || (op !== 'put' && op !== 'get') || (subject === 'limit' && op !== 'put') ||
  dir === undefined || !(mib > 0)) {
  throw new Error('usage: stream-child.js <spacebox|raw|limit> <put|get> <dir> <MiB>')
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
  if (subject === 'limit') {
    await mkdir(dir as string, { recursive: true })
    return {
      run: async () => {
        const md5 = createHash('md5')
        const file = createWriteStream(join(dir as string, 'object.bin'))
        let written = 0
        for await (const piece of pieces()) {
          md5.update(piece)
          written += piece.length
          if (!file.write(piece)) await once(file, 'drain')
        }
        file.end()
        await finished(file)
        md5.digest()
        return written
      },
      close: async () => {}
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

const side = await prepare()
const memory = watchMemory()
const started = performance.now()
const moved = await side.run()
const ms = performance.now() - started
const peaks = memory.stop()
await side.close()
if (moved !== total) throw new Error(`${subject} ${op} moved ${moved} bytes, not ${total}`)
const result: ChildResult = { bytes: moved, ms, ...peaks }
process.stdout.write(JSON.stringify(result) + '\n')
