// x-amz-storage-class over HTTP with the AWS SDK: stored by PutObject, CopyObject and
// CreateMultipartUpload (and a POST form), echoed by GET and HEAD for every class but STANDARD,
// named in every listing and by GetObjectAttributes; unknown classes are 400 InvalidStorageClass;
// a self-copy changing only the class is legal (rclone settier); the spaces profile keeps STANDARD only.
import t, { type Test } from 'tap'
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectAttributesCommand, GetObjectCommand,
  HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsCommand, ListObjectsV2Command, ListObjectVersionsCommand, ListPartsCommand,
  PutBucketVersioningCommand, PutObjectCommand, UploadPartCommand, type S3Client, type StorageClass
} from '@aws-sdk/client-s3'
import { STORAGE_CLASSES } from '../../lib/index.js'
import type { S3ServerOptions } from '../../lib/s3/index.js'
import { serve, type Served } from './helpers.js'
import { rejects } from './sdk-helpers.js'
import { sendSigned } from './wire.js'
import { multipart, post, signV4 } from './post-forms.js'

async function setup (t: Test, server: S3ServerOptions = {}): Promise<{ s: Served, c: S3Client }> {
  const s = await serve(t, { server })
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'bkt' }))
  return { s, c }
}

t.test('PutObject stores the class; GET and HEAD name it, except STANDARD, which S3 leaves unsaid', async t => {
  const { s, c } = await setup(t)
  for (const cls of STORAGE_CLASSES) await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: cls, Body: cls, StorageClass: cls }))
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'plain', Body: 'plain' }))
  for (const cls of STORAGE_CLASSES) {
    const head = await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: cls }))
    const get = await c.send(new GetObjectCommand({ Bucket: 'bkt', Key: cls }))
    t.equal(await get.Body!.transformToString(), cls, `${cls}: served at once, no restore needed`)
    t.equal(head.StorageClass, cls === 'STANDARD' ? undefined : cls, `${cls}: HEAD`)
    t.equal(get.StorageClass, cls === 'STANDARD' ? undefined : cls, `${cls}: GET`)
  }
  t.equal((await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'plain' }))).StorageClass, undefined)
  const raw = await sendSigned(s.server.url, s.credentials, 'HEAD', '/bkt/STANDARD')
  t.equal(raw.headers['x-amz-storage-class'], undefined, 'no header at all for STANDARD')
  t.equal((await sendSigned(s.server.url, s.credentials, 'HEAD', '/bkt/GLACIER')).headers['x-amz-storage-class'], 'GLACIER')
  const ranged = await c.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'DEEP_ARCHIVE', Range: 'bytes=0-3' }))
  t.equal(ranged.StorageClass, 'DEEP_ARCHIVE', 'a ranged GET too')
  t.equal(await ranged.Body!.transformToString(), 'DEEP')
})

t.test('listings name every class, STANDARD included: v1, v2, versions', async t => {
  const { c } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'a', Body: 'a', StorageClass: 'STANDARD_IA' }))
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'b', Body: 'b' }))
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'c', Body: 'c', StorageClass: 'GLACIER' }))
  const want = [['a', 'STANDARD_IA'], ['b', 'STANDARD'], ['c', 'GLACIER']]
  t.same((await c.send(new ListObjectsV2Command({ Bucket: 'bkt' }))).Contents?.map(o => [o.Key, o.StorageClass]), want, 'ListObjectsV2')
  t.same((await c.send(new ListObjectsCommand({ Bucket: 'bkt' }))).Contents?.map(o => [o.Key, o.StorageClass]), want, 'ListObjects')
  t.same((await c.send(new ListObjectVersionsCommand({ Bucket: 'bkt' }))).Versions?.map(v => [v.Key, v.StorageClass]), want, 'ListObjectVersions')
  await c.send(new PutBucketVersioningCommand({ Bucket: 'bkt', VersioningConfiguration: { Status: 'Enabled' } }))
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'a', Body: 'a2', StorageClass: 'ONEZONE_IA' }))
  t.same((await c.send(new ListObjectVersionsCommand({ Bucket: 'bkt', Prefix: 'a' }))).Versions?.map(v => [v.IsLatest, v.StorageClass]),
    [[true, 'ONEZONE_IA'], [false, 'STANDARD_IA']], 'each version its own')
})

