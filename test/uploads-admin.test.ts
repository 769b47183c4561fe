// Stale multipart uploads: box.abortIncompleteUploads() (by age, by prefix, a dry run), what a scoped
// caller may abort (write on each upload's key, as AbortMultipartUpload), and DeleteBucket, which
// aborts a bucket's uploads with it as S3 does, leaving no orphan at any crash point.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import { Spacebox, type Grant } from '../lib/index.js'
import { ID_LENGTH, openSublevels, uploadKeyParts, type AnyLevel } from '../lib/schema/keys.js'
import { decodeHead, type PartRecord, type UploadRecord } from '../lib/schema/records.js'
import { bytes } from './helpers.js'

const DAY = 86_400_000
const KEY = Buffer.alloc(32)

/** A store on a database the test keeps, with a clock it sets. */
async function open (t: { teardown: (fn: () => unknown) => void }, db = new MemoryLevel(), start = Date.UTC(2026, 0, 1)): Promise<{ box: Spacebox, db: MemoryLevel, clock: { now: number } }> {
  const clock = { now: start }
  const box = await Spacebox.open({ db, masterKey: KEY, chunkSize: 64, minPartSize: 1, clock: () => clock.now })
  t.teardown(async () => { await box.close() })
  return { box, db, clock }
}

async function begin (box: Spacebox, bucket: string, key: string, parts = 1): Promise<string> {
  const { uploadId } = await box.createMultipartUpload(bucket, key)
  for (let n = 1; n <= parts; n++) await box.uploadPart(bucket, key, uploadId, n, bytes(200, n))
  return uploadId
}

async function uploadKeys (box: Spacebox, bucket: string): Promise<string[]> {
  return (await box.listMultipartUploads(bucket)).uploads.map(u => u.key)
}

/**
 * What the store holds that nothing reaches: parts without their upload, uploads without their
 * bucket, chunks of no object version or part, pending marks (swept at open). Empty when sound.
 */
async function orphans (db: AnyLevel): Promise<string[]> {
  const sub = openSublevels(db)
  const out: string[] = []
  const bucketIds = new Set<string>()
  for await (const record of sub.buckets.values()) bucketIds.add((record as { id: string }).id)
  const uploadIds = new Set<string>()
  for await (const [stored, record] of sub.uploads.iterator()) {
    uploadIds.add((record as UploadRecord).id)
    if (!bucketIds.has(stored.toString('latin1', 0, ID_LENGTH))) out.push(`upload ${uploadKeyParts(stored).key} without its bucket`)
  }
  const segments = new Set<string>()
  for await (const [stored, record] of sub.parts.iterator()) {
    const part = record as PartRecord
    segments.add(part.segment.id)
    if (!uploadIds.has(stored.slice(0, ID_LENGTH))) out.push(`part ${stored} without its upload`)
  }
  for (const level of [sub.objects, sub.versions]) {
    for await (const value of level.values()) for (const segment of decodeHead(value).head.segments ?? []) segments.add(segment.id)
  }
  for await (const chunk of sub.chunks.keys()) if (!segments.has(chunk.slice(0, ID_LENGTH))) out.push(`chunk ${chunk} of nothing`)
  for await (const id of sub.pending.keys()) out.push(`pending ${id}`)
  return out
}

t.test('abortIncompleteUploads aborts what is at least as old as asked, by the store\'s clock, and says what', async t => {
  const { box, db, clock } = await open(t)
  await box.createBucket('bkt')
  const oldest = await begin(box, 'bkt', 'logs/a', 2)
  clock.now += DAY
  const older = await begin(box, 'bkt', 'logs/b')
  clock.now += 2 * DAY
  await begin(box, 'bkt', 'photos/c')
  clock.now += 4 * DAY // now: 7, 6 and 4 days old
  const result = await box.abortIncompleteUploads('bkt', { olderThan: 6 * DAY })
  t.same(result.aborted.map(u => [u.key, u.uploadId, u.initiated.getTime()]), [
    ['logs/a', oldest, Date.UTC(2026, 0, 1)], ['logs/b', older, Date.UTC(2026, 0, 2)]
  ], 'the 7 and the 6 days old: "older than" includes the limit')
  t.same(result.denied, [])
  t.same(await uploadKeys(box, 'bkt'), ['photos/c'])
  t.same(await orphans(db), [], 'their parts and chunks went with them')
  t.same((await box.abortIncompleteUploads('bkt', { olderThan: 6 * DAY })).aborted, [], 'again: nothing left to abort')
})

