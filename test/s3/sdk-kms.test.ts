// SSE-KMS with named keys over HTTP, driven by the AWS SDK against startTestServer({ kmsKeys }):
// a key named by name, alias or ARN is the same key, and the answer is always its ARN, as S3's.
import t from 'tap'
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetBucketEncryptionCommand, GetObjectCommand,
  HeadObjectCommand, PutBucketEncryptionCommand, PutObjectCommand, S3Client, UploadPartCommand
} from '@aws-sdk/client-s3'
import { startTestServer } from '../../lib/testing/index.js'
import { tempDir } from '../helpers.js'
import { rejects } from './sdk-helpers.js'

const ARN_1 = 'arn:aws:kms:us-east-1:000000000000:key/testkey-1'
const ARN_2 = 'arn:aws:kms:us-east-1:000000000000:key/testkey-2'

t.test('SSE-KMS with named keys through the SDK', async t => {
  const s3 = await startTestServer({ buckets: ['enc'], kmsKeys: ['testkey-1', 'testkey-2'] })
  const client = new S3Client({ ...s3.client(), maxAttempts: 1 })
  t.teardown(async () => { client.destroy(); await s3.close() })

  t.test('the test kit says which ARN S3 answers for a key', async t => {
    t.equal(s3.kmsKeyArn('testkey-1'), ARN_1)
  })

  t.test('PutObject naming a key by name or by ARN: both answer the ARN and seal under the same key', async t => {
    for (const [key, SSEKMSKeyId] of [['by-name', 'testkey-1'], ['by-arn', ARN_1], ['by-alias', 'alias/testkey-1'], ['by-alias-arn', 'arn:aws:kms:us-east-1:000000000000:alias/testkey-1']] as const) {
      const put = await client.send(new PutObjectCommand({ Bucket: 'enc', Key: key, Body: `sealed ${key}`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId }))
      t.equal(put.ServerSideEncryption, 'aws:kms', `${key}: PutObject says aws:kms`)
      t.equal(put.SSEKMSKeyId, ARN_1, `${key}: PutObject answers the key ARN`)
      const head = await client.send(new HeadObjectCommand({ Bucket: 'enc', Key: key }))
      t.equal(head.SSEKMSKeyId, ARN_1, `${key}: HeadObject answers the key ARN`)
      const got = await client.send(new GetObjectCommand({ Bucket: 'enc', Key: key }))
      t.equal(got.SSEKMSKeyId, ARN_1, `${key}: GetObject answers the key ARN`)
      t.equal(await got.Body?.transformToString(), `sealed ${key}`)
      t.equal((await s3.box.headObject('enc', key)).masterKeyId, 'testkey-1', `${key}: the engine recorded the key's name`)
    }
  })

  t.test('PutObject with aws:kms and no key id seals under the store\'s default key, named by its ARN', async t => {
    const put = await client.send(new PutObjectCommand({ Bucket: 'enc', Key: 'default', Body: 'x', ServerSideEncryption: 'aws:kms' }))
    t.equal(put.SSEKMSKeyId, 'arn:aws:kms:us-east-1:000000000000:key/local-1')
    const managed = await client.send(new PutObjectCommand({ Bucket: 'enc', Key: 'managed', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/aws/s3' }))
    t.equal(managed.SSEKMSKeyId, 'arn:aws:kms:us-east-1:000000000000:key/local-1', 'alias/aws/s3, S3\'s own key, is the default key')
  })

  t.test('CopyObject to a named key re-seals under it and answers its ARN', async t => {
    const copy = await client.send(new CopyObjectCommand({
      Bucket: 'enc', Key: 'copied', CopySource: 'enc/by-name', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'testkey-2'
    }))
    t.equal(copy.SSEKMSKeyId, ARN_2)
    t.equal(copy.ServerSideEncryption, 'aws:kms')
    const got = await client.send(new GetObjectCommand({ Bucket: 'enc', Key: 'copied' }))
    t.equal(got.SSEKMSKeyId, ARN_2)
    t.equal(await got.Body?.transformToString(), 'sealed by-name')
    t.equal((await s3.box.headObject('enc', 'copied')).masterKeyId, 'testkey-2')
  })

  t.test('a multipart upload started with a key ARN answers it on create and complete, and the object keeps it', async t => {
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: 'enc', Key: 'parts', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: ARN_2 }))
    t.equal(created.SSEKMSKeyId, ARN_2, 'CreateMultipartUpload')
    const part = await client.send(new UploadPartCommand({ Bucket: 'enc', Key: 'parts', UploadId: created.UploadId, PartNumber: 1, Body: 'one part' }))
    const done = await client.send(new CompleteMultipartUploadCommand({
      Bucket: 'enc', Key: 'parts', UploadId: created.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] }
    }))
    t.equal(done.SSEKMSKeyId, ARN_2, 'CompleteMultipartUpload')
    const got = await client.send(new GetObjectCommand({ Bucket: 'enc', Key: 'parts' }))
    t.equal(got.SSEKMSKeyId, ARN_2, 'GetObject')
    t.equal(await got.Body?.transformToString(), 'one part')
  })

  t.test('bucket default encryption naming a key by ARN applies it to new objects, with or without a bucket key', async t => {
    await client.send(new CreateBucketCommand({ Bucket: 'dflt' }))
    for (const BucketKeyEnabled of [false, true]) {
      await client.send(new PutBucketEncryptionCommand({
        Bucket: 'dflt',
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARN_2 }, BucketKeyEnabled }] }
      }))
      const rule = (await client.send(new GetBucketEncryptionCommand({ Bucket: 'dflt' }))).ServerSideEncryptionConfiguration?.Rules?.[0]
      t.equal(rule?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID, ARN_2, 'GetBucketEncryption gives the id as it was set')
      const put = await client.send(new PutObjectCommand({ Bucket: 'dflt', Key: `k-${String(BucketKeyEnabled)}`, Body: 'by default' }))
      t.equal(put.ServerSideEncryption, 'aws:kms')
      t.equal(put.SSEKMSKeyId, ARN_2, `bucket key ${String(BucketKeyEnabled)}: the default's key, as an ARN`)
      t.equal(put.BucketKeyEnabled, BucketKeyEnabled || undefined)
      const got = await client.send(new GetObjectCommand({ Bucket: 'dflt', Key: `k-${String(BucketKeyEnabled)}` }))
      t.equal(await got.Body?.transformToString(), 'by default')
    }
  })

  t.test('the ARN names the bucket\'s region; an ARN of another region or account is not a key here', async t => {
    await client.send(new CreateBucketCommand({ Bucket: 'far', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }))
    const put = await client.send(new PutObjectCommand({ Bucket: 'far', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'testkey-1' }))
    t.equal(put.SSEKMSKeyId, 'arn:aws:kms:eu-west-1:000000000000:key/testkey-1')
    await rejects(t, client.send(new PutObjectCommand({ Bucket: 'far', Key: 'k2', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: ARN_1 })),
      'KMS.NotFoundException', 400, 'a us-east-1 key for an eu-west-1 bucket')
    await rejects(t, client.send(new PutObjectCommand({
      Bucket: 'enc', Key: 'k3', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'arn:aws:kms:us-east-1:111122223333:key/testkey-1'
    })), 'KMS.NotFoundException', 400, 'another account')
    await t.rejects(s3.box.headObject('far', 'k2'), { code: 'NoSuchKey' }, 'nothing stored')
  })

  t.test('an unknown key, by name or ARN, is 400 KMS.NotFoundException on every write that names it', async t => {
    for (const SSEKMSKeyId of ['no-such-key', 'arn:aws:kms:us-east-1:000000000000:key/no-such-key', 'alias/no-such-key']) {
      await rejects(t, client.send(new PutObjectCommand({ Bucket: 'enc', Key: 'nokey', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId })), 'KMS.NotFoundException', 400, `PutObject ${SSEKMSKeyId}`)
    }
    await rejects(t, client.send(new CopyObjectCommand({ Bucket: 'enc', Key: 'nokey', CopySource: 'enc/by-name', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'no-such-key' })),
      'KMS.NotFoundException', 400, 'CopyObject')
    await rejects(t, client.send(new CreateMultipartUploadCommand({ Bucket: 'enc', Key: 'nokey', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'no-such-key' })),
      'KMS.NotFoundException', 400, 'CreateMultipartUpload')
    await t.rejects(s3.box.headObject('enc', 'nokey'), { code: 'NoSuchKey' }, 'nothing stored')
  })
})

