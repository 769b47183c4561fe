import t, { type Test } from 'tap'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Level } from 'level'
import { Spacebox, type OpenOptions } from '../lib/index.js'
import { run } from '../lib/cli/run.js'
import { midpoint } from '../lib/storage/disk.js'
import { backends, bytes, readAll, tempDir } from './helpers.js'

const KiB = 1024
const MiB = 1024 * KiB
/** Small chunks, so a few MB make many keys and several LevelDB files. */
const CHUNK = 64 * KiB
const OBJECT = 256 * KiB

async function openDisk (t: Test, options: Omit<OpenOptions, 'location' | 'memory' | 'db'> = {}, location?: string): Promise<{ box: Spacebox, location: string }> {
  location ??= await tempDir(t)
  // Chunks in LevelDB, which is what compaction gives back (a segment file goes when deleted).
  const box = await Spacebox.open({ chunkSize: CHUNK, segmentFiles: false, ...options, location })
  t.teardown(async () => { await box.close() })
  return { box, location }
}

/** `count` objects of OBJECT bytes in bucket `b`, each its own content. */
async function fill (box: Spacebox, count: number): Promise<void> {
  if (!(await box.listBuckets()).some(b => b.name === 'bkt')) await box.createBucket('bkt')
  for (let i = 0; i < count; i++) await box.putObject('bkt', `k${i}`, bytes(OBJECT, i + 1))
}

/** Delete every object but each `keep`-th. */
async function deleteMost (box: Spacebox, count: number, keep: number): Promise<void> {
  const keys = Array.from({ length: count }, (_, i) => `k${i}`).filter((_, i) => i % keep !== 0)
  await box.deleteObjects('bkt', keys)
}

async function checkKept (t: Test, box: Spacebox, count: number, keep: number): Promise<void> {
  for (let i = 0; i < count; i += keep) {
    if (!(await readAll((await box.getObject('bkt', `k${i}`)).body)).equals(bytes(OBJECT, i + 1))) t.fail(`k${i} changed`)
  }
}

/** Sizes of every version and part, read through the public API: what liveBytes must equal. */
async function listedBytes (box: Spacebox): Promise<number> {
  let total = 0
  for (const { name } of await box.listBuckets()) {
    for await (const version of box.listAllVersions(name)) total += version.size ?? 0
    for (const upload of (await box.listMultipartUploads(name)).uploads) {
      for (const part of (await box.listParts(name, upload.key, upload.uploadId)).parts) total += part.size
    }
  }
  return total
}

/** Poll until `done` holds, or fail after `ms`. */
async function until (done: () => boolean, ms: number): Promise<boolean> {
  for (const start = Date.now(); Date.now() - start < ms; await sleep(25)) if (done()) return true
  return done()
}

t.test('compact() gives back the disk space of deleted objects', async t => {
  const { box } = await openDisk(t, { compaction: false })
  await fill(box, 64) // 16 MiB
  await deleteMost(box, 64, 8) // 14 MiB deleted, 2 MiB left
  const live = box.stats().liveBytes as number
  t.equal(live, 8 * OBJECT, 'live bytes are what is left')
  const before = box.stats().bytesOnDisk as number
  t.ok(before > 12 * MiB, `the deleted bytes are still on disk (${before})`)
  t.equal(box.stats().reclaimableBytes, 56 * OBJECT, 'and counted as reclaimable')
  const result = await box.compact()
  t.ok(result.ranges > 0, 'it compacted')
  t.equal(result.bytesOnDiskBefore, before)
  const after = box.stats().bytesOnDisk as number
  t.equal(result.bytesOnDiskAfter, after)
  t.ok(after < before / 4, `bytes on disk fell from ${before} to ${after}`)
  t.ok(after < live * 1.5, `within 1.5 times the live bytes (${live})`)
  t.equal(box.stats().reclaimableBytes, 0, 'nothing left to reclaim')
  t.ok(box.stats().compactions >= result.ranges)
  await checkKept(t, box, 64, 8)
})

