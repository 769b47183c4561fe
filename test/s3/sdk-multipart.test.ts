import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand, UploadPartCommand, UploadPartCopyCommand,
  type CompletedPart, type S3Client
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { bodyBytes, serve, type Served } from './helpers.js'
import { checksum, md5Hex, pattern, rejects, stored, watch } from './sdk-helpers.js'

const MiB = 1024 * 1024
const PART = 5 * MiB

/** S3's multipart ETag: MD5 of the parts' binary MD5s, then '-' and the part count. */
function multipartEtag (parts: Buffer[]): string {
  const digests = Buffer.concat(parts.map(p => createHash('md5').update(p).digest()))
  return `"${md5Hex(digests)}-${parts.length}"`
}

async function setup (t: Test): Promise<{ s: Served, c: S3Client }> {
  const s = await serve(t)
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'mpu' }))
  return { s, c }
}

async function create (c: S3Client, key: string, extra: Partial<ConstructorParameters<typeof CreateMultipartUploadCommand>[0]> = {}): Promise<string> {
  const out = await c.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: key, ...extra }))
  return out.UploadId!
}

async function part (c: S3Client, key: string, uploadId: string, partNumber: number, body: Buffer): Promise<CompletedPart> {
  const out = await c.send(new UploadPartCommand({ Bucket: 'mpu', Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body }))
  return { PartNumber: partNumber, ETag: out.ETag! }
}

async function complete (c: S3Client, key: string, uploadId: string, parts: CompletedPart[]) {
  return await c.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }))
}

