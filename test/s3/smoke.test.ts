import t from 'tap'
import { Readable } from 'node:stream'
import { CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, DeleteObjectsCommand, HeadObjectCommand } from '@aws-sdk/client-s3'
import { serve, bodyBytes } from './helpers.js'

t.test('smoke', async t => {
  const s = await serve(t)
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'bkt' }))
  const put = await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'a/b c+d.txt', Body: 'hello' }))
  t.equal(put.ETag, '"5d41402abc4b2a76b9719d911017c592"')
  const put2 = await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'stream', Body: Readable.from([Buffer.alloc(100000, 1), Buffer.alloc(5, 2)]), ContentLength: 100005 }))
  t.ok(put2.ChecksumCRC32)
  const got = await c.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'a/b c+d.txt' }))
  t.equal((await bodyBytes(got.Body)).toString(), 'hello')
  const got2 = await c.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'stream' }))
  t.equal((await bodyBytes(got2.Body)).length, 100005)
  const head = await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'stream' }))
  t.equal(head.ContentLength, 100005)
  const list = await c.send(new ListObjectsV2Command({ Bucket: 'bkt' }))
  t.same(list.Contents?.map(o => o.Key), ['a/b c+d.txt', 'stream'])
  const del = await c.send(new DeleteObjectsCommand({ Bucket: 'bkt', Delete: { Objects: [{ Key: 'stream' }] } }))
  t.same(del.Deleted?.map(d => d.Key), ['stream'])
})