t.test('background compaction gets there once the store is left idle, a bounded range at a time', async t => {
  const { box } = await openDisk(t, { compaction: { threshold: 1 * MiB, idle: 50, rangeBytes: 1 * MiB } })
  await fill(box, 64)
  await deleteMost(box, 64, 8)
  const before = box.stats().bytesOnDisk as number
  const live = box.stats().liveBytes as number
  t.ok(await until(() => box.stats().reclaimableBytes === 0, 30_000), 'every freed range was compacted')
  const after = box.stats().bytesOnDisk as number
  t.ok(after < before / 4, `bytes on disk fell from ${before} to ${after}`)
  t.ok(after < live * 1.5, `within 1.5 times the live bytes (${live})`)
  t.ok(box.stats().compactions > 1, `in several ranges (${box.stats().compactions})`)
  await checkKept(t, box, 64, 8)
})

t.test('an object larger than a range is compacted in several pieces', async t => {
  const { box } = await openDisk(t, { compaction: { threshold: 1 * MiB, idle: 20, rangeBytes: 1 * MiB } })
  await box.createBucket('bkt')
  await box.putObject('bkt', 'big', bytes(12 * MiB, 7))
  await box.putObject('bkt', 'kept', bytes(OBJECT, 8))
  const before = box.stats().bytesOnDisk as number
  await box.deleteObject('bkt', 'big')
  t.ok(await until(() => box.stats().reclaimableBytes === 0, 30_000), 'its range was compacted')
  const after = box.stats().bytesOnDisk as number
  t.ok(after < 2 * OBJECT, `bytes on disk fell from ${before} to ${after}`)
  t.ok(box.stats().compactions > 3, `in pieces (${box.stats().compactions} ranges for 12 MiB)`)
  t.ok((await readAll((await box.getObject('bkt', 'kept')).body)).equals(bytes(OBJECT, 8)))
})

t.test('background compaction waits for the threshold, and does nothing when turned off', async t => {
  const { box } = await openDisk(t, { compaction: { threshold: 8 * MiB, idle: 0 } })
  await fill(box, 16)
  await deleteMost(box, 16, 2) // 2 MiB: under the threshold
  await sleep(200)
  t.equal(box.stats().compactions, 0, 'under the threshold: no compaction')
  t.equal(box.stats().reclaimableBytes, 8 * OBJECT)

  const off = (await openDisk(t, { compaction: false })).box
  await fill(off, 32)
  await deleteMost(off, 32, 32)
  await sleep(200)
  t.equal(off.stats().compactions, 0, 'compaction: false: none in the background')
  t.equal(off.stats().reclaimableBytes, 31 * OBJECT)
})

t.test('reads and writes during compaction stay correct', async t => {
  const { box } = await openDisk(t, { compaction: { threshold: 0, idle: 0, rangeBytes: 512 * KiB } })
  await fill(box, 48)
  await deleteMost(box, 48, 4)
  const compacting = box.compact()
  // Meanwhile: new objects, overwrites, deletes and reads, while background ranges run too.
  for (let i = 100; i < 116; i++) {
    await box.putObject('bkt', `k${i}`, bytes(OBJECT, i + 1))
    await box.putObject('bkt', `k${i - 100}`, bytes(OBJECT, i - 100 + 1)) // rewrites (or restores) k0..k15
    if (i % 2 === 0) await box.deleteObject('bkt', `k${i}`)
    await checkKept(t, box, 48, 4)
  }
  await compacting
  await box.compact()
  for (let i = 0; i < 16; i++) t.ok((await readAll((await box.getObject('bkt', `k${i}`)).body)).equals(bytes(OBJECT, i + 1)), `k${i}`)
  for (let i = 101; i < 116; i += 2) t.ok((await readAll((await box.getObject('bkt', `k${i}`)).body)).equals(bytes(OBJECT, i + 1)), `k${i}`)
  await checkKept(t, box, 48, 4)
  t.equal(box.stats().liveBytes, await listedBytes(box), 'live bytes still exact')
})

t.test('closing during compaction is clean', async t => {
  const location = await tempDir(t)
  const box = await Spacebox.open({ location, chunkSize: CHUNK, segmentFiles: false, compaction: { threshold: 0, idle: 0, rangeBytes: 256 * KiB } })
  await fill(box, 48)
  await deleteMost(box, 48, 4)
  const compacting = box.compact().then(() => 'done', (err: { code?: string }) => err.code)
  await sleep(5)
  await box.close()
  t.equal(box.status, 'closed')
  const outcome = await compacting
  t.ok(outcome === 'done' || outcome === 'NotOpen', `compact() ended (${String(outcome)})`)

  // The background path too: closing while its ranges run.
  const again = await Spacebox.open({ location, chunkSize: CHUNK, segmentFiles: false, compaction: { threshold: 0, idle: 0, rangeBytes: 256 * KiB } })
  await fill(again, 48)
  await deleteMost(again, 48, 2)
  await sleep(5)
  await again.close()
  const reopened = (await openDisk(t, {}, location)).box
  await checkKept(t, reopened, 48, 2)
  t.equal(reopened.stats().liveBytes, 24 * OBJECT, 'the live bytes were saved at close')
  t.equal(reopened.stats().liveBytes, await listedBytes(reopened))
})

