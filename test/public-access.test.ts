// Public access in the engine: canned ACLs on buckets and objects, the publish right, bucket
// policies, and what box.publicAccess() reports. Both sides of every rule: what the unsigned
// caller may do, and what it may not; what a key may do, and what a policy takes away.
import t from 'tap'
import { Spacebox, type ScopedSpacebox } from '../lib/index.js'
import { readAll, tempDir } from './helpers.js'

type Tap = Parameters<typeof tempDir>[0]

async function open (t: Tap): Promise<Spacebox> {
  const box = await Spacebox.open({ location: await tempDir(t) })
  t.teardown(async () => { await box.close() })
  return box
}

async function text (view: Pick<ScopedSpacebox, 'getObject'>, bucket: string, key: string, options: { versionId?: string } = {}): Promise<string> {
  return (await readAll((await view.getObject(bucket, key, options)).body)).toString()
}

const denied = { code: 'AccessDenied' }
const policy = (...statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements })

t.test('an object ACL lets anyone read that object, and nothing else', async t => {
  const box = await open(t)
  await box.createBucket('site')
  await box.putObject('site', 'public.txt', 'hello', { acl: 'public-read' })
  await box.putObject('site', 'private.txt', 'secret')
  await box.putObject('site', 'owner.txt', 'mine', { acl: 'bucket-owner-full-control' })
  const anyone = box.anonymous()
  t.equal(await text(anyone, 'site', 'public.txt'), 'hello')
  t.equal((await anyone.headObject('site', 'public.txt')).size, 5)
  await t.rejects(anyone.getObject('site', 'private.txt'), denied)
  await t.rejects(anyone.headObject('site', 'owner.txt'), denied, 'bucket-owner-full-control is private here')
  await t.rejects(anyone.getObject('site', 'missing.txt'), denied, 'a miss is AccessDenied to whoever cannot list the bucket')
  await t.rejects(anyone.listObjectsV2('site'), denied, 'a public object does not make its bucket listable')
  await t.rejects(anyone.putObject('site', 'public.txt', 'defaced'), denied)
  await t.rejects(anyone.deleteObject('site', 'public.txt'), denied)
  await t.rejects(anyone.getObjectAcl('site', 'public.txt'), denied, 'READ is not READ_ACP')
  t.equal(await text(box, 'site', 'public.txt'), 'hello')
  t.same(await box.getObjectAcl('site', 'public.txt'), { owner: (await box.getBucketAcl('site')).owner, acl: 'public-read' })
  t.same((await box.getObjectAcl('site', 'owner.txt')).acl, 'private')
})

t.test('a bucket ACL: public-read lists, public-read-write writes, neither reads objects', async t => {
  const box = await open(t)
  await box.createBucket('listed', { acl: 'public-read' })
  await box.putObject('listed', 'a', 'a')
  const anyone = box.anonymous()
  t.same((await anyone.listObjectsV2('listed')).contents.map(o => o.key), ['a'])
  t.same((await anyone.listObjects('listed')).contents.map(o => o.key), ['a'])
  t.same((await anyone.listObjectVersions('listed')).versions.map(v => v.key), ['a'])
  t.equal((await anyone.headBucket('listed')).name, 'listed')
  await t.rejects(anyone.getObject('listed', 'a'), denied, 'listing is not reading')
  await t.rejects(anyone.getObject('listed', 'gone'), { code: 'NoSuchKey' }, 'a caller who may list learns a key is missing')
  await t.rejects(anyone.putObject('listed', 'b', 'b'), denied)
  await t.rejects(anyone.getBucketAcl('listed'), denied)
  await t.rejects(anyone.putBucketAcl('listed', 'private'), denied)

  await box.putBucketAcl('listed', 'public-read-write')
  await anyone.putObject('listed', 'b', 'from anyone')
  t.equal(await text(box, 'listed', 'b'), 'from anyone')
  await t.rejects(anyone.putObject('listed', 'c', 'c', { acl: 'public-read' }), denied, 'writing is not publishing')
  t.same((await anyone.deleteObjects('listed', ['b'])).deleted.map(d => d.key), ['b'])
  await anyone.deleteObject('listed', 'a')
  t.same((await box.listObjectsV2('listed')).contents, [])

  await box.putBucketAcl('listed', 'private')
  await t.rejects(anyone.listObjectsV2('listed'), denied)
  t.same(await box.getBucketAcl('listed'), { owner: (await box.getBucketAcl('listed')).owner, acl: 'private' })
  await t.rejects(anyone.listBuckets(), denied, 'listing buckets needs a key')
  await t.rejects(anyone.headBucket('nowhere'), denied, 'no bucket: nothing to learn')
})

