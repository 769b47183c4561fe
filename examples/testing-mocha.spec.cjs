// npx mocha examples/testing-mocha.spec.cjs
/* global describe, before, beforeEach, after, it */
const assert = require('node:assert/strict')
const { S3Client, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3')
const { startTestServer } = require('spacebox/testing')

describe('uploads', () => {
  let s3
  let client

  before(async () => {
    s3 = await startTestServer({ buckets: ['uploads'] })
    client = new S3Client(s3.client())
  })
  beforeEach(async () => { await s3.reset() })
  after(async () => {
    client.destroy()
    await s3.close()
  })

  it('stores the file', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'report.txt', Body: 'quarterly' }))
    const got = await client.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'report.txt' }))
    assert.equal(await got.Body.transformToString(), 'quarterly')
    assert.deepEqual(s3.requests({ operation: 'PutObject' }).map(r => r.status), [200])
  })

  it('survives throttling', async () => {
    s3.faults.add({ operation: 'PutObject', error: 'SlowDown', times: 1 })
    await client.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'retry.txt', Body: 'again' }))
    assert.deepEqual(s3.requests({ operation: 'PutObject' }).map(r => r.status), [503, 200])
  })
})