t.test('a memory store has nothing to compact', async t => {
  const box = await Spacebox.open({ memory: true, chunkSize: CHUNK, compaction: { threshold: 0, idle: 0 } })
  t.teardown(async () => { await box.close() })
  await fill(box, 8)
  await deleteMost(box, 8, 2)
  t.same(await box.compact(), { ranges: 0 })
  const stats = box.stats()
  t.equal(stats.bytesOnDisk, undefined, 'no bytes on disk')
  t.equal(stats.liveBytes, 4 * OBJECT, 'live bytes are counted all the same')
  t.equal(stats.compactions, 0)
})

t.test('compaction options are checked', async t => {
  await t.rejects(Spacebox.open({ memory: true, compaction: { threshold: -1 } }), RangeError)
  await t.rejects(Spacebox.open({ memory: true, compaction: { rangeBytes: 0 } }), RangeError)
  await t.rejects(Spacebox.open({ memory: true, compaction: { idle: 1.5 } }), RangeError)
  await t.rejects(Spacebox.open({ memory: true, compaction: 'yes' as unknown as false }), TypeError)
})

for (const backend of backends) {
  t.test(`${backend.name}: live bytes are exact through puts, overwrites, deletes, versions, copies and uploads`, async t => {
    const box = await backend.open(t, { chunkSize: CHUNK, minPartSize: 1, compaction: false })
    const expect = async (total: number, what: string): Promise<void> => {
      t.equal(box.stats().liveBytes, total, what)
      t.equal(await listedBytes(box), total, `${what}: as listed`)
    }
    await box.createBucket('bkt')
    await expect(0, 'empty')
    await box.putObject('bkt', 'inline', 'hello')
    await box.putObject('bkt', 'big', bytes(100 * KiB))
    await expect(5 + 100 * KiB, 'an inline and a chunked object')
    await box.putObject('bkt', 'big', bytes(50 * KiB))
    await box.putObject('bkt', 'inline', 'hi')
    await expect(2 + 50 * KiB, 'overwritten')
    await box.deleteObject('bkt', 'inline')
    await box.deleteObject('bkt', 'missing')
    await expect(50 * KiB, 'deleted')
    await box.copyObject('bkt', 'big', 'bkt', 'copy')
    await box.putObject('bkt', 'secret', bytes(70 * KiB), { serverSideEncryption: 'AES256' })
    await expect(170 * KiB, 'copied, and encrypted (counted in plaintext)')

    await box.createBucket('ver')
    await box.putBucketVersioning('ver', 'Enabled')
    const first = await box.putObject('ver', 'doc', bytes(1000))
    await box.putObject('ver', 'doc', bytes(100 * KiB))
    await box.deleteObject('ver', 'doc')
    await expect(170 * KiB + 1000 + 100 * KiB, 'versions kept, and a delete marker')
    await box.deleteObject('ver', 'doc', { versionId: first.versionId as string })
    await expect(170 * KiB + 100 * KiB, 'a version removed')
    await box.putBucketVersioning('ver', 'Suspended')
    await box.putObject('ver', 'doc', bytes(10))
    await box.putObject('ver', 'doc', bytes(20))
    await expect(170 * KiB + 100 * KiB + 20, 'suspended: the null version replaced')

    const upload = await box.createMultipartUpload('bkt', 'mp')
    await box.uploadPart('bkt', 'mp', upload.uploadId, 1, bytes(100 * KiB))
    await box.uploadPart('bkt', 'mp', upload.uploadId, 2, bytes(10 * KiB))
    const two = await box.uploadPart('bkt', 'mp', upload.uploadId, 2, bytes(30 * KiB))
    const three = await box.uploadPart('bkt', 'mp', upload.uploadId, 3, bytes(5 * KiB))
    await expect(270 * KiB + 20 + 135 * KiB, 'parts, one replaced')
    const one = (await box.listParts('bkt', 'mp', upload.uploadId)).parts[0]
    await box.completeMultipartUpload('bkt', 'mp', upload.uploadId, [{ partNumber: 1, etag: one?.etag as string }, { partNumber: 2, etag: two.etag }])
    t.ok(three.etag.length > 0)
    await expect(270 * KiB + 20 + 130 * KiB, 'completed: the unlisted part dropped')
    const abandoned = await box.createMultipartUpload('bkt', 'gone')
    await box.uploadPart('bkt', 'gone', abandoned.uploadId, 1, bytes(40 * KiB))
    await box.abortMultipartUpload('bkt', 'gone', abandoned.uploadId)
    await expect(270 * KiB + 20 + 130 * KiB, 'an aborted upload leaves nothing')
  })
}