t.test('lib-storage Upload of a 12 MiB stream in 5 MiB parts, under the SDK defaults', async t => {
  const { s, c } = await setup(t)
  const seen = watch(s)
  const data = pattern(12 * MiB + 12345, 21)
  // Uneven pieces, as a file or socket would deliver them.
  const pieces: Buffer[] = []
  for (let at = 0; at < data.length; at += 777_777) pieces.push(data.subarray(at, at + 777_777))
  const upload = new Upload({
    client: c,
    params: { Bucket: 'mpu', Key: 'big/upload.bin', Body: Readable.from(pieces), ContentType: 'application/x-test', Metadata: { who: 'lib-storage' } },
    partSize: PART,
    queueSize: 2
  })
  const out = await upload.done()
  const parts = [data.subarray(0, PART), data.subarray(PART, 2 * PART), data.subarray(2 * PART)]
  t.equal(out.ETag, multipartEtag(parts))
  t.match(out.ETag, /-3"$/)
  const uploads = seen.filter(r => r.url.includes('partNumber='))
  t.equal(uploads.length, 3, 'three UploadPart requests')
  t.ok(uploads.every(r => r.headers['x-amz-checksum-crc32'] !== undefined || r.headers['x-amz-trailer'] !== undefined), 'each part carried a CRC32')
  const got = await c.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big/upload.bin', ChecksumMode: 'ENABLED' }))
  t.equal(got.ETag, out.ETag)
  t.equal(got.ContentLength, data.length)
  t.equal(got.ContentType, 'application/x-test', 'headers from CreateMultipartUpload')
  t.same(got.Metadata, { who: 'lib-storage' })
  t.ok((await bodyBytes(got.Body)).equals(data), 'the bytes are the same')
  const listed = await c.send(new ListMultipartUploadsCommand({ Bucket: 'mpu' }))
  t.same(listed.Uploads ?? [], [], 'no upload left behind')
})

t.test('lib-storage Upload of a body under one part is a single PutObject', async t => {
  const { s, c } = await setup(t)
  const seen = watch(s)
  const data = pattern(100_000, 4)
  const out = await new Upload({ client: c, params: { Bucket: 'mpu', Key: 'small', Body: data } }).done()
  t.equal(out.ETag, `"${md5Hex(data)}"`)
  t.notOk(seen.some(r => r.url.includes('uploads')), 'no multipart upload')
  t.ok((await s.box.headObject('mpu', 'small')).size === data.length)
})

t.test('explicit multipart uploads', async t => {
  const { s, c } = await setup(t)
  const big = pattern(PART, 31)
  const big2 = pattern(PART, 32)
  const tail = Buffer.from('the tail')

  t.test('parts 1, 3 and 5 (gaps allowed) complete to their concatenation', async t => {
    const id = await create(c, 'gaps')
    const parts = [await part(c, 'gaps', id, 1, big), await part(c, 'gaps', id, 3, big2), await part(c, 'gaps', id, 5, tail)]
    t.equal(parts[0]!.ETag, `"${md5Hex(big)}"`, 'a part ETag is its MD5')
    const out = await complete(c, 'gaps', id, parts)
    t.equal(out.ETag, multipartEtag([big, big2, tail]))
    t.equal(out.Key, 'gaps')
    t.equal(out.Bucket, 'mpu')
    t.match(out.Location, /\/mpu\/gaps$/)
    const got = await c.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'gaps' }))
    t.ok((await bodyBytes(got.Body)).equals(Buffer.concat([big, big2, tail])))
  })

  t.test('parts listed without quotes on their ETags are accepted', async t => {
    const id = await create(c, 'unquoted')
    const p = await part(c, 'unquoted', id, 1, tail)
    const out = await complete(c, 'unquoted', id, [{ PartNumber: 1, ETag: p.ETag!.slice(1, -1) }])
    t.equal(out.ETag, multipartEtag([tail]))
  })

  t.test('a part under 5 MiB that is not the last is 400 EntityTooSmall; nothing is stored', async t => {
    const id = await create(c, 'small')
    const parts = [await part(c, 'small', id, 1, tail), await part(c, 'small', id, 2, tail)]
    await rejects(t, complete(c, 'small', id, parts), 'EntityTooSmall', 400)
    t.notOk(await stored(s, 'mpu', 'small'))
    await c.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'small', UploadId: id }))
  })

  t.test('a wrong part ETag is 400 InvalidPart, as is a part never uploaded', async t => {
    const id = await create(c, 'wrong')
    const p = await part(c, 'wrong', id, 1, tail)
    await rejects(t, complete(c, 'wrong', id, [{ PartNumber: 1, ETag: `"${md5Hex(Buffer.from('other'))}"` }]), 'InvalidPart', 400)
    await rejects(t, complete(c, 'wrong', id, [p, { PartNumber: 2, ETag: p.ETag! }]), 'InvalidPart', 400, 'missing part')
    t.notOk(await stored(s, 'mpu', 'wrong'))
    t.equal((await complete(c, 'wrong', id, [p])).ETag, multipartEtag([tail]), 'the upload survives the failed attempts')
  })

  t.test('parts out of order are 400 InvalidPartOrder', async t => {
    const id = await create(c, 'order')
    const parts = [await part(c, 'order', id, 1, big), await part(c, 'order', id, 2, tail)]
    await rejects(t, complete(c, 'order', id, [parts[1]!, parts[0]!]), 'InvalidPartOrder', 400)
    await rejects(t, complete(c, 'order', id, [parts[0]!, { PartNumber: 1, ETag: parts[1]!.ETag! }]), 'InvalidPart', 400, 'a number listed twice: the later entry must be the part')
    t.notOk(await stored(s, 'mpu', 'order'))
    await c.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'order', UploadId: id }))
  })

  t.test('a part re-uploaded under the same number replaces the first', async t => {
    const id = await create(c, 'again')
    await part(c, 'again', id, 1, Buffer.from('first'))
    const second = await part(c, 'again', id, 1, tail)
    const out = await complete(c, 'again', id, [second])
    t.equal(out.ETag, multipartEtag([tail]))
  })

  t.test('part numbers outside 1..10000 are 400 InvalidArgument', async t => {
    const id = await create(c, 'range')
    await rejects(t, c.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'range', UploadId: id, PartNumber: 10001, Body: tail })), 'InvalidArgument', 400)
    await c.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'range', UploadId: id }))
  })

  t.test('after Abort the upload is NoSuchUpload, and nothing is stored', async t => {
    const id = await create(c, 'aborted')
    await part(c, 'aborted', id, 1, tail)
    const out = await c.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'aborted', UploadId: id }))
    t.equal(out.$metadata.httpStatusCode, 204)
    await rejects(t, c.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'aborted', UploadId: id })), 'NoSuchUpload', 404, 'ListParts')
    await rejects(t, c.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'aborted', UploadId: id, PartNumber: 2, Body: tail })), 'NoSuchUpload', 404, 'UploadPart')
    await rejects(t, complete(c, 'aborted', id, [{ PartNumber: 1, ETag: `"${md5Hex(tail)}"` }]), 'NoSuchUpload', 404, 'Complete')
    await rejects(t, c.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'aborted', UploadId: id })), 'NoSuchUpload', 404, 'Abort again')
    t.notOk(await stored(s, 'mpu', 'aborted'))
  })

  t.test('If-None-Match * on Complete is 412 when the key exists', async t => {
    await s.box.putObject('mpu', 'exists', 'x')
    const id = await create(c, 'exists')
    const p = await part(c, 'exists', id, 1, tail)
    await rejects(t, c.send(new CompleteMultipartUploadCommand({
      Bucket: 'mpu', Key: 'exists', UploadId: id, MultipartUpload: { Parts: [p] }, IfNoneMatch: '*'
    })), 'PreconditionFailed', 412)
    t.equal((await s.box.headObject('mpu', 'exists')).size, 1, 'the old object stands')
  })
})