t.test('a Date cutoff, a prefix, 0 for every upload, and a dry run that changes nothing', async t => {
  const { box, db, clock } = await open(t)
  await box.createBucket('bkt')
  await begin(box, 'bkt', 'tmp/1')
  clock.now += DAY
  await begin(box, 'bkt', 'tmp/2')
  await begin(box, 'bkt', 'keep/3')
  await begin(box, 'bkt', 'tmp/2') // a second upload of the same key
  const dry = await box.abortIncompleteUploads('bkt', { olderThan: 0, prefix: 'tmp/', dryRun: true })
  t.same(dry.aborted.map(u => u.key), ['tmp/1', 'tmp/2', 'tmp/2'], 'key order, then age')
  t.same(await uploadKeys(box, 'bkt'), ['keep/3', 'tmp/1', 'tmp/2', 'tmp/2'], 'the dry run aborted nothing')
  const byDate = await box.abortIncompleteUploads('bkt', { olderThan: new Date(Date.UTC(2026, 0, 1, 12)) })
  t.same(byDate.aborted.map(u => u.key), ['tmp/1'], 'initiated at or before the Date')
  t.same((await box.abortIncompleteUploads('bkt', { olderThan: 0, prefix: 'tmp/' })).aborted.map(u => u.key), ['tmp/2', 'tmp/2'])
  t.same(await uploadKeys(box, 'bkt'), ['keep/3'])
  t.same((await box.abortIncompleteUploads('bkt', { olderThan: 0 })).aborted.map(u => u.key), ['keep/3'])
  t.same(await orphans(db), [])
  const sub = openSublevels(db)
  t.same([await sub.uploads.keys().all(), await sub.parts.keys().all(), await sub.chunks.keys().all()], [[], [], []], 'nothing of any upload is left')
})

t.test('abortIncompleteUploads refuses what it cannot mean', async t => {
  const { box } = await open(t)
  await box.createBucket('bkt')
  await begin(box, 'bkt', 'k')
  for (const olderThan of [undefined, -1, Number.NaN, Infinity, '7d', new Date('nonsense')]) {
    await t.rejects(box.abortIncompleteUploads('bkt', { olderThan } as never), TypeError, `olderThan ${String(olderThan)}`)
  }
  await t.rejects(box.abortIncompleteUploads('bkt', undefined as never), TypeError, 'no options')
  await t.rejects(box.abortIncompleteUploads('bkt', { olderThan: 0, prefix: 5 } as never), TypeError)
  await t.rejects(box.abortIncompleteUploads('nope', { olderThan: 0 }), { code: 'NoSuchBucket' })
  await t.rejects(box.abortIncompleteUploads('No_Such', { olderThan: 0 }), { code: 'InvalidBucketName' })
  t.same(await uploadKeys(box, 'bkt'), ['k'], 'nothing aborted')
})

t.test('an upload completed, aborted or given a part meanwhile is handled whole', async t => {
  const { box, db } = await open(t)
  await box.createBucket('bkt')
  for (let round = 0; round < 20; round++) {
    const uploadId = await begin(box, 'bkt', `k${round}`)
    const { etag } = await box.uploadPart('bkt', `k${round}`, uploadId, 2, bytes(100))
    const [sweep, other] = await Promise.allSettled([
      box.abortIncompleteUploads('bkt', { olderThan: 0 }),
      round % 3 === 0
        ? box.completeMultipartUpload('bkt', `k${round}`, uploadId, [{ partNumber: 2, etag }])
        : round % 3 === 1 ? box.abortMultipartUpload('bkt', `k${round}`, uploadId) : box.uploadPart('bkt', `k${round}`, uploadId, 3, bytes(300))
    ])
    t.equal(sweep.status, 'fulfilled', 'the sweep never fails on a race')
    if (other.status === 'rejected') t.equal((other.reason as { code: string }).code, 'NoSuchUpload', 'the other lost to the sweep')
  }
  t.same(await orphans(db), [], 'no part, chunk or record left behind by any race')
})