t.test('live bytes survive a clean close, and are counted again after a crash', async t => {
  const location = await tempDir(t)
  const box = await Spacebox.open({ location, chunkSize: CHUNK })
  await fill(box, 6)
  await box.putObject('bkt', 'small', 'abc')
  await box.close()
  const reopened = await Spacebox.open({ location })
  t.equal(reopened.stats().liveBytes, 6 * OBJECT + 3, 'saved at close')
  await reopened.close()
  // What a crash leaves: no saved count.
  const raw = new Level(location)
  await raw.del('!meta!space')
  await raw.close()
  const recounted = await Spacebox.open({ location })
  t.teardown(async () => { await recounted.close() })
  t.ok(await until(() => recounted.stats().liveBytes !== undefined, 10_000), 'counted in the background')
  t.equal(recounted.stats().liveBytes, 6 * OBJECT + 3, 'to the same figure')
  await recounted.putObject('bkt', 'more', bytes(OBJECT))
  t.equal(recounted.stats().liveBytes, 7 * OBJECT + 3, 'and kept from there')
})

t.test('spacebox compact --data DIR compacts a stopped store, and refuses one a server holds', async t => {
  const dir = await tempDir(t)
  const io = (): { out: () => string, err: () => string, io: Parameters<typeof run>[1], stop: AbortController } => {
    let out = ''
    let err = ''
    const stop = new AbortController()
    return { out: () => out, err: () => err, io: { stdout: { write: s => { out += s } }, stderr: { write: s => { err += s } }, env: {}, signal: stop.signal }, stop }
  }
  const server = io()
  const serving = run(['serve', '--data', dir, '--port', '0'], server.io)
  t.ok(await until(() => server.out().includes('serving'), 10_000), 'a server holds the store')
  const refused = io()
  t.equal(await run(['compact', '--data', dir], refused.io), 1, 'compact refuses')
  t.match(refused.err(), /in use by a running spacebox \(its store is locked\): stop it first; a running store compacts itself/, refused.err())
  server.stop.abort()
  t.equal(await serving, 0)

  const box = await Spacebox.open({ location: join(dir, 'store'), chunkSize: CHUNK, segmentFiles: false, compaction: false })
  await fill(box, 32)
  await deleteMost(box, 32, 8)
  await box.close()
  const done = io()
  t.equal(await run(['compact', '--data', dir], done.io), 0, done.err())
  const [, before = '', after = ''] = /(\d[\d.]* \S*B) on disk → (\d[\d.]* \S*B)/.exec(done.out()) ?? []
  t.ok(before !== '' && after !== '', done.out())
  const reopened = (await openDisk(t, {}, join(dir, 'store'))).box
  t.ok((reopened.stats().bytesOnDisk as number) < 2 * 4 * OBJECT, `the store shrank: ${done.out()}`)
  await checkKept(t, reopened, 32, 8)

  const bad = io()
  t.equal(await run(['compact'], bad.io), 2, 'compact needs --data')
})

t.test('midpoint() splits a key range in two', async t => {
  const a = Buffer.from('!chunks!0001')
  const b = Buffer.from('!chunks!0003')
  const mid = midpoint(a, b) as Buffer
  t.ok(Buffer.compare(a, mid) < 0 && Buffer.compare(mid, b) < 0)
  const close = midpoint(Buffer.from([1]), Buffer.from([1, 1])) as Buffer
  t.ok(Buffer.compare(Buffer.from([1]), close) < 0 && Buffer.compare(close, Buffer.from([1, 1])) < 0, 'between close keys, a longer one')
  t.equal(midpoint(Buffer.from([1]), Buffer.from([1, 0])), undefined, 'none where no key lies between')
})