t.test('ListParts and ListMultipartUploads', async t => {
  const { c } = await setup(t)
  const a1 = await create(c, 'dir/a')
  const a2 = await create(c, 'dir/a')
  const b = await create(c, 'dir/sub/b')
  const z = await create(c, 'z', { ChecksumAlgorithm: 'SHA256' })
  const bodies = [Buffer.from('one'), Buffer.from('three!'), Buffer.from('four')]
  await part(c, 'dir/a', a1, 1, bodies[0]!)
  await part(c, 'dir/a', a1, 3, bodies[1]!)
  await part(c, 'dir/a', a1, 4, bodies[2]!)

  t.test('ListParts lists each part with its number, ETag and size', async t => {
    const out = await c.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'dir/a', UploadId: a1 }))
    t.same(out.Parts?.map(p => p.PartNumber), [1, 3, 4])
    t.same(out.Parts?.map(p => p.ETag), bodies.map(b => `"${md5Hex(b)}"`))
    t.same(out.Parts?.map(p => p.Size), [3, 6, 4])
    t.same(out.Parts?.map(p => p.ChecksumCRC32), bodies.map(b => checksum('CRC32', b)), 'with the CRC32s the SDK sent')
    t.ok(out.Parts?.every(p => p.LastModified instanceof Date))
    t.equal(out.UploadId, a1)
    t.equal(out.IsTruncated, false)
    t.equal(out.StorageClass, 'STANDARD')
  })

  t.test('ListParts pages with MaxParts and PartNumberMarker', async t => {
    const first = await c.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'dir/a', UploadId: a1, MaxParts: 2 }))
    t.same(first.Parts?.map(p => p.PartNumber), [1, 3])
    t.equal(first.IsTruncated, true)
    t.equal(first.NextPartNumberMarker, '3')
    const second = await c.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'dir/a', UploadId: a1, PartNumberMarker: first.NextPartNumberMarker }))
    t.same(second.Parts?.map(p => p.PartNumber), [4])
    t.equal(second.IsTruncated, false)
  })

  t.test('ListMultipartUploads lists uploads by key, then by initiation', async t => {
    const out = await c.send(new ListMultipartUploadsCommand({ Bucket: 'mpu' }))
    t.same(out.Uploads?.map(u => [u.Key, u.UploadId]), [['dir/a', a1], ['dir/a', a2], ['dir/sub/b', b], ['z', z]])
    t.ok(out.Uploads?.every(u => u.Initiated instanceof Date))
    t.equal(out.Uploads?.[3]?.ChecksumAlgorithm, 'SHA256')
  })

  t.test('ListMultipartUploads with a prefix and delimiter', async t => {
    const out = await c.send(new ListMultipartUploadsCommand({ Bucket: 'mpu', Prefix: 'dir/', Delimiter: '/' }))
    t.same(out.Uploads?.map(u => u.Key), ['dir/a', 'dir/a'])
    t.same(out.CommonPrefixes?.map(p => p.Prefix), ['dir/sub/'])
  })

  t.test('ListMultipartUploads pages with MaxUploads and the key and upload-id markers', async t => {
    const first = await c.send(new ListMultipartUploadsCommand({ Bucket: 'mpu', MaxUploads: 1 }))
    t.equal(first.IsTruncated, true)
    t.equal(first.NextKeyMarker, 'dir/a')
    t.equal(first.NextUploadIdMarker, a1)
    const second = await c.send(new ListMultipartUploadsCommand({ Bucket: 'mpu', MaxUploads: 2, KeyMarker: first.NextKeyMarker, UploadIdMarker: first.NextUploadIdMarker }))
    t.same(second.Uploads?.map(u => u.UploadId), [a2, b])
  })

  t.test('in-progress uploads are not objects', async t => {
    const listed = await c.send(new ListObjectsV2Command({ Bucket: 'mpu' }))
    t.equal(listed.KeyCount, 0)
  })
})

