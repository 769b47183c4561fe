// Multipart uploads under the races and retries real clients produce: a CompleteMultipartUpload
// sent again after its answer was lost, and a part sent again while its first upload is in flight.
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  ListPartsCommand, PutBucketVersioningCommand, UploadPartCommand, type CompletedPart, type S3Client
} from '@aws-sdk/client-s3'
import { MemoryLevel } from 'memory-level'
import { ManualClock } from '../../lib/testing/index.js'
import { bodyBytes, serve, type Served } from './helpers.js'
import { md5Hex, pattern, rejects } from './sdk-helpers.js'
import { hostOf, sendSigned, signV4 } from './wire.js'

const MIN_PART = 100

async function setup (t: Test): Promise<{ s: Served, c: S3Client, clock: ManualClock, db: MemoryLevel }> {
  const clock = new ManualClock('2031-03-01T00:00:00Z')
  const db = new MemoryLevel()
  const s = await serve(t, { open: { db, masterKey: randomBytes(32), minPartSize: MIN_PART, clock: clock.now } })
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'mpu' }))
  return { s, c, clock, db }
}

async function start (c: S3Client, key: string, extra = {}): Promise<string> {
  return (await c.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: key, ...extra }))).UploadId!
}

async function parts (c: S3Client, key: string, uploadId: string, bodies: Buffer[], extra = {}): Promise<CompletedPart[]> {
  const out: CompletedPart[] = []
  for (const [i, body] of bodies.entries()) {
    const sent = await c.send(new UploadPartCommand({ Bucket: 'mpu', Key: key, UploadId: uploadId, PartNumber: i + 1, Body: body, ...extra }))
    out.push({ PartNumber: i + 1, ETag: sent.ETag!, ...(sent.ChecksumCRC32 === undefined ? {} : { ChecksumCRC32: sent.ChecksumCRC32 }) })
  }
  return out
}

function complete (c: S3Client, key: string, uploadId: string, list: CompletedPart[], extra = {}) {
  return c.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: key, UploadId: uploadId, MultipartUpload: { Parts: list }, ...extra }))
}