t.test('through a scoped view: each upload needs write on its key, as AbortMultipartUpload', async t => {
  const { box } = await open(t)
  await box.createBucket('bkt')
  await box.createBucket('other')
  const make = async (): Promise<void> => {
    await box.abortIncompleteUploads('bkt', { olderThan: 0 })
    for (const key of ['docs/a', 'docs/b', 'img/c']) await begin(box, 'bkt', key)
  }
  const as = async (grants: Grant[]): Promise<{ view: ReturnType<Spacebox['as']>, denied: () => number }> => {
    const { accessKeyId } = await box.keys.create({ name: `k${Math.random()}`, grants })
    return { view: box.as(accessKeyId), denied: () => box.keys.usage(accessKeyId).denied }
  }

  await make()
  const writer = await as([{ bucket: 'bkt', permission: 'readwrite' }])
  t.same((await writer.view.abortIncompleteUploads('bkt', { olderThan: 0 })).aborted.map(u => u.key), ['docs/a', 'docs/b', 'img/c'], 'readwrite: all')

  await make()
  const reader = await as([{ bucket: 'bkt', permission: 'read' }])
  const refused = await reader.view.abortIncompleteUploads('bkt', { olderThan: 0 })
  t.same([refused.aborted, refused.denied.map(u => u.key)], [[], ['docs/a', 'docs/b', 'img/c']], 'read: each refused, listed as denied')
  t.equal(reader.denied(), 3, 'each refusal counted')
  t.same(await uploadKeys(box, 'bkt'), ['docs/a', 'docs/b', 'img/c'], 'nothing aborted')

  const docs = await as([{ bucket: 'bkt', permission: 'readwrite', prefix: 'docs/' }])
  const scoped = await docs.view.abortIncompleteUploads('bkt', { olderThan: 0 })
  t.same([scoped.aborted.map(u => u.key), scoped.denied], [['docs/a', 'docs/b'], []], 'a prefix grant: its prefix only; img/ is not even seen')
  t.same(await uploadKeys(box, 'bkt'), ['img/c'])

  await make()
  const mixed = await as([{ bucket: 'bkt', permission: 'read' }, { bucket: 'bkt', permission: 'readwrite', prefix: 'img/' }])
  const partly = await mixed.view.abortIncompleteUploads('bkt', { olderThan: 0 })
  t.same([partly.aborted.map(u => u.key), partly.denied.map(u => u.key)], [['img/c'], ['docs/a', 'docs/b']], 'read all, write img/: img/ aborted, docs/ refused')

  await make()
  await box.putBucketPolicy('bkt', JSON.stringify({
    Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:AbortMultipartUpload', Resource: 'arn:aws:s3:::bkt/docs/b' }]
  }))
  const policed = await writer.view.abortIncompleteUploads('bkt', { olderThan: 0 })
  t.same([policed.aborted.map(u => u.key), policed.denied.map(u => u.key)], [['docs/a', 'img/c'], ['docs/b']], 'a policy Deny on one key spares that upload')
  await box.deleteBucketPolicy('bkt')

  await make()
  const stranger = await as([{ bucket: 'other', permission: 'fullaccess' }])
  await t.rejects(stranger.view.abortIncompleteUploads('bkt', { olderThan: 0 }), { code: 'AccessDenied' }, 'no grant on the bucket: refused whole')
  await t.rejects(box.anonymous().abortIncompleteUploads('bkt', { olderThan: 0 }), { code: 'AccessDenied' }, 'anonymous, private bucket')
  t.same(await uploadKeys(box, 'bkt'), ['docs/a', 'docs/b', 'img/c'])
  await box.putBucketAcl('bkt', 'public-read-write')
  t.equal((await box.anonymous().abortIncompleteUploads('bkt', { olderThan: 0 })).aborted.length, 3, 'anonymous, public-read-write: as AbortMultipartUpload is')
})

t.test('DeleteBucket of a bucket holding only uploads deletes it and them, as S3 does', async t => {
  const { box, db } = await open(t)
  await box.createBucket('bkt')
  await begin(box, 'bkt', 'a', 3)
  await begin(box, 'bkt', 'a')
  await begin(box, 'bkt', 'b/c', 2)
  await box.deleteBucket('bkt')
  await t.rejects(box.headBucket('bkt'), { code: 'NoSuchBucket' })
  const sub = openSublevels(db)
  t.same([await sub.uploads.keys().all(), await sub.parts.keys().all(), await sub.chunks.keys().all()], [[], [], []], 'no upload, part or chunk is left')
  t.same(await orphans(db), [])
  await box.createBucket('bkt')
  t.same(await uploadKeys(box, 'bkt'), [], 'a new bucket of the name starts with none')
})

t.test('DeleteBucket with an object (or a version, or a marker) left is BucketNotEmpty, and keeps the uploads', async t => {
  const { box } = await open(t)
  await box.createBucket('bkt')
  await box.putObject('bkt', 'obj', 'x')
  const uploadId = await begin(box, 'bkt', 'up', 2)
  await t.rejects(box.deleteBucket('bkt'), { code: 'BucketNotEmpty' })
  t.same((await box.listParts('bkt', 'up', uploadId)).parts.map(p => p.partNumber), [1, 2], 'the upload and its parts untouched')
  await box.putBucketVersioning('bkt', 'Enabled')
  await box.deleteObject('bkt', 'obj')
  await t.rejects(box.deleteBucket('bkt'), { code: 'BucketNotEmpty', message: /You must delete all versions/ }, 'a delete marker over a version')
  t.same(await uploadKeys(box, 'bkt'), ['up'])
})

