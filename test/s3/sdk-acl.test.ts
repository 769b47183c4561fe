import t, { type Test } from 'tap'
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetBucketAclCommand,
  GetObjectAclCommand, ListBucketsCommand, PutBucketAclCommand, PutBucketVersioningCommand, PutObjectAclCommand, PutObjectCommand,
  UploadPartCommand, type Grant, type ObjectCannedACL, type Owner, type S3Client
} from '@aws-sdk/client-s3'
import { serve, type Served } from './helpers.js'
import { rejects, stored } from './sdk-helpers.js'

/** A field the SDK copied from S3's error body onto the error (Message as `message`). */
const field = (err: unknown, name: string): unknown => (err as Record<string, unknown> | undefined)?.[name]

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'

async function setup (t: Test): Promise<{ s: Served, c: S3Client, owner: Owner }> {
  const s = await serve(t)
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'bkt' }))
  const { owner } = await s.box.getBucketAcl('bkt')
  return { s, c, owner: { ID: owner.id, DisplayName: owner.displayName } }
}

/** An unsigned request, as a browser or curl makes it. */
async function anonymous (s: Served, path: string, method = 'GET'): Promise<{ status: number, body: string, code: string }> {
  const res = await fetch(`${s.server.url}${path}`, { method })
  const body = await res.text()
  return { status: res.status, body, code: /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? '' }
}

/** The grants S3 lists for a canned ACL: the owner's FULL_CONTROL first, then the groups'. */
function grantsOf (owner: Owner, acl: 'private' | 'public-read' | 'public-read-write' | 'authenticated-read'): Grant[] {
  const group = (uri: string, permission: 'READ' | 'WRITE'): Grant => ({ Grantee: { Type: 'Group', URI: uri }, Permission: permission })
  const grants: Grant[] = [{ Grantee: { Type: 'CanonicalUser', ID: owner.ID, DisplayName: owner.DisplayName }, Permission: 'FULL_CONTROL' }]
  if (acl === 'public-read' || acl === 'public-read-write') grants.push(group(ALL_USERS, 'READ'))
  if (acl === 'public-read-write') grants.push(group(ALL_USERS, 'WRITE'))
  if (acl === 'authenticated-read') grants.push(group(AUTHENTICATED_USERS, 'READ'))
  return grants
}

t.test('an object put with ACL public-read is readable without a signature; a private one is not', async t => {
  const { s, c } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'photo.jpg', Body: 'public bytes', ACL: 'public-read' }))
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'secret.txt', Body: 'private bytes' }))
  const open = await anonymous(s, '/bkt/photo.jpg')
  t.equal(open.status, 200)
  t.equal(open.body, 'public bytes')
  t.equal((await anonymous(s, '/bkt/photo.jpg', 'HEAD')).status, 200, 'HEAD too')
  const closed = await anonymous(s, '/bkt/secret.txt')
  t.equal(closed.status, 403)
  t.equal(closed.code, 'AccessDenied')
  t.equal((await anonymous(s, '/bkt?list-type=2')).status, 403, 'a public object does not make its private bucket listable')
  t.equal((await anonymous(s, '/bkt/photo.jpg?acl')).status, 403, 'reading an object is not reading its ACL')
})

t.test('GetObjectAcl answers the grants S3 shows for each canned ACL', async t => {
  const { c, owner } = await setup(t)
  const cases: Array<[ObjectCannedACL | undefined, 'private' | 'public-read' | 'public-read-write' | 'authenticated-read']> = [
    [undefined, 'private'], ['private', 'private'], ['public-read', 'public-read'], ['public-read-write', 'public-read-write'],
    ['authenticated-read', 'authenticated-read'], ['bucket-owner-read', 'private'], ['bucket-owner-full-control', 'private']
  ]
  for (const [given, shown] of cases) {
    const key = `k-${given ?? 'none'}`
    await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: 'x', ...(given === undefined ? {} : { ACL: given }) }))
    const out = await c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: key }))
    t.same(out.Owner, owner, `${given ?? 'no ACL'}: the store's owner`)
    t.same(out.Grants, grantsOf(owner, shown), `${given ?? 'no ACL'}: the grants of ${shown}`)
  }
})