t.test('GetObjectAttributes names the class (STANDARD too)', async t => {
  const { c } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'ir', Body: 'x', StorageClass: 'GLACIER_IR' }))
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'std', Body: 'x' }))
  const ask = async (Key: string): Promise<string | undefined> =>
    (await c.send(new GetObjectAttributesCommand({ Bucket: 'bkt', Key, ObjectAttributes: ['StorageClass', 'ObjectSize'] }))).StorageClass
  t.equal(await ask('ir'), 'GLACIER_IR')
  t.equal(await ask('std'), 'STANDARD')
})

t.test('a multipart upload: its class is listed in ListMultipartUploads and ListParts, and given to the object', async t => {
  const { c } = await setup(t)
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'bkt', Key: 'big', StorageClass: 'INTELLIGENT_TIERING' }))
  await c.send(new CreateMultipartUploadCommand({ Bucket: 'bkt', Key: 'plain' }))
  t.same((await c.send(new ListMultipartUploadsCommand({ Bucket: 'bkt' }))).Uploads?.map(u => [u.Key, u.StorageClass]),
    [['big', 'INTELLIGENT_TIERING'], ['plain', 'STANDARD']])
  const part = await c.send(new UploadPartCommand({ Bucket: 'bkt', Key: 'big', UploadId, PartNumber: 1, Body: 'only part' }))
  t.equal((await c.send(new ListPartsCommand({ Bucket: 'bkt', Key: 'big', UploadId }))).StorageClass, 'INTELLIGENT_TIERING')
  await c.send(new CompleteMultipartUploadCommand({ Bucket: 'bkt', Key: 'big', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }))
  t.equal((await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'big' }))).StorageClass, 'INTELLIGENT_TIERING')
})

t.test('CopyObject: STANDARD unless asked, under COPY and REPLACE; a self-copy changing only the class is legal', async t => {
  const { c } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'src', Body: 'body', StorageClass: 'GLACIER', Metadata: { mtime: '1700000000' }, ContentType: 'text/x-src' }))
  await c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'plain-copy', CopySource: 'bkt/src' }))
  t.equal((await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'plain-copy' }))).StorageClass, undefined, 'no header: STANDARD, not the source\'s')
  await c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'ia-copy', CopySource: 'bkt/src', StorageClass: 'STANDARD_IA', MetadataDirective: 'REPLACE' }))
  t.equal((await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'ia-copy' }))).StorageClass, 'STANDARD_IA', 'REPLACE with a class')

  // rclone's settier: CopyObject onto itself, COPY directive, only x-amz-storage-class.
  await c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'src', CopySource: 'bkt/src', StorageClass: 'DEEP_ARCHIVE', MetadataDirective: 'COPY' }))
  const head = await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'src' }))
  t.equal(head.StorageClass, 'DEEP_ARCHIVE')
  t.same(head.Metadata, { mtime: '1700000000' }, 'metadata kept')
  t.equal(head.ContentType, 'text/x-src')
  const err = await rejects(t, c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'src', CopySource: 'bkt/src', StorageClass: 'DEEP_ARCHIVE' })), 'InvalidRequest', 400, 'the same class again')
  t.match((err as { message?: string } | undefined)?.message, /without changing the object's metadata, storage class/)
  await c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'src', CopySource: 'bkt/src', StorageClass: 'STANDARD' }))
  t.equal((await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'src' }))).StorageClass, undefined, 'back to STANDARD')
  await rejects(t, c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'src', CopySource: 'bkt/src' })), 'InvalidRequest', 400, 'a STANDARD object onto itself, nothing asked')
})

