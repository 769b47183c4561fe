import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { Client, CopyConditions, CopyDestinationOptions, CopySourceOptions, S3Error as MinioS3Error, type BucketItem, type BucketStream } from 'minio'
import { bodyBytes, serve, type Served } from './helpers.js'

const MiB = 1024 * 1024

function minio (s: Served, options: { region?: string, partSize?: number } = {}): Client {
  return new Client({
    endPoint: '127.0.0.1',
    port: s.server.port,
    useSSL: false,
    accessKey: s.credentials.accessKeyId,
    secretKey: s.credentials.secretAccessKey,
    ...options
  })
}

async function collect<T> (stream: BucketStream<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of stream as AsyncIterable<T>) items.push(item)
  return items
}

const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex')

t.test('minio-js without a region probes ?location and then works the bucket', async t => {
  const s = await serve(t)
  const c = minio(s)
  const seen: string[] = []
  const spy = await serve(t, { server: { onExchange: e => seen.push(`${e.operation ?? '-'} ${e.status}`) } })
  const probing = minio(spy)
  await probing.makeBucket('probe')
  t.ok(await probing.bucketExists('probe'))
  t.ok(seen.includes('GetBucketLocation 200'), `saw ${seen.join(', ')}`)

  await c.makeBucket('plain')
  t.ok(await c.bucketExists('plain'))
  t.notOk(await c.bucketExists('absent'))
  t.equal((await s.box.headBucket('plain')).region, 'us-east-1')
})

t.test('makeBucket with region nyc3 creates the bucket there (spaces profile)', async t => {
  const s = await serve(t, { server: { profile: 'spaces' } })
  await minio(s, { region: 'nyc3' }).makeBucket('spaces', 'nyc3')
  t.equal((await s.box.headBucket('spaces')).region, 'nyc3')
  await minio(s).makeBucket('spaces2', 'nyc3')
  t.equal((await s.box.headBucket('spaces2')).region, 'nyc3')
  await t.rejects(minio(s).makeBucket('spaces2', 'nyc3'), { code: 'BucketAlreadyOwnedByYou' })
})