t.test('PutObjectAcl with a canned ACL makes an object public and private again', async t => {
  const { s, c, owner } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'data' }))
  t.equal((await anonymous(s, '/bkt/k')).status, 403)
  await c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', ACL: 'public-read' }))
  t.equal((await anonymous(s, '/bkt/k')).body, 'data')
  t.same((await c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k' }))).Grants, grantsOf(owner, 'public-read'))
  await c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', ACL: 'private' }))
  t.equal((await anonymous(s, '/bkt/k')).status, 403, 'private again')
})

t.test('PutObjectAcl with an AccessControlPolicy equal to a canned ACL sets that ACL', async t => {
  const { s, c, owner } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'data' }))
  // As s3cmd setacl --acl-public does: read the ACL, add AllUsers READ, put it back.
  const current = await c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k' }))
  const grants = [...current.Grants!, { Grantee: { Type: 'Group' as const, URI: ALL_USERS }, Permission: 'READ' as const }]
  await c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', AccessControlPolicy: { Owner: current.Owner, Grants: grants } }))
  t.same((await c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k' }))).Grants, grantsOf(owner, 'public-read'))
  t.equal((await anonymous(s, '/bkt/k')).status, 200)

  // Order and repeats do not matter; the owner's DisplayName is optional.
  const rw = [
    { Grantee: { Type: 'Group' as const, URI: ALL_USERS }, Permission: 'WRITE' as const },
    { Grantee: { Type: 'CanonicalUser' as const, ID: owner.ID }, Permission: 'FULL_CONTROL' as const },
    { Grantee: { Type: 'Group' as const, URI: ALL_USERS }, Permission: 'READ' as const },
    { Grantee: { Type: 'Group' as const, URI: ALL_USERS }, Permission: 'READ' as const }
  ]
  await c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', AccessControlPolicy: { Owner: { ID: owner.ID }, Grants: rw } }))
  t.same((await c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k' }))).Grants, grantsOf(owner, 'public-read-write'))

  // Only the owner's FULL_CONTROL: private.
  await c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', AccessControlPolicy: { Owner: owner, Grants: [rw[1]!] } }))
  t.same((await c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k' }))).Grants, grantsOf(owner, 'private'))
  t.equal((await anonymous(s, '/bkt/k')).status, 403)
})

t.test('an AccessControlPolicy no canned ACL equals is refused, saying why, and changes nothing', async t => {
  const { s, c, owner } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'data' }))
  const full = { Grantee: { Type: 'CanonicalUser' as const, ID: owner.ID }, Permission: 'FULL_CONTROL' as const }
  const refused: Array<[string, Grant[], string, number]> = [
    ['no owner FULL_CONTROL', [{ Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }], 'NotImplemented', 501],
    ['AllUsers WRITE alone', [full, { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'WRITE' }], 'NotImplemented', 501],
    ['AllUsers READ_ACP', [full, { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ_ACP' }], 'NotImplemented', 501],
    ['LogDelivery', [full, { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/s3/LogDelivery' }, Permission: 'WRITE' }], 'NotImplemented', 501],
    ['both groups', [full, { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }, { Grantee: { Type: 'Group', URI: AUTHENTICATED_USERS }, Permission: 'READ' }], 'NotImplemented', 501],
    ['an e-mail grantee', [full, { Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: 'a@example.com' }, Permission: 'READ' }], 'NotImplemented', 501],
    ['another canonical user', [full, { Grantee: { Type: 'CanonicalUser', ID: 'f'.repeat(64) }, Permission: 'READ' }], 'InvalidArgument', 400],
    ['an unknown group', [full, { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/Everyone' }, Permission: 'READ' }], 'InvalidArgument', 400]
  ]
  for (const [what, grants, code, status] of refused) {
    const err = await rejects(t, c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', AccessControlPolicy: { Owner: owner, Grants: grants } })), code, status, what)
    if (code === 'NotImplemented') t.match(field(err, 'message'), /canned ACLs only/, `${what}: the message says why`)
  }
  const wrongOwner = await rejects(t, c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', AccessControlPolicy: { Owner: { ID: 'a'.repeat(64) }, Grants: [full] } })),
    'InvalidArgument', 400, 'an owner that is not the store\'s')
  t.equal(field(wrongOwner, 'ArgumentName'), 'CanonicalUser/ID')
  t.same((await c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k' }))).Grants, grantsOf(owner, 'private'), 'still private')
  t.equal((await anonymous(s, '/bkt/k')).status, 403)
})

t.test('ACLs belong to versions: versionId names one, and GetObjectAcl reports it', async t => {
  const { s, c, owner } = await setup(t)
  await c.send(new PutBucketVersioningCommand({ Bucket: 'bkt', VersioningConfiguration: { Status: 'Enabled' } }))
  const v1 = (await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'one', ACL: 'public-read' }))).VersionId!
  const v2 = (await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'two' }))).VersionId!
  const latest = await c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k' }))
  t.same(latest.Grants, grantsOf(owner, 'private'), 'the new version is private: ACLs are not inherited')
  t.equal(latest.$metadata.httpStatusCode, 200)
  const first = await c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k', VersionId: v1 }))
  t.same(first.Grants, grantsOf(owner, 'public-read'))
  t.equal((await anonymous(s, '/bkt/k')).status, 403, 'the latest version is private')
  t.equal((await anonymous(s, `/bkt/k?versionId=${v1}`)).body, 'one', 'the public version is readable by its id')

  await c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', VersionId: v2, ACL: 'public-read' }))
  t.equal((await anonymous(s, '/bkt/k')).body, 'two')
  await c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', VersionId: v1, ACL: 'private' }))
  t.equal((await anonymous(s, `/bkt/k?versionId=${v1}`)).status, 403)
  t.same((await c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k', VersionId: v2 }))).Grants, grantsOf(owner, 'public-read'), 'v2 kept its ACL')

  await rejects(t, c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k', VersionId: 'nosuchversion' })), null, 400, 'a malformed version id')
  const marker = (await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k' }))).VersionId!
  await rejects(t, c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k' })), 'NoSuchKey', 404, 'behind a delete marker')
  await rejects(t, c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', VersionId: marker, ACL: 'public-read' })), 'MethodNotAllowed', 405, 'a delete marker has no ACL')
})

t.test('CreateBucket with ACL, GetBucketAcl and PutBucketAcl', async t => {
  const { s, c, owner } = await setup(t)
  await c.send(new CreateBucketCommand({ Bucket: 'open', ACL: 'public-read' }))
  const acl = await c.send(new GetBucketAclCommand({ Bucket: 'open' }))
  t.same(acl.Owner, owner)
  t.same(acl.Grants, grantsOf(owner, 'public-read'))
  await c.send(new PutObjectCommand({ Bucket: 'open', Key: 'inside', Body: 'x' }))
  const listing = await anonymous(s, '/open?list-type=2')
  t.equal(listing.status, 200, 'a public-read bucket may be listed by anyone')
  t.match(listing.body, /<Key>inside<\/Key>/)
  t.equal((await anonymous(s, '/open/inside')).status, 403, 'but its objects are not readable: they are private')

  t.same((await c.send(new GetBucketAclCommand({ Bucket: 'bkt' }))).Grants, grantsOf(owner, 'private'), 'a bucket is private by default')
  await c.send(new PutBucketAclCommand({ Bucket: 'bkt', ACL: 'authenticated-read' }))
  t.same((await c.send(new GetBucketAclCommand({ Bucket: 'bkt' }))).Grants, grantsOf(owner, 'authenticated-read'))
  t.equal((await anonymous(s, '/bkt?list-type=2')).status, 403, 'authenticated-read lets no unsigned caller in')
  await c.send(new PutBucketAclCommand({
    Bucket: 'bkt',
    AccessControlPolicy: { Owner: owner, Grants: grantsOf(owner, 'public-read-write') }
  }))
  t.same((await c.send(new GetBucketAclCommand({ Bucket: 'bkt' }))).Grants, grantsOf(owner, 'public-read-write'))
  await c.send(new PutBucketAclCommand({ Bucket: 'open', ACL: 'private' }))
  t.equal((await anonymous(s, '/open?list-type=2')).status, 403, 'private again')

  await c.send(new CreateBucketCommand({ Bucket: 'owned', ACL: 'private' }))
  t.same((await c.send(new GetBucketAclCommand({ Bucket: 'owned' }))).Grants, grantsOf(owner, 'private'))
  // Clients build an AccessControlPolicy from ListBuckets' Owner as often as from GetBucketAcl's.
  t.same((await c.send(new ListBucketsCommand({}))).Owner, owner, 'ListBuckets names the same owner')
})

t.test('a copy and a multipart upload carry the ACL of their request, never the source\'s', async t => {
  const { s, c, owner } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'src', Body: 'source', ACL: 'public-read' }))
  await c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'plain-copy', CopySource: 'bkt/src' }))
  t.same((await c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'plain-copy' }))).Grants, grantsOf(owner, 'private'))
  await c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'public-copy', CopySource: 'bkt/src', ACL: 'public-read' }))
  t.equal((await anonymous(s, '/bkt/public-copy')).body, 'source')

  const upload = await c.send(new CreateMultipartUploadCommand({ Bucket: 'bkt', Key: 'big', ACL: 'public-read' }))
  const part = await c.send(new UploadPartCommand({ Bucket: 'bkt', Key: 'big', UploadId: upload.UploadId, PartNumber: 1, Body: 'parts' }))
  t.equal((await anonymous(s, '/bkt/big')).status, 403, 'nothing to read before completion')
  await c.send(new CompleteMultipartUploadCommand({
    Bucket: 'bkt', Key: 'big', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] }
  }))
  t.equal((await anonymous(s, '/bkt/big')).body, 'parts')
})

