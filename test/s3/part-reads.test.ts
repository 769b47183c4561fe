// GetObject and HeadObject with `partNumber`: one part of a multipart object, as the SDKs'
// parallel downloaders ask for it (a HEAD of part 1 for the count, then each part).
import t, { type Test } from 'tap'
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand,
  PutBucketEncryptionCommand, PutBucketVersioningCommand, PutObjectCommand, UploadPartCommand, type CompletedPart, type S3Client
} from '@aws-sdk/client-s3'
import { bodyBytes, serve, type Served } from './helpers.js'
import { pattern, rejects } from './sdk-helpers.js'
import { sendSigned } from './wire.js'

// Small parts over several chunks each, so that a part's bytes start and end inside chunks.
const OPEN = { memory: true as const, chunkSize: 64, minPartSize: 100 }
const SIZES = [250, 130, 77]

async function setup (t: Test): Promise<{ s: Served, c: S3Client }> {
  const s = await serve(t, { open: OPEN })
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'parts' }))
  return { s, c }
}

/** Upload `bodies` as parts `numbers` (default 1..n) and complete them; the object's ETag. */
async function multipart (c: S3Client, key: string, bodies: Buffer[], numbers = bodies.map((_, i) => i + 1), extra = {}): Promise<string> {
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key: key, ...extra }))
  const parts: CompletedPart[] = []
  for (const [i, body] of bodies.entries()) {
    const out = await c.send(new UploadPartCommand({ Bucket: 'parts', Key: key, UploadId, PartNumber: numbers[i], Body: body }))
    parts.push({ PartNumber: numbers[i], ETag: out.ETag! })
  }
  const done = await c.send(new CompleteMultipartUploadCommand({ Bucket: 'parts', Key: key, UploadId, MultipartUpload: { Parts: parts } }))
  return done.ETag!
}

t.test('each part of a multipart object, by GET and HEAD', async t => {
  const { c } = await setup(t)
  const bodies = SIZES.map((size, i) => pattern(size, 60 + i))
  const etag = await multipart(c, 'three', bodies)
  const total = SIZES.reduce((a, b) => a + b, 0)
  let start = 0
  for (const [i, body] of bodies.entries()) {
    const end = start + body.length - 1
    const got = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'three', PartNumber: i + 1 }))
    t.ok((await bodyBytes(got.Body)).equals(body), `part ${i + 1}: its bytes`)
    t.equal(got.$metadata.httpStatusCode, 206)
    t.equal(got.ContentRange, `bytes ${start}-${end}/${total}`)
    t.equal(got.ContentLength, body.length)
    t.equal(got.PartsCount, 3)
    t.equal(got.ETag, etag, 'the whole object\'s ETag')
    const head = await c.send(new HeadObjectCommand({ Bucket: 'parts', Key: 'three', PartNumber: i + 1 }))
    t.equal(head.$metadata.httpStatusCode, 206)
    t.same([head.ContentLength, head.ContentRange, head.PartsCount], [body.length, `bytes ${start}-${end}/${total}`, 3], `HEAD of part ${i + 1}`)
    start = end + 1
  }
  const plain = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'three' }))
  t.equal(plain.PartsCount, undefined, 'a read of the whole object does not count its parts')
  t.equal(plain.ContentLength, total)
})

t.test('a part number past the last part is 416 InvalidPartNumber', async t => {
  const { s, c } = await setup(t)
  await multipart(c, 'two', [pattern(100, 1), pattern(5, 2)])
  await rejects(t, c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: 3 })), 'InvalidPartNumber', 416)
  const raw = await sendSigned(s.server.url, s.credentials, 'GET', '/parts/two?partNumber=3')
  t.equal(raw.status, 416)
  t.match(raw.text, /<Code>InvalidPartNumber<\/Code><Message>The requested partnumber is not satisfiable<\/Message>/)
  t.match(raw.text, /<PartNumberRequested>3<\/PartNumberRequested><ActualPartCount>2<\/ActualPartCount>/)
  const head = await sendSigned(s.server.url, s.credentials, 'HEAD', '/parts/two?partNumber=3')
  t.same([head.status, head.body.length], [416, 0], 'HEAD: the status, no body')
})

t.test('part numbers outside 1..10000, or with a Range, are refused before anything is read', async t => {
  const { s, c } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'parts', Key: 'plain', Body: 'hello' }))
  for (const n of ['0', '10001', 'abc', '-1', '1.5', '']) {
    const reply = await sendSigned(s.server.url, s.credentials, 'GET', `/parts/plain?partNumber=${n}`)
    t.same([reply.status, reply.code], [400, 'InvalidArgument'], `partNumber=${n}`)
    t.match(reply.text, /Part number must be an integer between 1 and 10000, inclusive/)
  }
  const both = await sendSigned(s.server.url, s.credentials, 'GET', '/parts/plain?partNumber=1', { range: 'bytes=0-1' })
  t.same([both.status, both.code], [400, 'InvalidRequest'])
  t.match(both.text, /Cannot specify both Range header and partNumber query parameter/)
  await rejects(t, c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'missing', PartNumber: 1 })), 'NoSuchKey', 404)
})

