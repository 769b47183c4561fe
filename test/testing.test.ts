import t from 'tap'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  CreateMultipartUploadCommand, GetBucketEncryptionCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client, UploadPartCommand,
  CompleteMultipartUploadCommand, ListObjectsV2Command, HeadBucketCommand, HeadObjectCommand
} from '@aws-sdk/client-s3'
import { Client as Minio } from 'minio'
import { startTestServer } from '../lib/testing/index.js'
import { bodyBytes } from './s3/helpers.js'
import { tempDir } from './helpers.js'

t.test('startTestServer() serves its buckets and seed to an SDK client built from client()', async t => {
  const started = performance.now()
  await using s3 = await startTestServer({ buckets: ['aaa', 'bbb'], seed: { 'aaa/x.txt': 'hello', 'ccc/deep/y.bin': new Uint8Array([1, 2, 3]) } })
  const client = new S3Client(s3.client())
  t.teardown(() => client.destroy())
  await client.send(new PutObjectCommand({ Bucket: 'bbb', Key: 'first', Body: 'put' }))
  t.comment(`start to first PutObject: ${(performance.now() - started).toFixed(1)} ms`)
  const buckets = await client.send(new ListBucketsCommand({}))
  t.same(buckets.Buckets?.map(b => b.Name), ['aaa', 'bbb', 'ccc'])
  const got = await client.send(new GetObjectCommand({ Bucket: 'aaa', Key: 'x.txt' }))
  t.equal((await bodyBytes(got.Body)).toString(), 'hello')
  t.equal(got.ContentType, 'text/plain')
  const deep = await s3.box.getObject('ccc', 'deep/y.bin')
  t.same([...await bodyBytes(deep.body)], [1, 2, 3])
  t.match(s3.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.equal(s3.region, 'us-east-1')
  t.same(s3.box.keys.list().map(k => k.name), ['spacebox-testing'], 'the one key is the fixture\'s own')
})

t.test('the minio() configuration works with minio-js', async t => {
  await using s3 = await startTestServer({ buckets: ['mmm'] })
  const minio = new Minio(s3.minio())
  await minio.putObject('mmm', 'k', Buffer.from('via minio'))
  const stream = await minio.getObject('mmm', 'k')
  t.equal((await bodyBytes(stream)).toString(), 'via minio')
})

t.test('seed from a directory: folders are buckets, files below them objects', async t => {
  const dir = await tempDir(t)
  await mkdir(join(dir, 'photos', '2024'), { recursive: true })
  await writeFile(join(dir, 'photos', '2024', 'cat.jpg'), 'meow')
  await writeFile(join(dir, 'photos', 'index.html'), '<p>')
  await using s3 = await startTestServer({ seed: dir })
  const page = await s3.box.listObjectsV2('photos')
  t.same(page.contents.map(o => o.key), ['2024/cat.jpg', 'index.html'])
})

t.test('reset() brings back the starting state and nothing else', async t => {
  await using s3 = await startTestServer({ buckets: ['keep'], seed: { 'keep/seeded': 'v1' } })
  const client = new S3Client(s3.client())
  t.teardown(() => client.destroy())
  await client.send(new PutObjectCommand({ Bucket: 'keep', Key: 'seeded', Body: 'changed' }))
  await client.send(new PutObjectCommand({ Bucket: 'keep', Key: 'extra', Body: 'x' }))
  await s3.box.createBucket('other')
  await s3.box.createMultipartUpload('other', 'big')
  await s3.box.putBucketVersioning('keep', 'Enabled')
  await s3.box.putObject('keep', 'extra', 'y')
  await s3.box.deleteObject('keep', 'extra')
  await s3.box.keys.create({ name: 'made-in-test', grants: [] })
  s3.faults.add({ operation: 'GetObject', error: 'InternalError' })
  const before = performance.now()
  await s3.reset()
  t.comment(`reset: ${(performance.now() - before).toFixed(1)} ms`)
  t.same((await s3.box.listBuckets()).map(b => b.name), ['keep'])
  t.same((await s3.box.listObjectsV2('keep')).contents.map(o => o.key), ['seeded'])
  t.same((await s3.box.listObjectVersions('keep')).versions.map(v => [v.key, v.versionId]), [['seeded', 'null']], 'versions and delete markers went too')
  t.same(await s3.box.getBucketVersioning('keep'), {}, 'the bucket was made anew')
  const got = await client.send(new GetObjectCommand({ Bucket: 'keep', Key: 'seeded' }))
  t.equal((await bodyBytes(got.Body)).toString(), 'v1', 'faults were cleared and the seed restored')
  t.same(s3.box.keys.list().map(k => k.name), ['spacebox-testing'])
  t.equal(s3.requests().length, 1, 'the journal holds only what came after reset')
})

t.test('the AWS SDK retries through SlowDown faults and succeeds', async t => {
  await using s3 = await startTestServer({ buckets: ['rrr'], faultSeed: 7 })
  const client = new S3Client({ ...s3.client(), maxAttempts: 3 })
  t.teardown(() => client.destroy())
  s3.faults.add({ operation: 'PutObject', error: 'SlowDown', times: 2 })
  await client.send(new PutObjectCommand({ Bucket: 'rrr', Key: 'k', Body: 'made it' }))
  const puts = s3.requests({ operation: 'PutObject' })
  t.same(puts.map(r => r.status), [503, 503, 200])
  t.same(puts.map(r => r.error), ['SlowDown', 'SlowDown', undefined])
  t.equal((await s3.box.headObject('rrr', 'k')).size, 7)
  t.same(s3.faults.list(), [], 'a rule retires after its times')
})

t.test('faults without retries surface to the caller as the S3 error', async t => {
  await using s3 = await startTestServer({ buckets: ['rrr'] })
  const client = new S3Client({ ...s3.client(), maxAttempts: 1 })
  t.teardown(() => client.destroy())
  s3.faults.add({ operation: 'GetObject', bucket: 'rrr', key: 'k', error: 'InternalError' })
  await s3.box.putObject('rrr', 'k', 'x')
  await t.rejects(client.send(new GetObjectCommand({ Bucket: 'rrr', Key: 'k' })), { name: 'InternalError', $metadata: { httpStatusCode: 500 } })
  await s3.box.putObject('rrr', 'other', 'y')
  const other = await client.send(new GetObjectCommand({ Bucket: 'rrr', Key: 'other' }))
  t.equal((await bodyBytes(other.Body)).toString(), 'y', 'rules match on bucket and key')
})

t.test('latency, dropped connections and truncated bodies', async t => {
  await using s3 = await startTestServer({ buckets: ['fff'] })
  await s3.box.putObject('fff', 'big', Buffer.alloc(200_000, 7))
  const client = new S3Client({ ...s3.client(), maxAttempts: 1 })
  t.teardown(() => client.destroy())

  s3.faults.add({ operation: 'HeadObject', latencyMs: 120, times: 1 })
  const before = performance.now()
  const head = await client.send(new HeadObjectCommand({ Bucket: 'fff', Key: 'big' }))
  t.equal(head.ContentLength, 200_000, 'the slow request still gets its answer')
  t.ok(performance.now() - before >= 100, 'after the injected latency')

  s3.faults.add({ operation: 'ListObjectsV2', resetConnection: true, times: 1 })
  await t.rejects(client.send(new ListObjectsV2Command({ Bucket: 'fff' })))

  s3.faults.add({ operation: 'GetObject', truncateBody: true, times: 1 })
  const got = await client.send(new GetObjectCommand({ Bucket: 'fff', Key: 'big' }))
  await t.rejects(bodyBytes(got.Body), 'the client sees the body end early')
  const again = await client.send(new GetObjectCommand({ Bucket: 'fff', Key: 'big' }))
  t.equal((await bodyBytes(again.Body)).length, 200_000, 'the next read is whole')

  // The journal records what the client saw: a cut connection has no status.
  t.match(s3.requests({ operation: 'ListObjectsV2' }), [{ status: undefined, faultAction: 'resetConnection', fault: Number }], 'no status for a reset connection')
  t.match(s3.requests({ operation: 'GetObject' }), [{ status: 200, faultAction: 'truncateBody' }, { status: 200, faultAction: undefined }])
  t.match(s3.requests({ operation: 'HeadObject' }), [{ status: 200, faultAction: 'latency' }])
})

t.test('fault probability draws are reproducible from the seed', async t => {
  const pattern = async (): Promise<Array<number | undefined>> => {
    await using s3 = await startTestServer({ buckets: ['ppp'], faultSeed: 42 })
    const client = new S3Client({ ...s3.client(), maxAttempts: 1 })
    s3.faults.add({ operation: 'PutObject', error: 'SlowDown', probability: 0.5 })
    for (let i = 0; i < 20; i++) await client.send(new PutObjectCommand({ Bucket: 'ppp', Key: `k${i}`, Body: 'x' })).catch(() => {})
    client.destroy()
    return s3.requests({ operation: 'PutObject' }).map(r => r.status)
  }
  const first = await pattern()
  t.same(await pattern(), first)
  t.ok(first.includes(503) && first.includes(200), 'some requests hit, some not')
})

t.test('fault rules are refused when they could never act', async t => {
  await using s3 = await startTestServer()
  t.throws(() => s3.faults.add({ operation: 'PutObject' }), RangeError)
  t.throws(() => s3.faults.add({ error: 'SlowDown', probability: 2 }), RangeError)
  t.throws(() => s3.faults.add({ error: 'Slow Down' }), RangeError)
  t.throws(() => s3.faults.add({ error: 'SlowDown', times: 0 }), RangeError)
})

t.test('the journal shows multipart uploads, signatures and checksum modes', async t => {
  await using s3 = await startTestServer({ buckets: ['jjj'], journalSize: 50 })
  const client = new S3Client(s3.client())
  t.teardown(() => client.destroy())
  await client.send(new PutObjectCommand({ Bucket: 'jjj', Key: 'small', Body: 'abc' }))
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'jjj', Key: 'mp' }))
  const part = await client.send(new UploadPartCommand({ Bucket: 'jjj', Key: 'mp', UploadId, PartNumber: 1, Body: 'only part' }))
  await client.send(new CompleteMultipartUploadCommand({ Bucket: 'jjj', Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }))
  const ops = s3.requests({ bucket: 'jjj' }).map(r => r.operation)
  t.same(ops, ['PutObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload'])
  const put = s3.requests({ operation: 'PutObject' })[0]
  t.match(put, { status: 200, key: 'small', accessKeyId: s3.credentials.accessKeyId, auth: 'v4', payload: 'SHA256', checksumAlgorithm: 'CRC32' })
  t.ok(put !== undefined && put.bytesIn >= 3 && put.bytesOut > 0 && put.ms >= 0)
  t.ok(s3.requests().every(r => r.auth !== 'anonymous'), 'no request went unsigned')
  await Promise.all(Array.from({ length: 60 }, async () => await client.send(new ListObjectsV2Command({ Bucket: 'jjj' }))))
  t.equal(s3.requests().length, 50, 'the journal is a bounded ring')
})