t.test('ACL requests S3 refuses are refused the same way, and change nothing', async t => {
  const { s, c, owner } = await setup(t)
  const bogus = 'public' as ObjectCannedACL
  const err = await rejects(t, c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x', ACL: bogus })), 'InvalidArgument', 400, 'an unknown canned ACL')
  t.equal(field(err, 'ArgumentName'), 'x-amz-acl')
  t.equal(field(err, 'ArgumentValue'), 'public')
  t.notOk(await stored(s, 'bkt', 'k'), 'nothing stored')
  await rejects(t, c.send(new CreateBucketCommand({ Bucket: 'nope', ACL: 'bogus' as 'private' })), 'InvalidArgument', 400)
  await rejects(t, c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x', ACL: 'aws-exec-read' })), 'NotImplemented', 501, 'a canned ACL S3 has and spacebox does not keep')
  t.notOk(await stored(s, 'bkt', 'k'))

  const grant = await rejects(t, c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x', GrantRead: `uri="${ALL_USERS}"` })), 'NotImplemented', 501, 'grant headers')
  t.match(field(grant, 'message'), /canned ACLs only/)
  t.notOk(await stored(s, 'bkt', 'k'))
  await rejects(t, c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x', ACL: 'private', GrantRead: `uri="${ALL_USERS}"` })), 'InvalidRequest', 400, 'canned and grants')

  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x' }))
  await rejects(t, c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', GrantRead: `uri="${ALL_USERS}"` })), 'NotImplemented', 501)
  await rejects(t, c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', ACL: 'public-read', GrantRead: `uri="${ALL_USERS}"` })), 'InvalidRequest', 400)
  await rejects(t, c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', ACL: 'public-read', AccessControlPolicy: { Owner: owner, Grants: grantsOf(owner, 'public-read') } })),
    'UnexpectedContent', 400, 'a canned ACL and a body')
  await rejects(t, c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k' })), 'MissingSecurityHeader', 400, 'neither')
  await rejects(t, c.send(new PutBucketAclCommand({ Bucket: 'bkt', ACL: 'bogus' as 'private' })), 'InvalidArgument', 400)
  t.equal((await anonymous(s, '/bkt/k')).status, 403, 'nothing made public')
  t.same((await c.send(new GetBucketAclCommand({ Bucket: 'bkt' }))).Grants, grantsOf(owner, 'private'))

  await rejects(t, c.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'missing' })), 'NoSuchKey', 404)
  await rejects(t, c.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'missing', ACL: 'public-read' })), 'NoSuchKey', 404)
  await rejects(t, c.send(new GetBucketAclCommand({ Bucket: 'missing' })), 'NoSuchBucket', 404)
  await rejects(t, c.send(new PutBucketAclCommand({ Bucket: 'missing', ACL: 'public-read' })), 'NoSuchBucket', 404)
  t.notOk(await stored(s, 'bkt', 'missing'))
})

t.test('changing an ACL needs fullaccess; reading one needs read', async t => {
  const { s, c, owner } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x' }))
  const writer = await s.keyed([{ bucket: 'bkt', permission: 'readwrite' }])
  const reader = await s.keyed([{ bucket: 'bkt', permission: 'read' }])
  const admin = await s.keyed([{ bucket: 'bkt', permission: 'fullaccess' }])
  for (const [who, client] of [['readwrite', writer.client], ['read', reader.client]] as const) {
    await rejects(t, client.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', ACL: 'public-read' })), 'AccessDenied', 403, `${who}: PutObjectAcl`)
    await rejects(t, client.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', AccessControlPolicy: { Owner: owner, Grants: grantsOf(owner, 'public-read') } })),
      'AccessDenied', 403, `${who}: PutObjectAcl with a body`)
    await rejects(t, client.send(new PutBucketAclCommand({ Bucket: 'bkt', ACL: 'public-read' })), 'AccessDenied', 403, `${who}: PutBucketAcl`)
    t.same((await client.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k' }))).Grants, grantsOf(owner, 'private'), `${who}: GetObjectAcl`)
    t.same((await client.send(new GetBucketAclCommand({ Bucket: 'bkt' }))).Grants, grantsOf(owner, 'private'), `${who}: GetBucketAcl`)
  }
  t.equal((await anonymous(s, '/bkt/k')).status, 403, 'nothing made public')
  t.equal((await anonymous(s, '/bkt?list-type=2')).status, 403)
  await admin.client.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'k', ACL: 'public-read' }))
  await admin.client.send(new PutBucketAclCommand({ Bucket: 'bkt', ACL: 'public-read' }))
  t.equal((await anonymous(s, '/bkt/k')).status, 200, 'fullaccess on the bucket may')
  const other = await s.keyed([{ bucket: 'other', permission: 'fullaccess' }])
  await rejects(t, other.client.send(new GetObjectAclCommand({ Bucket: 'bkt', Key: 'k' })), 'AccessDenied', 403, 'a key for another bucket reads no ACL here')
})

t.test('writing with a public ACL needs the publish right; without it nothing is stored', async t => {
  const { s, c } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'src', Body: 'source' }))
  const writer = await s.keyed([{ bucket: 'bkt', permission: 'readwrite' }])
  for (const acl of ['public-read', 'public-read-write', 'authenticated-read'] as const) {
    await rejects(t, writer.client.send(new PutObjectCommand({ Bucket: 'bkt', Key: `w-${acl}`, Body: 'x', ACL: acl })), 'AccessDenied', 403, `PutObject ${acl}`)
    t.notOk(await stored(s, 'bkt', `w-${acl}`), `${acl}: nothing stored`)
  }
  await rejects(t, writer.client.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'w-copy', CopySource: 'bkt/src', ACL: 'public-read' })), 'AccessDenied', 403, 'CopyObject')
  t.notOk(await stored(s, 'bkt', 'w-copy'))
  await rejects(t, writer.client.send(new CreateMultipartUploadCommand({ Bucket: 'bkt', Key: 'w-mpu', ACL: 'public-read' })), 'AccessDenied', 403, 'CreateMultipartUpload')
  for (const acl of ['private', 'bucket-owner-full-control'] as const) {
    await writer.client.send(new PutObjectCommand({ Bucket: 'bkt', Key: `w-${acl}`, Body: 'x', ACL: acl }))
    t.ok(await stored(s, 'bkt', `w-${acl}`), `${acl} needs no publish right`)
  }
  t.equal((await anonymous(s, '/bkt/w-private')).status, 403)

  const publisher = await s.keyed([{ bucket: 'bkt', permission: 'readwrite', publish: true }])
  await publisher.client.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'published', Body: 'hello', ACL: 'public-read' }))
  t.equal((await anonymous(s, '/bkt/published')).body, 'hello', 'a readwrite key with publish may')
  await publisher.client.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'published-copy', CopySource: 'bkt/src', ACL: 'public-read' }))
  t.equal((await anonymous(s, '/bkt/published-copy')).body, 'source')
  await rejects(t, publisher.client.send(new PutObjectAclCommand({ Bucket: 'bkt', Key: 'src', ACL: 'public-read' })), 'AccessDenied', 403,
    'publishing while writing is not changing ACLs: PutObjectAcl still needs fullaccess')
})