t.test('objects round-trip through minio-js', async t => {
  const s = await serve(t)
  const c = minio(s, { partSize: 5 * MiB })
  await c.makeBucket('objs')
  const dir = t.testdir({})

  t.test('putObject stores strings, Buffers with metadata, and streams', async t => {
    const text = await c.putObject('objs', 'text.txt', 'hello minio')
    t.equal(text.etag, md5('hello minio'))
    const buf = randomBytes(300 * 1024)
    await c.putObject('objs', 'dir/buffer.bin', buf, buf.length, { 'Content-Type': 'application/x-test', 'X-Amz-Meta-Color': 'blue' })
    const stat = await c.statObject('objs', 'dir/buffer.bin')
    t.equal(stat.size, buf.length)
    t.equal(stat.etag, md5(buf))
    t.equal(stat.metaData['content-type'], 'application/x-test')
    t.equal(stat.metaData.color, 'blue')
    await c.putObject('objs', 'dir/small-stream', Readable.from([Buffer.from('a'), Buffer.from('b')]), 2)
    t.equal((await s.box.headObject('objs', 'dir/small-stream')).size, 2)
  })

  t.test('a 7 MiB stream with partSize 5 MiB goes multipart and reads back intact', async t => {
    const data = randomBytes(7 * MiB)
    const pieces = Array.from({ length: 7 }, (_, i) => data.subarray(i * MiB, (i + 1) * MiB))
    const result = await c.putObject('objs', 'big.bin', Readable.from(pieces), data.length)
    t.match(result.etag, /-2$/, 'a two-part multipart ETag')
    const info = await s.box.headObject('objs', 'big.bin')
    t.equal(info.size, data.length)
    const file = join(dir, 'big.bin')
    await c.fGetObject('objs', 'big.bin', file)
    t.ok((await readFile(file)).equals(data), 'fGetObject wrote the same bytes')
    t.ok((await bodyBytes(await c.getObject('objs', 'big.bin'))).equals(data), 'getObject streams the same bytes')
    const partial = await bodyBytes(await c.getPartialObject('objs', 'big.bin', 5 * MiB - 10, 20))
    t.ok(partial.equals(data.subarray(5 * MiB - 10, 5 * MiB + 10)), 'a range across the part boundary')
    const tail = await bodyBytes(await c.getPartialObject('objs', 'big.bin', data.length - 7))
    t.ok(tail.equals(data.subarray(data.length - 7)), 'an open-ended range')
  })

  t.test('listObjects and listObjectsV2 stream names with encoding-type=url decoded back', async t => {
    const odd = 'dir/odd name+plus&amp%25é.txt'
    await c.putObject('objs', odd, 'odd')
    const v1 = await collect(c.listObjects('objs', '', true))
    const names = v1.map(o => o.name)
    t.ok(names.includes(odd), 'v1 returns the odd key as stored')
    t.ok(names.includes('big.bin'))
    const v2 = await collect(c.listObjectsV2('objs', 'dir/', true))
    t.same(v2.map(o => o.name).sort(), ['dir/buffer.bin', odd, 'dir/small-stream'].sort())
    const top = await collect(c.listObjectsV2('objs', '', false)) as BucketItem[]
    t.same(top.filter(o => o.prefix !== undefined).map(o => o.prefix), ['dir/'], 'a common prefix without recursion')
    const got = await bodyBytes(await c.getObject('objs', odd))
    t.equal(got.toString(), 'odd')
  })

  t.test('copyObject copies, in both call forms, and honours its conditions', async t => {
    const conditions = new CopyConditions()
    conditions.setMatchETag(md5('hello minio'))
    const copied = await c.copyObject('objs', 'copy.txt', '/objs/text.txt', conditions)
    t.ok(copied)
    t.equal((await bodyBytes(await c.getObject('objs', 'copy.txt'))).toString(), 'hello minio')
    await c.copyObject(new CopySourceOptions({ Bucket: 'objs', Object: 'text.txt' }), new CopyDestinationOptions({ Bucket: 'objs', Object: 'copy2.txt' }))
    t.equal((await s.box.headObject('objs', 'copy2.txt')).size, 11)
    const wrong = new CopyConditions()
    wrong.setMatchETag('0123456789abcdef0123456789abcdef')
    await t.rejects(c.copyObject('objs', 'copy3.txt', '/objs/text.txt', wrong), { code: 'PreconditionFailed' })
    await t.rejects(s.box.headObject('objs', 'copy3.txt'), { code: 'NoSuchKey' })
  })

  t.test('statObject of a missing key is NotFound', async t => {
    await t.rejects(c.statObject('objs', 'nope'), { code: 'NotFound' })
  })

  t.test('removeObject and removeObjects (Content-MD5) delete', async t => {
    await c.removeObject('objs', 'copy.txt')
    await t.rejects(s.box.headObject('objs', 'copy.txt'), { code: 'NoSuchKey' })
    const errors = await c.removeObjects('objs', ['copy2.txt', 'dir/small-stream', 'never-was'])
    // minio-js resolves with the DeleteResult's <Error> entries, flattened (its types say otherwise).
    t.same(errors, [], 'no per-key errors')
    await t.rejects(s.box.headObject('objs', 'copy2.txt'), { code: 'NoSuchKey' })
    await t.rejects(s.box.headObject('objs', 'dir/small-stream'), { code: 'NoSuchKey' })
    await s.box.putObject('objs', 'kept', 'x')
    const reader = await s.keyed([{ bucket: 'objs', permission: 'read' }])
    const readOnly = new Client({ endPoint: '127.0.0.1', port: s.server.port, useSSL: false, accessKey: reader.accessKeyId, secretKey: reader.secretAccessKey })
    const denied = await readOnly.removeObjects('objs', ['kept'])
    t.same(denied as unknown, [{ Key: 'kept', Code: 'AccessDenied', Message: 'Access Denied' }], 'a per-key AccessDenied for a read-only key')
    t.ok(await s.box.headObject('objs', 'kept'))
  })

  t.test('presigned GET and PUT URLs work with fetch', async t => {
    const put = await c.presignedPutObject('objs', 'dir/presigned.txt', 60)
    const res = await fetch(put, { method: 'PUT', body: 'through a URL' })
    t.equal(res.status, 200)
    t.equal((await s.box.headObject('objs', 'dir/presigned.txt')).size, 13)
    const get = await c.presignedGetObject('objs', 'dir/presigned.txt', 60, { 'response-content-type': 'text/x-override' })
    const got = await fetch(get)
    t.equal(got.status, 200)
    t.equal(got.headers.get('content-type'), 'text/x-override')
    t.equal(await got.text(), 'through a URL')
    const expired = await c.presignedGetObject('objs', 'dir/presigned.txt', 1, {}, new Date(Date.now() - 60_000))
    t.equal((await fetch(expired)).status, 403)
  })

  t.test('listIncompleteUploads shows uploads in progress with their sizes', async t => {
    const upload = await s.box.createMultipartUpload('objs', 'pending/file.bin')
    await s.box.uploadPart('objs', 'pending/file.bin', upload.uploadId, 1, Buffer.alloc(1000))
    const uploads = await collect(c.listIncompleteUploads('objs', 'pending/', true))
    t.equal(uploads.length, 1)
    t.match(uploads[0], { key: 'pending/file.bin', uploadId: upload.uploadId, size: 1000 })
  })

  t.test('errors come back as minio S3Errors with the S3 code', async t => {
    const err = await c.getObject('objs', 'missing').catch((e: unknown) => e)
    t.ok(err instanceof MinioS3Error)
    t.match(err, { code: 'NoSuchKey' })
    const wrongSecret = new Client({ endPoint: '127.0.0.1', port: s.server.port, useSSL: false, accessKey: s.credentials.accessKeyId, secretKey: 'wrong', region: 'us-east-1' })
    await t.rejects(wrongSecret.getObject('objs', 'text.txt'), { code: 'SignatureDoesNotMatch' })
  })
})