t.test('authenticated-read lets no unsigned caller in, and gives a key nothing its grants do not', async t => {
  const box = await open(t)
  await box.createBucket('auth', { acl: 'authenticated-read' })
  await box.createBucket('other')
  await box.putObject('auth', 'k', 'v', { acl: 'authenticated-read' })
  await t.rejects(box.anonymous().getObject('auth', 'k'), denied)
  await t.rejects(box.anonymous().listObjectsV2('auth'), denied)
  const { accessKeyId } = await box.keys.create({ name: 'elsewhere', grants: [{ bucket: 'other', permission: 'read' }] })
  await t.rejects(box.as(accessKeyId).getObject('auth', 'k'), denied, 'a key reaches only its grants')
  t.equal((await box.getObjectAcl('auth', 'k')).acl, 'authenticated-read')
})

t.test('the publish right: writing with a public ACL needs fullaccess or a readwrite grant with publish', async t => {
  const box = await open(t)
  await box.createBucket('pub')
  const writer = box.as((await box.keys.create({ name: 'writer', grants: [{ bucket: 'pub', permission: 'readwrite' }] })).accessKeyId)
  const publisher = box.as((await box.keys.create({ name: 'publisher', grants: [{ bucket: 'pub', permission: 'readwrite', publish: true }] })).accessKeyId)
  const owner = box.as((await box.keys.create({ name: 'owner', grants: [{ bucket: 'pub', permission: 'fullaccess' }] })).accessKeyId)
  await writer.putObject('pub', 'plain', 'ok')
  await writer.putObject('pub', 'plain', 'ok', { acl: 'private' })
  await writer.putObject('pub', 'plain', 'ok', { acl: 'bucket-owner-read' })
  for (const acl of ['public-read', 'public-read-write', 'authenticated-read'] as const) {
    await t.rejects(writer.putObject('pub', 'leak', 'x', { acl }), denied, `putObject ${acl}`)
    await t.rejects(writer.copyObject('pub', 'plain', 'pub', 'leak', { acl }), denied, `copyObject ${acl}`)
    await t.rejects(writer.createMultipartUpload('pub', 'leak', { acl }), denied, `createMultipartUpload ${acl}`)
  }
  await t.rejects(writer.putObjectAcl('pub', 'plain', 'public-read'), denied, 'changing an ACL is fullaccess')
  await t.rejects(publisher.putObjectAcl('pub', 'plain', 'public-read'), denied, 'publish is for writes, not ACL changes')
  t.same((await box.listObjectsV2('pub')).contents.map(o => o.key), ['plain'], 'nothing refused was stored')
  t.same((await box.publicAccess('pub')).objects, [])

  await publisher.putObject('pub', 'shared', 'x', { acl: 'public-read' })
  await owner.copyObject('pub', 'plain', 'pub', 'copied', { acl: 'public-read' })
  await owner.putObjectAcl('pub', 'plain', 'public-read')
  t.same((await box.publicAccess('pub')).objects.map(o => o.key), ['copied', 'plain', 'shared'])
  t.same(box.keys.whoCanAccess('pub').map(a => [a.name, a.permission, a.publish ?? false]),
    [['writer', 'readwrite', false], ['publisher', 'readwrite', true], ['owner', 'fullaccess', true]])
  await t.rejects(box.keys.create({ name: 'bad', grants: [{ bucket: 'pub', permission: 'read', publish: true }] }), { code: 'InvalidArgument' })
  await t.rejects(box.keys.create({ name: 'bad', grants: [{ bucket: 'pub', permission: 'readwrite', publish: 'yes' as unknown as boolean }] }), { code: 'InvalidArgument' })
})