t.test('DeleteBucket racing uploads: a completion either keeps the bucket with its object, or loses; no deadlock, no orphan', async t => {
  const { box, db } = await open(t)
  for (let round = 0; round < 30; round++) {
    await box.createBucket('racy')
    const uploadId = await begin(box, 'racy', 'k')
    const { etag } = await box.uploadPart('racy', 'k', uploadId, 2, bytes(50))
    const racer = round % 3 === 0
      ? box.completeMultipartUpload('racy', 'k', uploadId, [{ partNumber: 2, etag }])
      : round % 3 === 1 ? box.uploadPart('racy', 'k', uploadId, 3, bytes(500)) : box.createMultipartUpload('racy', 'late')
    const [other, del] = await Promise.allSettled([racer, box.deleteBucket('racy')])
    if (del.status === 'fulfilled') {
      if (other.status === 'rejected') t.match((other.reason as { code: string }).code, /^(NoSuchUpload|NoSuchBucket)$/, `round ${round}: the racer lost`)
      t.same(await orphans(db), [], `round ${round}: bucket gone, nothing of it left`)
    } else {
      t.equal((del.reason as { code: string }).code, 'BucketNotEmpty', `round ${round}: only an object completed meanwhile keeps the bucket`)
      t.equal(other.status, 'fulfilled')
      await box.deleteObject('racy', 'k')
      await box.deleteBucket('racy')
    }
  }
  t.same(await orphans(db), [])
})

/** Make a database stop writing for good after `budget` more writes, as a process killed there would. */
function killAfter (db: MemoryLevel, budget: number): { writes: () => number } {
  let writes = 0
  const target = db as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
  for (const method of ['_put', '_del', '_batch', '_clear']) {
    const original = target[method]!.bind(db)
    target[method] = async (...args: unknown[]) => {
      if (writes >= budget) throw new Error('killed')
      writes++
      return await original(...args)
    }
  }
  return { writes: () => writes }
}

t.test('a crash at every write of a DeleteBucket leaves the bucket (with fewer uploads) or nothing, never an orphan', async t => {
  const build = async (db: MemoryLevel): Promise<void> => {
    const box = await Spacebox.open({ db, masterKey: KEY, chunkSize: 64, minPartSize: 1 })
    await box.createBucket('bkt')
    await begin(box, 'bkt', 'a', 3)
    await begin(box, 'bkt', 'b', 1)
    await begin(box, 'bkt', 'c/d', 2)
    await box.createMultipartUpload('bkt', 'empty')
    await box.close()
  }
  // How many writes the whole deletion makes, counted on a run that is not cut.
  const probe = new MemoryLevel()
  await build(probe)
  const counter = killAfter(probe, Infinity)
  const whole = await Spacebox.open({ db: probe, masterKey: KEY })
  const before = counter.writes()
  await whole.deleteBucket('bkt')
  const total = counter.writes() - before
  await whole.close()
  t.equal(total, 5, 'the deletion takes a write per upload, then one for the bucket')
  for (let budget = 0; budget < total; budget++) {
    const db = new MemoryLevel()
    await build(db)
    const box = await Spacebox.open({ db, masterKey: KEY })
    killAfter(db, budget)
    await t.rejects(box.deleteBucket('bkt'), `killed after ${budget} writes`)
    await box.close().catch(() => {})
    // The "restart": a store on what the crash left (the dead db's writes stay refused, so read
    // it through a copy).
    const copy = new MemoryLevel({ keyEncoding: 'view', valueEncoding: 'view' })
    await copy.open()
    await db.open().catch(() => {})
    for await (const [k, v] of db.iterator({ keyEncoding: 'view', valueEncoding: 'view' })) await copy.put(k, v)
    const reopened = await Spacebox.open({ db: copy as unknown as AnyLevel, masterKey: KEY })
    t.same(await orphans(copy as unknown as AnyLevel), [], `after ${budget} writes: no orphan`)
    // Each write took one whole upload (4 of them), and the last the bucket's record.
    t.same((await reopened.listBuckets()).map(b => b.name), ['bkt'], `after ${budget} writes: the bucket stands`)
    t.equal((await reopened.listMultipartUploads('bkt')).uploads.length, 4 - budget, `after ${budget} writes: ${budget} uploads gone whole, the rest whole`)
    await reopened.deleteBucket('bkt')
    t.same(await reopened.listBuckets(), [], `after ${budget} writes: a second DeleteBucket finishes the job`)
    t.same(await orphans(copy as unknown as AnyLevel), [])
    await reopened.close()
    await copy.close()
  }
})