t.test('the spaces profile answers like DigitalOcean Spaces', async t => {
  await using s3 = await startTestServer({ profile: 'spaces', buckets: ['spc'] })
  t.equal(s3.region, 'nyc3')
  const client = new S3Client(s3.client())
  t.teardown(() => client.destroy())
  await t.rejects(client.send(new GetBucketEncryptionCommand({ Bucket: 'spc' })), { name: 'NotImplemented', $metadata: { httpStatusCode: 501 } })
  t.equal((await s3.box.headBucket('spc')).region, 'nyc3')
})

t.test('fault rules over HTTP, for clients in other processes, need the admin token', async t => {
  await using s3 = await startTestServer({ buckets: ['hhh'] })
  const url = `${s3.endpoint}/_spacebox/faults`
  const auth = { authorization: `Bearer ${s3.adminToken}` }
  t.equal((await fetch(url)).status, 401)
  t.equal((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status, 401)
  const added = await fetch(url, { method: 'POST', headers: auth, body: JSON.stringify({ operation: 'HeadBucket', error: 'ServiceUnavailable', times: 1 }) })
  t.equal(added.status, 201)
  const { id } = await added.json() as { id: number }
  t.match(await (await fetch(url, { headers: auth })).json(), { faults: [{ id, operation: 'HeadBucket', error: 'ServiceUnavailable', hits: 0 }] })
  const client = new S3Client({ ...s3.client(), maxAttempts: 1 })
  t.teardown(() => client.destroy())
  await t.rejects(client.send(new HeadBucketCommand({ Bucket: 'hhh' })), { name: 'Unknown', $metadata: { httpStatusCode: 503 } }) // a HEAD error has no body to name it
  await client.send(new HeadBucketCommand({ Bucket: 'hhh' }))
  t.equal((await fetch(url, { method: 'POST', headers: auth, body: '{"error": 5}' })).status, 400)
  t.equal((await fetch(url, { method: 'POST', headers: auth, body: 'not json' })).status, 400)
  s3.faults.add({ error: 'SlowDown' })
  t.equal((await fetch(`${url}?id=999`, { method: 'DELETE', headers: auth })).status, 404)
  t.equal((await fetch(url, { method: 'DELETE', headers: auth })).status, 204)
  t.same(s3.faults.list(), [])
  t.equal((await fetch(url, { method: 'PUT', headers: auth })).status, 405)
})

t.test('close() is idempotent and `await using` closes the server', async t => {
  let endpoint = ''
  {
    await using s3 = await startTestServer()
    endpoint = s3.endpoint
    await s3.close()
  }
  await t.rejects(fetch(endpoint))
})