t.test('a multipart upload begun public is checked for the publish right again as it completes', async t => {
  const box = await open(t)
  await box.createBucket('mpu')
  const { accessKeyId } = await box.keys.create({ name: 'p', grants: [{ bucket: 'mpu', permission: 'readwrite', publish: true }] })
  const view = box.as(accessKeyId)
  const { uploadId } = await view.createMultipartUpload('mpu', 'big', { acl: 'public-read' })
  const { etag } = await view.uploadPart('mpu', 'big', uploadId, 1, 'part')
  await box.keys.update(accessKeyId, { grants: [{ bucket: 'mpu', permission: 'readwrite' }] })
  await t.rejects(view.completeMultipartUpload('mpu', 'big', uploadId, [{ partNumber: 1, etag }]), denied)
  t.same((await box.listObjectsV2('mpu')).contents, [], 'not completed')
  await box.keys.update(accessKeyId, { grants: [{ bucket: 'mpu', permission: 'readwrite', publish: true }] })
  await view.completeMultipartUpload('mpu', 'big', uploadId, [{ partNumber: 1, etag }])
  t.equal(await text(box.anonymous(), 'mpu', 'big'), 'part', 'the completed object has the ACL the upload began with')
})

t.test('a copy never takes its source\'s ACL', async t => {
  const box = await open(t)
  await box.createBucket('cpy')
  await box.putObject('cpy', 'src', 'v', { acl: 'public-read' })
  await box.copyObject('cpy', 'src', 'cpy', 'dst')
  await t.rejects(box.anonymous().getObject('cpy', 'dst'), denied)
  t.equal((await box.getObjectAcl('cpy', 'dst')).acl, 'private')
})

t.test('ACLs are per version; publicAccess lists each public version, and its index follows every change', async t => {
  const box = await open(t)
  await box.createBucket('ver')
  await box.putObject('ver', 'k', 'null version', { acl: 'public-read' })
  await box.putBucketVersioning('ver', 'Enabled')
  const v1 = (await box.putObject('ver', 'k', 'one')).versionId as string
  const v2 = (await box.putObject('ver', 'k', 'two', { acl: 'public-read' })).versionId as string
  const anyone = box.anonymous()
  t.equal(await text(anyone, 'ver', 'k'), 'two')
  t.equal(await text(anyone, 'ver', 'k', { versionId: 'null' }), 'null version')
  await t.rejects(anyone.getObject('ver', 'k', { versionId: v1 }), denied)
  t.same((await box.publicAccess('ver')).objects, [{ key: 'k', versionId: v2, acl: 'public-read' }, { key: 'k', versionId: 'null', acl: 'public-read' }])

  t.same(await box.putObjectAcl('ver', 'k', 'public-read', { versionId: v1 }), { versionId: v1 })
  t.equal(await text(anyone, 'ver', 'k', { versionId: v1 }), 'one')
  t.same(await box.getObjectAcl('ver', 'k', { versionId: v1 }), { owner: (await box.getBucketAcl('ver')).owner, acl: 'public-read', versionId: v1 })
  await box.putObjectAcl('ver', 'k', 'private')
  await t.rejects(anyone.getObject('ver', 'k'), denied, 'the current version is private again')
  await box.deleteObject('ver', 'k', { versionId: 'null' })
  t.same((await box.publicAccess('ver')).objects.map(o => o.versionId), [v1], 'a version deleted for good leaves the index')
  const marker = (await box.deleteObject('ver', 'k')).versionId as string
  await t.rejects(box.putObjectAcl('ver', 'k', 'public-read'), { code: 'NoSuchKey' })
  await t.rejects(box.putObjectAcl('ver', 'k', 'public-read', { versionId: marker }), { code: 'MethodNotAllowed' })
  await box.deleteObject('ver', 'k', { versionId: v1 })
  t.same((await box.publicAccess('ver')).objects, [])

  await box.putBucketVersioning('ver', 'Suspended')
  await box.putObject('ver', 'n', 'a', { acl: 'public-read' })
  await box.putObject('ver', 'n', 'b')
  t.same((await box.publicAccess('ver')).objects, [], 'the null version replaced leaves the index')
  await t.rejects(box.putObjectAcl('ver', 'n', 'public' as 'private'), { code: 'InvalidArgument', detail: { argumentName: 'x-amz-acl' } })
})