t.test('UploadPartCopy copies a byte range of an object as a part', async t => {
  const { s, c } = await setup(t)
  const source = pattern(PART + 1000, 41)
  await s.box.putObject('mpu', 'source object+1', source)
  const id = await create(c, 'assembled')
  const first = await c.send(new UploadPartCopyCommand({
    Bucket: 'mpu', Key: 'assembled', UploadId: id, PartNumber: 1, CopySource: 'mpu/source%20object%2B1', CopySourceRange: `bytes=0-${PART - 1}`
  }))
  t.equal(first.CopyPartResult?.ETag, `"${md5Hex(source.subarray(0, PART))}"`)
  t.ok(first.CopyPartResult?.LastModified instanceof Date)
  const second = await c.send(new UploadPartCopyCommand({
    Bucket: 'mpu', Key: 'assembled', UploadId: id, PartNumber: 2, CopySource: '/mpu/source%20object%2B1', CopySourceRange: `bytes=${PART}-${PART + 999}`
  }))
  const whole = await c.send(new UploadPartCopyCommand({ Bucket: 'mpu', Key: 'assembled', UploadId: id, PartNumber: 3, CopySource: 'mpu/source%20object%2B1' }))
  t.equal(whole.CopyPartResult?.ETag, `"${md5Hex(source)}"`, 'without a range, the whole object')
  for (const range of [`bytes=0-${PART + 1000}`, `bytes=${PART + 1000}-${PART + 1001}`]) {
    await rejects(t, c.send(new UploadPartCopyCommand({
      Bucket: 'mpu', Key: 'assembled', UploadId: id, PartNumber: 4, CopySource: 'mpu/source%20object%2B1', CopySourceRange: range
    })), 'InvalidRange', 416, `${range}: past the end of the source`)
  }
  for (const range of ['bytes=10-', 'bytes=-10', 'bytes=10-5', '0-10', 'bytes=0-1,3-4']) {
    await rejects(t, c.send(new UploadPartCopyCommand({
      Bucket: 'mpu', Key: 'assembled', UploadId: id, PartNumber: 4, CopySource: 'mpu/source%20object%2B1', CopySourceRange: range
    })), 'InvalidArgument', 400, `${range}: not bytes=first-last`)
  }
  await rejects(t, c.send(new UploadPartCopyCommand({
    Bucket: 'mpu', Key: 'assembled', UploadId: id, PartNumber: 4, CopySource: 'mpu/source%20object%2B1', CopySourceIfMatch: '"0000"'
  })), 'PreconditionFailed', 412, 'a failing copy-source condition')
  const out = await complete(c, 'assembled', id, [
    { PartNumber: 1, ETag: first.CopyPartResult!.ETag! },
    { PartNumber: 2, ETag: second.CopyPartResult!.ETag! }
  ])
  t.equal(out.ETag, multipartEtag([source.subarray(0, PART), source.subarray(PART)]))
  const got = await c.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'assembled' }))
  t.ok((await bodyBytes(got.Body)).equals(source))
})