t.test('CompleteMultipartUpload sent again answers as the first time did', async t => {
  const { s, c } = await setup(t)
  await c.send(new PutBucketVersioningCommand({ Bucket: 'mpu', VersioningConfiguration: { Status: 'Enabled' } }))
  const id = await start(c, 'retried', { ChecksumAlgorithm: 'CRC32' })
  const list = await parts(c, 'retried', id, [pattern(MIN_PART, 1), pattern(7, 2)], { ChecksumAlgorithm: 'CRC32' })
  const first = await complete(c, 'retried', id, list, { IfNoneMatch: '*' })
  const again = await complete(c, 'retried', id, list, { IfNoneMatch: '*' })
  t.same(
    [again.ETag, again.ChecksumCRC32, again.ChecksumType, again.VersionId, again.Location, again.Key],
    [first.ETag, first.ChecksumCRC32, first.ChecksumType, first.VersionId, first.Location, first.Key],
    'same ETag, checksum, version and location; If-None-Match: * does not fail the retry of the upload that created the key')
  t.match(first.ETag, /-2"$/)
  const raw = await sendSigned(s.server.url, s.credentials, 'POST', `/mpu/retried?uploadId=${id}`,
    {}, `<CompleteMultipartUpload>${list.map(p => `<Part><PartNumber>${p.PartNumber}</PartNumber><ETag>${p.ETag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`)
  t.equal(raw.status, 200, 'over the wire too')
  t.match(raw.text, `<ETag>${first.ETag!.replaceAll('"', '&quot;')}</ETag>`)
  const versions = await s.box.listObjectVersions('mpu')
  t.equal(versions.versions.length, 1, 'and nothing is written again')

  t.test('only the same part list is answered; every other call on the upload is NoSuchUpload', async t => {
    await rejects(t, complete(c, 'retried', id, list.slice(0, 1)), 'NoSuchUpload', 404, 'another part list')
    await rejects(t, complete(c, 'other key', id, list), 'NoSuchUpload', 404, 'another key')
    await rejects(t, c.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'retried', UploadId: id, PartNumber: 3, Body: 'x' })), 'NoSuchUpload', 404, 'UploadPart')
    await rejects(t, c.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'retried', UploadId: id })), 'NoSuchUpload', 404, 'ListParts')
    await rejects(t, c.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'retried', UploadId: id })), 'NoSuchUpload', 404, 'Abort')
  })
})

t.test('an aborted upload is not answered as completed', async t => {
  const { c } = await setup(t)
  const id = await start(c, 'aborted')
  const list = await parts(c, 'aborted', id, [pattern(MIN_PART, 3)])
  await c.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'aborted', UploadId: id }))
  await rejects(t, complete(c, 'aborted', id, list), 'NoSuchUpload', 404)
})

t.test('the answer is kept a day, then swept by later completions', async t => {
  const { c, clock, db } = await setup(t)
  const ids: string[] = []
  const lists: CompletedPart[][] = []
  for (const key of ['a', 'b', 'c']) {
    const id = await start(c, key)
    const list = await parts(c, key, id, [pattern(MIN_PART, 4)])
    await complete(c, key, id, list)
    ids.push(id)
    lists.push(list)
  }
  clock.advance('23h')
  t.ok((await complete(c, 'a', ids[0]!, lists[0]!)).ETag, 'after 23 hours: still answered')
  clock.advance('1h')
  await rejects(t, complete(c, 'b', ids[1]!, lists[1]!), 'NoSuchUpload', 404, 'after a day: NoSuchUpload')
  const done = async (): Promise<number> => (await db.sublevel('done').keys().all()).length
  t.equal(await done(), 6, 'three records and their age entries, until a completion sweeps them')
  const id = await start(c, 'd')
  await complete(c, 'd', id, await parts(c, 'd', id, [pattern(MIN_PART, 5)]))
  t.equal(await done(), 2, 'the expired ones went with the next completion')
})

/** Send part 1 of an upload in two halves over one request; `between` runs after the first half is received. */
async function slowPart (s: Served, key: string, uploadId: string, body: Buffer, between: () => Promise<void>): Promise<string> {
  const path = `/mpu/${key}?partNumber=1&uploadId=${uploadId}`
  const signed = signV4(s.credentials, 'PUT', path, hostOf(s.server.url), { 'content-length': String(body.length) }, '', { payload: 'UNSIGNED-PAYLOAD' })
  const { hostname, port } = new URL(s.server.url)
  return await new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method: 'PUT', path, headers: signed.headers, agent: false }, res => {
      res.resume()
      res.on('end', () => { res.statusCode === 200 ? resolve(String(res.headers.etag)) : reject(new Error(`status ${res.statusCode}`)) })
    })
    req.on('error', reject)
    req.write(body.subarray(0, body.length / 2), () => {
      // Give the server time to take the first half in before the other upload runs.
      setTimeout(() => { between().then(() => req.end(body.subarray(body.length / 2)), reject) }, 50)
    })
  })
}

t.test('a part sent again while its first upload is in flight: the one that finishes last is the part', async t => {
  const { s, c } = await setup(t)
  const a = pattern(MIN_PART * 2, 6)
  const b = pattern(MIN_PART * 2, 7)

  t.test('listed in the order the answers came, the list completes with the later part', async t => {
    const id = await start(c, 'raced')
    let bEtag = ''
    const aEtag = await slowPart(s, 'raced', id, a, async () => {
      bEtag = (await c.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'raced', UploadId: id, PartNumber: 1, Body: b }))).ETag!
    })
    t.equal(aEtag, `"${md5Hex(a)}"`)
    const listed = await c.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'raced', UploadId: id }))
    t.same(listed.Parts?.map(p => p.ETag), [aEtag], 'the part that finished last replaced the other')
    const done = await complete(c, 'raced', id, [{ PartNumber: 1, ETag: bEtag }, { PartNumber: 1, ETag: aEtag }])
    t.match(done.ETag, /-1"$/, 'one part')
    const got = await c.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'raced' }))
    t.ok((await bodyBytes(got.Body)).equals(a), 'the object is the part that finished last')
  })

  t.test('a list whose later entry names the replaced part is InvalidPart; a number going down is InvalidPartOrder', async t => {
    const id = await start(c, 'stale')
    const [first] = await parts(c, 'stale', id, [a])
    const [second] = await parts(c, 'stale', id, [b])
    await rejects(t, complete(c, 'stale', id, [second!, first!]), 'InvalidPart', 400)
    const [two] = (await parts(c, 'stale', id, [a, a])).slice(1)
    await rejects(t, complete(c, 'stale', id, [two!, second!]), 'InvalidPartOrder', 400)
    t.ok((await complete(c, 'stale', id, [first!, { PartNumber: 1, ETag: `"${md5Hex(a)}"` }, two!])).ETag, 'the list naming what is stored completes')
  })
})