t.test('without kmsKeys, a test server knows no named key', async t => {
  await using s3 = await startTestServer({ buckets: ['enc'] })
  const client = new S3Client({ ...s3.client(), maxAttempts: 1 })
  t.teardown(() => client.destroy())
  await rejects(t, client.send(new PutObjectCommand({ Bucket: 'enc', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'testkey-1' })), 'KMS.NotFoundException', 400)
})

t.test('with persist, kmsKeys are kept in the key file: a later server reads what an earlier one sealed', async t => {
  const dir = await tempDir(t)
  {
    await using s3 = await startTestServer({ persist: dir, buckets: ['enc'], kmsKeys: ['testkey-1'] })
    const client = new S3Client({ ...s3.client(), maxAttempts: 1 })
    await client.send(new PutObjectCommand({ Bucket: 'enc', Key: 'kept', Body: 'across restarts', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'testkey-1' }))
    client.destroy()
  }
  await using again = await startTestServer({ persist: dir, kmsKeys: ['testkey-1'] })
  const client = new S3Client({ ...again.client(), maxAttempts: 1 })
  t.teardown(() => client.destroy())
  const got = await client.send(new GetObjectCommand({ Bucket: 'enc', Key: 'kept' }))
  t.equal(got.SSEKMSKeyId, ARN_1)
  t.equal(await got.Body?.transformToString(), 'across restarts')
})