t.test('an unknown class is 400 InvalidStorageClass naming it, for every write that takes one', async t => {
  const { s, c } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'src', Body: 'x' }))
  const bogus = 'standard' as StorageClass
  await rejects(t, c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x', StorageClass: bogus })), 'InvalidStorageClass', 400, 'PutObject, lower case')
  await rejects(t, c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x', StorageClass: 'FSX_ONTAP' })), 'InvalidStorageClass', 400, 'PutObject, FSX_ONTAP')
  await rejects(t, c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'k', CopySource: 'bkt/src', StorageClass: 'COLD' as StorageClass })), 'InvalidStorageClass', 400, 'CopyObject')
  await rejects(t, c.send(new CreateMultipartUploadCommand({ Bucket: 'bkt', Key: 'k', StorageClass: 'COLD' as StorageClass })), 'InvalidStorageClass', 400, 'CreateMultipartUpload')
  const raw = await sendSigned(s.server.url, s.credentials, 'PUT', '/bkt/k', { 'x-amz-storage-class': 'ARCTIC' }, 'x')
  t.equal(raw.status, 400)
  t.match(raw.text, /<Code>InvalidStorageClass<\/Code><Message>The storage class you specified is not valid<\/Message>/)
  t.match(raw.text, /<StorageClassRequested>ARCTIC<\/StorageClassRequested>/)
  t.same((await c.send(new ListObjectsV2Command({ Bucket: 'bkt' }))).Contents?.map(o => o.Key), ['src'], 'nothing written')
  t.same((await c.send(new ListMultipartUploadsCommand({ Bucket: 'bkt' }))).Uploads ?? [], [], 'no upload started')
})

t.test('a POST form\'s x-amz-storage-class field is stored as the header would be', async t => {
  const { s, c } = await setup(t)
  const fields: Array<[string, string]> = [['key', 'form.txt'], ['x-amz-storage-class', 'ONEZONE_IA']]
  const body = multipart([...fields, ...signV4(s.credentials, [{ bucket: 'bkt' }, { key: 'form.txt' }, { 'x-amz-storage-class': 'ONEZONE_IA' }]), { name: 'file', filename: 'f', content: 'form' }])
  const answer = await post(`${s.server.url}/bkt`, body)
  t.equal(answer.status, 204, answer.body)
  t.equal((await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'form.txt' }))).StorageClass, 'ONEZONE_IA')
})

t.test('the spaces profile: STANDARD only, as DigitalOcean Spaces', async t => {
  const { s, c } = await setup(t, { profile: 'spaces' })
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'std', Body: 'x', StorageClass: 'STANDARD' }))
  t.equal((await c.send(new ListObjectsV2Command({ Bucket: 'bkt' }))).Contents?.[0]?.StorageClass, 'STANDARD')
  await rejects(t, c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x', StorageClass: 'GLACIER' })), 'InvalidStorageClass', 400, 'PutObject GLACIER')
  await rejects(t, c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'std', CopySource: 'bkt/std', StorageClass: 'STANDARD_IA' })), 'InvalidStorageClass', 400, 'CopyObject STANDARD_IA')
  await rejects(t, c.send(new CreateMultipartUploadCommand({ Bucket: 'bkt', Key: 'k', StorageClass: 'REDUCED_REDUNDANCY' })), 'InvalidStorageClass', 400, 'CreateMultipartUpload')
  const raw = await sendSigned(s.server.url, s.credentials, 'PUT', '/bkt/k', { 'x-amz-storage-class': 'GLACIER' }, 'x')
  t.match(raw.text, /<StorageClassRequested>GLACIER<\/StorageClassRequested>/)
  // The engine behind it still takes any class S3 knows: the profile is the adapter's.
  await s.box.putObject('bkt', 'engine', 'x', { storageClass: 'GLACIER' })
  t.equal((await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'engine' }))).StorageClass, 'GLACIER')
})
