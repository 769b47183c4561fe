import t from 'tap'
import { Agent, request } from 'node:http'
import type { LookupFunction } from 'node:net'
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, ListBucketsCommand,
  ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { bodyBytes, serve, type Served } from './helpers.js'
import { watch } from './sdk-helpers.js'

// Every name resolves to the test server: the SDK builds `bucket.<endpoint host>` itself.
const toLoopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all === true) (callback as (err: null, addresses: Array<{ address: string, family: number }>) => void)(null, [{ address: '127.0.0.1', family: 4 }])
  else callback(null, '127.0.0.1', 4)
}

/** An SDK client in its default, virtual-hosted addressing, against `http://<host>:<port>`. */
function virtualClient (t: { teardown: (fn: () => void) => void }, s: Served, host: string, region = 'us-east-1'): S3Client {
  const agent = new Agent({ keepAlive: true, lookup: toLoopback })
  const client = new S3Client({
    endpoint: `http://${host}:${s.server.port}`,
    region,
    forcePathStyle: false,
    credentials: s.credentials,
    maxAttempts: 1,
    requestHandler: { httpAgent: agent }
  })
  t.teardown(() => {
    client.destroy()
    agent.destroy()
  })
  return client
}

t.test('virtual-hosted requests under a configured hostname', async t => {
  const s = await serve(t, { server: { hostnames: ['s3.test'] } })
  const seen = watch(s)
  const c = virtualClient(t, s, 's3.test')

  t.test('the SDK puts the bucket in the Host, and every operation finds it there', async t => {
    await c.send(new CreateBucketCommand({ Bucket: 'bkt' }))
    t.equal(seen.at(-1)!.headers.host, `bkt.s3.test:${s.server.port}`)
    t.match(seen.at(-1)!.url, /^\/(\?|$)/, 'the path is only /')
    t.ok(await s.box.headBucket('bkt'), 'CreateBucket made the Host\'s bucket')
    await c.send(new HeadBucketCommand({ Bucket: 'bkt' }))
    const keys = ['plain', 'dir/sub/file.txt', 'a b+c', 'ü/ñ', 'dir//double', 'a/../b', '/leading']
    for (const key of keys) {
      await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: Buffer.from(`body ${key}`) }))
      const got = await c.send(new GetObjectCommand({ Bucket: 'bkt', Key: key }))
      t.equal((await bodyBytes(got.Body)).toString(), `body ${key}`, JSON.stringify(key))
      t.ok(await s.box.headObject('bkt', key), `stored under ${JSON.stringify(key)} exactly`)
    }
    const listed = await c.send(new ListObjectsV2Command({ Bucket: 'bkt' }))
    t.same(listed.Contents?.map(o => o.Key), [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))))
    await c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'copied', CopySource: 'bkt/dir/sub/file.txt' }))
    t.equal((await s.box.headObject('bkt', 'copied')).size, 'body dir/sub/file.txt'.length)
    await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'plain' }))
    await t.rejects(s.box.headObject('bkt', 'plain'))
  })

  t.test('a multipart upload completes, with the object\'s virtual-hosted Location', async t => {
    const key = 'multi part/obj'
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'bkt', Key: key }))
    const part = await c.send(new UploadPartCommand({ Bucket: 'bkt', Key: key, UploadId, PartNumber: 1, Body: Buffer.from('one part') }))
    const done = await c.send(new CompleteMultipartUploadCommand({ Bucket: 'bkt', Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } }))
    t.equal(done.Location, `http://bkt.s3.test:${s.server.port}/multi%20part/obj`)
    t.equal((await s.box.headObject('bkt', key)).size, 8)
  })

  t.test('the bare hostname is the service: ListBuckets', async t => {
    const out = await c.send(new ListBucketsCommand({}))
    t.same(out.Buckets?.map(b => b.Name), ['bkt'])
    t.equal(seen.at(-1)!.headers.host, `s3.test:${s.server.port}`)
  })

  t.test('a presigned virtual-hosted URL works', async t => {
    const url = new URL(await getSignedUrl(c, new GetObjectCommand({ Bucket: 'bkt', Key: 'a b+c' }), { expiresIn: 60 }))
    t.equal(url.hostname, 'bkt.s3.test')
    const body = await new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port: s.server.port, path: url.pathname + url.search, headers: { host: url.host } }, res => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => { text += chunk })
        res.on('end', () => resolve(`${res.statusCode} ${text}`))
      }).on('error', reject).end()
    })
    t.equal(body, '200 body a b+c')
  })

  t.test('path-style requests to the same server still work', async t => {
    const path = s.client()
    const got = await path.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'dir/sub/file.txt' }))
    t.equal((await bodyBytes(got.Body)).toString(), 'body dir/sub/file.txt')
  })
})

t.test('DigitalOcean Spaces hostnames are virtual-hosted without configuration', async t => {
  // The SDK in region nyc3 sends it as the LocationConstraint: a Spaces region.
  const s = await serve(t, { server: { profile: 'spaces' } })
  const seen = watch(s)
  const c = virtualClient(t, s, 'nyc3.digitaloceanspaces.com', 'nyc3')
  await c.send(new CreateBucketCommand({ Bucket: 'space' }))
  t.equal(seen.at(-1)!.headers.host, `space.nyc3.digitaloceanspaces.com:${s.server.port}`)
  await c.send(new PutObjectCommand({ Bucket: 'space', Key: 'photos/cat.jpg', Body: Buffer.from('meow') }))
  t.equal((await s.box.headObject('space', 'photos/cat.jpg')).size, 4)
  const got = await c.send(new GetObjectCommand({ Bucket: 'space', Key: 'photos/cat.jpg' }))
  t.equal((await bodyBytes(got.Body)).toString(), 'meow')
  const listed = await c.send(new ListObjectsV2Command({ Bucket: 'space', Prefix: 'photos/' }))
  t.same(listed.Contents?.map(o => o.Key), ['photos/cat.jpg'])
})
