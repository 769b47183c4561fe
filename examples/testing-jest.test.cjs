// npx jest   (CommonJS, no flag, no babel config: require() loads spacebox's CommonJS build)
/* global beforeAll, beforeEach, afterAll, test, expect */
const { S3Client, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3')
const { startTestServer } = require('spacebox/testing')

let s3
let client

beforeAll(async () => {
  s3 = await startTestServer({ buckets: ['uploads'] })
  client = new S3Client(s3.client())
})
beforeEach(async () => { await s3.reset() })
afterAll(async () => {
  client.destroy()
  await s3.close()
})

test('the uploader stores the file', async () => {
  await client.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'report.txt', Body: 'quarterly' }))
  const got = await client.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'report.txt' }))
  expect(await got.Body.transformToString()).toBe('quarterly')
  expect(s3.requests({ operation: 'PutObject' }).map(r => r.status)).toEqual([200])
})

test('the uploader survives throttling', async () => {
  s3.faults.add({ operation: 'PutObject', error: 'SlowDown', times: 1 })
  await client.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'retry.txt', Body: 'again' }))
  expect(s3.requests({ operation: 'PutObject' }).map(r => r.status)).toEqual([503, 200])
})
