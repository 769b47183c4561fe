import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { Spacebox } from '../lib/index.js'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { openSublevels } from '../lib/schema/keys.js'
import { decodeHead } from '../lib/schema/records.js'
import { bytes, readAll, tempDir } from './helpers.js'

const child = fileURLToPath(new URL('./fixtures/child-store.ts', import.meta.url))

/** Run the child fixture with the same TypeScript loader as this test; resolves with its output lines. */
function runChild (args: string[], onLine?: (line: string, kill: () => void) => void): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, child, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    const lines: string[] = []
    let buffered = ''
    proc.stdout.on('data', (data: Buffer) => {
      buffered += data.toString()
      let nl
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        lines.push(line)
        onLine?.(line, () => proc.kill('SIGKILL'))
      }
    })
    proc.on('error', reject)
    proc.on('close', () => { resolve(lines) })
  })
}

t.test('objects and buckets persist across close and reopen', async t => {
  const location = await tempDir(t)
  let box = await Spacebox.open({ location, chunkSize: 1024 })
  await box.createBucket('keep', { region: 'eu-west-1' })
  await box.putObject('keep', 'small', 'hello', { metadata: { a: 'b' } })
  await box.putObject('keep', 'big', bytes(10_000))
  await box.close()
  t.equal(box.status, 'closed')
  await t.rejects(box.headBucket('keep'), { code: 'NotOpen' })
  await t.resolves(box.close(), 'close is idempotent')
  box = await Spacebox.open({ location })
  t.same((await box.listBuckets()).map(b => [b.name, b.region]), [['keep', 'eu-west-1']])
  t.equal((await readAll((await box.getObject('keep', 'small')).body)).toString(), 'hello')
  t.same((await box.headObject('keep', 'small')).metadata, { a: 'b' })
  t.ok((await readAll((await box.getObject('keep', 'big')).body)).equals(bytes(10_000)), 'chunks written at one chunk size read back after reopening with another')
  await box.close()
})

t.test('a second process opening a store in use gets StoreLocked, at once', async t => {
  const location = await tempDir(t)
  const box = await Spacebox.open({ location })
  const started = Date.now()
  t.same(await runChild(['open', location]), ['StoreLocked'])
  t.ok(Date.now() - started < 20_000, 'no hang')
  await t.rejects(Spacebox.open({ location }), { code: 'StoreLocked' }, 'and so does a second open in this process')
  await box.close()
  t.same(await runChild(['open', location]), ['opened'], 'free again once closed')
})

t.test('a process killed mid-put leaves the committed objects intact and no orphan chunks', async t => {
  const location = await tempDir(t)
  const lines = await runChild(['crash-mid-put', location], (line, kill) => { if (line === 'streaming') kill() })
  t.same(lines, ['streaming'])
  const raw = new Level(location)
  const before = openSublevels(raw)
  t.ok((await before.pending.keys().all()).length > 0, 'the crash left pending segments')
  await raw.close()
  t.equal((await readdir(join(location, 'blobs'))).length, 4, 'and their files, beside the two committed objects\' (more than a chunk each)')

  const box = await Spacebox.open({ location })
  t.ok((await readAll((await box.getObject('crash', 'keep')).body)).equals(Buffer.alloc(20_000, 1)))
  t.ok((await readAll((await box.getObject('crash', 'replaced')).body)).equals(Buffer.alloc(20_000, 2)), 'an interrupted overwrite leaves the old object')
  await t.rejects(box.headObject('crash', 'partial'), { code: 'NoSuchKey' }, 'an interrupted write is invisible')
  await box.close()

  const after = new Level(location)
  const sub = openSublevels(after)
  t.same(await sub.pending.keys().all(), [], 'the sweep cleared every pending marker')
  const files = (await readdir(join(location, 'blobs'))).sort()
  const referenced = []
  for await (const value of sub.objects.values()) referenced.push(...(decodeHead(value).head.segments ?? []).map(segment => segment.id))
  t.same(files, referenced.sort(), 'only the files of committed objects remain')
  t.same(await sub.chunks.keys().all(), [], 'and no chunk')
  await after.close()
})

t.test('a store written by a newer format is refused at open with UnsupportedFormat', async t => {
  const location = await tempDir(t)
  await (await Spacebox.open({ location })).close()
  const raw = new Level(location)
  await openSublevels(raw).meta.put('format', { v: 99, created: Date.now() })
  await raw.close()
  await t.rejects(Spacebox.open({ location }), { code: 'UnsupportedFormat' })
  t.same(await runChild(['open', location]), ['UnsupportedFormat'], 'and the failed open released the lock')
})

t.test('a caller-made abstract-level database is used, and left open, by the store', async t => {
  const db = new MemoryLevel()
  const masterKey = Buffer.alloc(32, 7)
  await t.rejects(Spacebox.open({ db: db.sublevel('s3', {}) }), TypeError, 'a caller\'s db must say which master key protects it')
  const box = await Spacebox.open({ db: db.sublevel('s3', {}), masterKey })
  await box.createBucket('mine')
  await box.putObject('mine', 'k', 'v')
  await box.close()
  t.equal(db.status, 'open', 'the caller\'s database is the caller\'s to close')
  const again = await Spacebox.open({ db: db.sublevel('s3', {}), masterKey: masterKey.toString('hex') })
  t.equal((await readAll((await again.getObject('mine', 'k')).body)).toString(), 'v')
  await again.close()
  await db.close()
})

t.test('open() checks its options', async t => {
  await t.rejects(Spacebox.open({}), TypeError)
  await t.rejects(Spacebox.open({ memory: true, location: '/tmp/x' }), TypeError)
  await t.rejects(Spacebox.open({ memory: true, chunkSize: 0 }), RangeError)
  await t.rejects(Spacebox.open({ memory: true, chunkSize: 1024, inlineThreshold: 2048 }), RangeError)
  await t.rejects(Spacebox.open({ memory: true, maxObjectSize: -1 }), RangeError)
  await t.rejects(Spacebox.open({ memory: true, region: 'Not A Region' }), RangeError)
  const noSnapshots = new MemoryLevel()
  Object.defineProperty(noSnapshots, 'supports', { value: { ...noSnapshots.supports, explicitSnapshots: false } })
  await t.rejects(Spacebox.open({ db: noSnapshots, masterKey: Buffer.alloc(32) }), TypeError)
})

t.test('compression: off by default, on when asked, and a store reads whatever it was written with', async t => {
  const text = Buffer.from('a line of a log that repeats itself\n'.repeat(60_000))
  const sizes: Record<string, number> = {}
  for (const compression of [false, true]) {
    const location = await tempDir(t)
    // One chunk: kept in LevelDB, which compresses (segment files are stored as they are).
    const box = await Spacebox.open({ location, chunkSize: 4 * 1024 * 1024, ...(compression ? { compression } : {}) })
    await box.createBucket('logs')
    await box.putObject('logs', 'day.log', text)
    await box.compact()
    sizes[String(compression)] = (await box.stats()).bytesOnDisk as number
    await box.close()
    const again = await Spacebox.open({ location, compression: !compression })
    t.ok((await readAll((await again.getObject('logs', 'day.log')).body)).equals(text), `written with compression ${compression}, read with ${!compression}`)
    await again.close()
  }
  t.ok(sizes.false! > text.length, `uncompressed by default: ${sizes.false} bytes on disk for ${text.length}`)
  t.ok(sizes.true! < text.length / 4, `compressed when asked: ${sizes.true} bytes`)
  await t.rejects(Spacebox.open({ memory: true, compression: 'yes' as never }), TypeError)
})