t.test('publicAccess pages through public objects at a cost that does not grow with private ones', async t => {
  const box = await open(t)
  await box.createBucket('many')
  for (let i = 0; i < 300; i++) await box.putObject('many', `private/${String(i).padStart(3, '0')}`, 'x')
  for (const key of ['a', 'b', 'c']) await box.putObject('many', key, 'x', { acl: 'public-read' })
  const first = await box.publicAccess('many', { maxObjects: 2 })
  t.same([first.objects.map(o => o.key), first.isTruncated], [['a', 'b'], true])
  const second = await box.publicAccess('many', { maxObjects: 2, startAfter: first.nextStartAfter as string })
  t.same([second.objects.map(o => o.key), second.isTruncated], [['c'], false])
  t.same((await box.publicAccess('many', { startAfter: 'a' })).objects.map(o => o.key), ['b', 'c'])
  await t.rejects(box.publicAccess('many', { maxObjects: -1 }), { code: 'InvalidArgument' })
  await t.rejects(box.publicAccess('nowhere'), { code: 'NoSuchBucket' })
})

t.test('a bucket policy: Allow opens reads to anyone, Deny takes from keys and anyone, grants stay a key\'s ceiling', async t => {
  const box = await open(t)
  await box.createBucket('pol')
  await box.createBucket('other')
  await box.putObject('pol', 'public/a', 'a')
  await box.putObject('pol', 'private/b', 'b')
  const anyone = box.anonymous()
  await t.rejects(box.getBucketPolicy('pol'), { code: 'NoSuchBucketPolicy' })
  await t.rejects(box.getBucketPolicyStatus('pol'), { code: 'NoSuchBucketPolicy' })
  const text1 = policy({ Sid: 'read', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol/public/*' })
  await box.putBucketPolicy('pol', text1)
  t.equal(await box.getBucketPolicy('pol'), text1, 'as given')
  t.same(await box.getBucketPolicyStatus('pol'), { isPublic: true })
  t.equal(await text(anyone, 'pol', 'public/a'), 'a')
  await t.rejects(anyone.getObject('pol', 'private/b'), denied)
  await t.rejects(anyone.listObjectsV2('pol'), denied)
  t.same((await box.publicAccess('pol')).policy.map(s => s.sid), ['read'])

  const elsewhere = await box.keys.create({ name: 'elsewhere', grants: [{ bucket: 'other', permission: 'read' }] })
  await t.rejects(box.as(elsewhere.accessKeyId).getObject('pol', 'private/b'), denied, 'a policy Allow never widens a key')
  const reader = await box.keys.create({ name: 'reader', grants: [{ bucket: 'pol', permission: 'readwrite' }] })
  const view = box.as(reader.accessKeyId)
  t.equal(await text(view, 'pol', 'private/b'), 'b')
  await box.putBucketPolicy('pol', policy(
    { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol/public/*' },
    { Effect: 'Deny', Principal: { AWS: [reader.accessKeyId] }, Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::pol/private/*' },
    { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol/public/hidden' }))
  await t.rejects(view.getObject('pol', 'private/b'), denied, 'Deny names the key')
  await t.rejects(view.putObject('pol', 'private/c', 'c'), denied)
  t.equal(await text(view, 'pol', 'public/a'), 'a', 'outside the Deny, the grants apply')
  await box.putObject('pol', 'public/hidden', 'h')
  await t.rejects(anyone.getObject('pol', 'public/hidden'), denied, 'Deny wins over Allow')
  t.equal(box.keys.usage(reader.accessKeyId).denied, 2, 'refusals are counted')

  await box.deleteBucketPolicy('pol')
  await t.rejects(anyone.getObject('pol', 'public/a'), denied, 'gone with the policy')
  t.equal(await text(view, 'pol', 'private/b'), 'b')
  await t.rejects(box.putBucketPolicy('pol', '{ not json'), { code: 'MalformedPolicy' })
  await t.rejects(box.putBucketPolicy('pol', policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::other/*' })), { code: 'MalformedPolicy' })
  await t.rejects(box.getBucketPolicy('pol'), { code: 'NoSuchBucketPolicy' }, 'nothing stored by a refused put')
})

t.test('a policy Deny is checked again as a write commits; a fullaccess key can always replace the policy', async t => {
  const box = await open(t)
  await box.createBucket('late')
  const { accessKeyId } = await box.keys.create({ name: 'w', grants: [{ bucket: 'late', permission: 'fullaccess' }] })
  const view = box.as(accessKeyId)
  const body = (async function * () {
    yield 'first '
    await box.putBucketPolicy('late', policy({ Effect: 'Deny', Principal: '*', Action: '*', Resource: ['arn:aws:s3:::late', 'arn:aws:s3:::late/*'] }))
    yield 'second'
  })()
  await t.rejects(view.putObject('late', 'k', body), denied, 'the policy changed while the body streamed in')
  t.same((await box.listObjectsV2('late')).contents, [])
  await t.rejects(view.getBucketAcl('late'), denied)
  t.type(await view.getBucketPolicy('late'), 'string', 'the owner still reads the policy')
  await view.deleteBucketPolicy('late')
  await view.putObject('late', 'k', 'ok')
})

t.test('policy conditions test the request context a view is given', async t => {
  const box = await open(t)
  await box.createBucket('ctx')
  await box.putObject('ctx', 'k', 'v')
  await box.putBucketPolicy('ctx', policy(
    { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::ctx/*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
    { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::ctx/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }))
  t.equal(await text(box.anonymous({ sourceIp: '10.1.2.3', secureTransport: true }), 'ctx', 'k'), 'v')
  await t.rejects(box.anonymous({ sourceIp: '192.168.0.1', secureTransport: true }).getObject('ctx', 'k'), denied)
  await t.rejects(box.anonymous({ sourceIp: '10.1.2.3', secureTransport: false }).getObject('ctx', 'k'), denied)
  t.same(await box.getBucketPolicyStatus('ctx'), { isPublic: false }, 'an allow-list of addresses is not public')
  t.throws(() => box.anonymous({ sourceIp: 7 as unknown as string }), TypeError)
})

t.test('ACLs and policies survive a reopen', async t => {
  const location = await tempDir(t)
  let box = await Spacebox.open({ location })
  await box.createBucket('keep', { acl: 'public-read' })
  await box.putObject('keep', 'k', 'v', { acl: 'public-read' })
  const text1 = policy({ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::keep/*' })
  await box.putBucketPolicy('keep', text1)
  await box.close()
  box = await Spacebox.open({ location })
  t.teardown(async () => { await box.close() })
  t.equal((await box.getBucketAcl('keep')).acl, 'public-read')
  t.equal(await box.getBucketPolicy('keep'), text1)
  t.equal(await text(box.anonymous(), 'keep', 'k'), 'v')
  t.same((await box.publicAccess('keep')).objects.map(o => o.key), ['k'])
})