t.test('checksums of multipart uploads', async t => {
  const { c } = await setup(t)
  const parts = [pattern(PART, 51), pattern(PART, 52), Buffer.from('last part')]

  t.test('CRC32 declared on Create: Complete returns the composite CRC32 with -N', async t => {
    const id = await create(c, 'composite', { ChecksumAlgorithm: 'CRC32' })
    const done: CompletedPart[] = []
    for (const [i, body] of parts.entries()) {
      const out = await c.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'composite', UploadId: id, PartNumber: i + 1, Body: body, ChecksumAlgorithm: 'CRC32' }))
      t.equal(out.ChecksumCRC32, checksum('CRC32', body), `part ${i + 1} CRC32 echoed`)
      done.push({ PartNumber: i + 1, ETag: out.ETag!, ChecksumCRC32: out.ChecksumCRC32! })
    }
    const out = await complete(c, 'composite', id, done)
    const raw = Buffer.concat(parts.map(p => Buffer.from(checksum('CRC32', p), 'base64')))
    t.equal(out.ChecksumCRC32, `${checksum('CRC32', raw)}-3`)
    t.equal(out.ChecksumType, 'COMPOSITE')
    // The SDK skips validating a composite value (it ends in -N); the body must still be whole.
    const got = await c.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'composite', ChecksumMode: 'ENABLED' }))
    t.equal(got.ChecksumCRC32, out.ChecksumCRC32)
    t.equal(got.ChecksumType, 'COMPOSITE')
    t.ok((await bodyBytes(got.Body)).equals(Buffer.concat(parts)))
  })

  t.test('a part checksum in Complete that differs from the uploaded part\'s is 400 InvalidPart', async t => {
    const id = await create(c, 'badsum', { ChecksumAlgorithm: 'CRC32' })
    const out = await c.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'badsum', UploadId: id, PartNumber: 1, Body: parts[2]!, ChecksumAlgorithm: 'CRC32' }))
    await rejects(t, complete(c, 'badsum', id, [{ PartNumber: 1, ETag: out.ETag!, ChecksumCRC32: 'AAAAAA==' }]), 'InvalidPart', 400)
  })

  t.test('FULL_OBJECT CRC64NVME: Complete returns the whole object\'s CRC64NVME, which GetObject validates', async t => {
    const id = await create(c, 'full', { ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'FULL_OBJECT' })
    const done: CompletedPart[] = []
    for (const [i, body] of parts.entries()) {
      const out = await c.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'full', UploadId: id, PartNumber: i + 1, Body: body, ChecksumAlgorithm: 'CRC64NVME' }))
      t.equal(out.ChecksumCRC64NVME, checksum('CRC64NVME', body), `part ${i + 1} CRC64NVME echoed`)
      done.push({ PartNumber: i + 1, ETag: out.ETag!, ChecksumCRC64NVME: out.ChecksumCRC64NVME! })
    }
    const out = await complete(c, 'full', id, done)
    const whole = Buffer.concat(parts)
    t.equal(out.ChecksumCRC64NVME, checksum('CRC64NVME', whole))
    t.equal(out.ChecksumType, 'FULL_OBJECT')
    const head = await c.send(new HeadObjectCommand({ Bucket: 'mpu', Key: 'full', ChecksumMode: 'ENABLED' }))
    t.equal(head.ChecksumCRC64NVME, checksum('CRC64NVME', whole))
    const got = await c.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'full', ChecksumMode: 'ENABLED' }))
    t.ok((await bodyBytes(got.Body)).equals(whole), 'validated by the SDK as it was read')
  })

  t.test('FULL_OBJECT CRC32 through lib-storage with ChecksumAlgorithm set', async t => {
    const data = Buffer.concat(parts)
    const out = await new Upload({
      client: c, partSize: PART, params: { Bucket: 'mpu', Key: 'lib-crc32', Body: Readable.from([data]), ChecksumAlgorithm: 'CRC32' }
    }).done()
    t.match(out.ETag, /-3"$/)
    const got = await c.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'lib-crc32', ChecksumMode: 'ENABLED' }))
    t.ok((await bodyBytes(got.Body)).equals(data))
  })
})