t.test('any other object is its own part 1', async t => {
  const { c } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'parts', Key: 'plain', Body: 'hello' }))
  const got = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'plain', PartNumber: 1 }))
  t.equal(await got.Body!.transformToString(), 'hello')
  t.same([got.$metadata.httpStatusCode, got.ContentRange, got.PartsCount], [206, 'bytes 0-4/5', undefined], 'the whole object, no parts count')
  await rejects(t, c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'plain', PartNumber: 2 })), 'InvalidPartNumber', 416)

  await c.send(new PutObjectCommand({ Bucket: 'parts', Key: 'empty', Body: '' }))
  const empty = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'empty', PartNumber: 1 }))
  t.same([empty.$metadata.httpStatusCode, empty.ContentLength, empty.ContentRange], [200, 0, undefined], 'an empty object: no byte to name')

  // A copy of a multipart object is written whole: its ETag is a plain MD5 and it has one part.
  await multipart(c, 'source', [pattern(100, 3), pattern(30, 4)])
  await c.send(new CopyObjectCommand({ Bucket: 'parts', Key: 'copy', CopySource: 'parts/source' }))
  const copy = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'copy', PartNumber: 1 }))
  t.same([copy.ContentLength, copy.PartsCount], [130, undefined])
  await rejects(t, c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'copy', PartNumber: 2 })), 'InvalidPartNumber', 416)
})

t.test('parts completed with gaps in their numbers are read as first, second, third', async t => {
  const { c } = await setup(t)
  const bodies = [pattern(120, 7), pattern(110, 8), pattern(9, 9)]
  await multipart(c, 'gaps', bodies, [1, 3, 5])
  for (const [i, body] of bodies.entries()) {
    const got = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'gaps', PartNumber: i + 1 }))
    t.ok((await bodyBytes(got.Body)).equals(body), `part ${i + 1} is the ${i + 1}th part listed`)
    t.equal(got.PartsCount, 3)
  }
  await rejects(t, c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'gaps', PartNumber: 4 })), 'InvalidPartNumber', 416)
})

t.test('conditions, versions and encryption apply to part reads as to any read', async t => {
  const { c } = await setup(t)
  await c.send(new PutBucketVersioningCommand({ Bucket: 'parts', VersioningConfiguration: { Status: 'Enabled' } }))
  await c.send(new PutBucketEncryptionCommand({
    Bucket: 'parts', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] }
  }))
  const old = [pattern(200, 11), pattern(50, 12)]
  const etag = await multipart(c, 'kept', old)
  const first = await c.send(new HeadObjectCommand({ Bucket: 'parts', Key: 'kept' }))
  await c.send(new PutObjectCommand({ Bucket: 'parts', Key: 'kept', Body: 'newer' }))

  const part = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'kept', VersionId: first.VersionId, PartNumber: 2 }))
  t.ok((await bodyBytes(part.Body)).equals(old[1]!), 'part 2 of the older version, decrypted')
  t.same([part.PartsCount, part.VersionId, part.ServerSideEncryption], [2, first.VersionId, 'AES256'])
  await rejects(t, c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'kept', VersionId: first.VersionId, PartNumber: 1, IfNoneMatch: etag })), null, 304)
  await rejects(t, c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'kept', VersionId: first.VersionId, PartNumber: 1, IfMatch: '"0"' })), 'PreconditionFailed', 412)
  await rejects(t, c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'kept', PartNumber: 2 })), 'InvalidPartNumber', 416, 'the current version is not multipart')
})

t.test('with response checksum validation on, a part read is not checked against the whole object\'s checksum', async t => {
  const { c } = await setup(t)
  const bodies = [pattern(150, 21), pattern(40, 22)]
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key: 'crc', ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' }))
  const parts: CompletedPart[] = []
  for (const [i, body] of bodies.entries()) {
    const out = await c.send(new UploadPartCommand({ Bucket: 'parts', Key: 'crc', UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: 'CRC32' }))
    parts.push({ PartNumber: i + 1, ETag: out.ETag!, ChecksumCRC32: out.ChecksumCRC32! })
  }
  await c.send(new CompleteMultipartUploadCommand({ Bucket: 'parts', Key: 'crc', UploadId, MultipartUpload: { Parts: parts } }))
  const got = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'crc', PartNumber: 2, ChecksumMode: 'ENABLED' }))
  t.ok((await bodyBytes(got.Body)).equals(bodies[1]!))
  t.equal(got.ChecksumCRC32, undefined, 'no checksum of the whole object on a part')
})
