// node examples/testing-tap.mjs   (or: npx tap examples/testing-tap.mjs)
import t from 'tap'
import { S3Client, PutObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { startTestServer } from 'spacebox/testing'

t.test('listing shows what was uploaded', async t => {
  const s3 = await startTestServer({ buckets: ['photos'], seed: { 'photos/old.jpg': 'jpeg bytes' } })
  const client = new S3Client(s3.client())
  t.teardown(async () => {
    client.destroy()
    await s3.close()
  })
  await client.send(new PutObjectCommand({ Bucket: 'photos', Key: 'new.jpg', Body: 'more bytes' }))
  const page = await client.send(new ListObjectsV2Command({ Bucket: 'photos' }))
  t.same(page.Contents.map(o => o.Key), ['new.jpg', 'old.jpg'])
})
