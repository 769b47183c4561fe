import t, { type Test } from 'tap'
import {
  CreateBucketCommand, DeleteBucketPolicyCommand, GetBucketPolicyCommand, GetBucketPolicyStatusCommand, GetObjectCommand, PutBucketPolicyCommand,
  PutObjectCommand, type S3Client
} from '@aws-sdk/client-s3'
import { bodyBytes, serve, type Served } from './helpers.js'
import { rejects, stored } from './sdk-helpers.js'
import { sendSigned } from './wire.js'

/** A field the SDK copied from S3's error body onto the error (Message as `message`). */
const field = (err: unknown, name: string): unknown => (err as Record<string, unknown> | undefined)?.[name]

async function setup (t: Test): Promise<{ s: Served, c: S3Client }> {
  const s = await serve(t)
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'bkt' }))
  for (const key of ['public/a.txt', 'private/b.txt', 'secret.txt', 'open.txt']) {
    await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: `body of ${key}` }))
  }
  return { s, c }
}

type Statement = Record<string, unknown>

function policyOf (...statements: Statement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements })
}

const READ_PUBLIC: Statement = { Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bkt/public/*' }

async function putPolicy (c: S3Client, policy: string, bucket = 'bkt'): Promise<number | undefined> {
  return (await c.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }))).$metadata.httpStatusCode
}

/** An unsigned GET, as a browser or curl makes it. */
async function anonymous (s: Served, path: string): Promise<{ status: number, body: string }> {
  const res = await fetch(`${s.server.url}${path}`)
  return { status: res.status, body: await res.text() }
}

async function read (c: S3Client, key: string): Promise<string> {
  return await (await c.send(new GetObjectCommand({ Bucket: 'bkt', Key: key }))).Body!.transformToString()
}

t.test('PutBucketPolicy, GetBucketPolicy and DeleteBucketPolicy', async t => {
  const { s, c } = await setup(t)
  await rejects(t, c.send(new GetBucketPolicyCommand({ Bucket: 'bkt' })), 'NoSuchBucketPolicy', 404, 'none yet')
  // Indented as a person writes it: GetBucketPolicy answers the text as given.
  const text = JSON.stringify({ Version: '2012-10-17', Statement: [READ_PUBLIC] }, null, 2)
  t.equal(await putPolicy(c, text), 204)
  t.equal((await c.send(new GetBucketPolicyCommand({ Bucket: 'bkt' }))).Policy, text)
  const raw = await sendSigned(s.server.url, s.credentials, 'GET', '/bkt?policy')
  t.equal(raw.headers['content-type'], 'application/json')
  t.equal(raw.text, text)

  const replaced = policyOf({ ...READ_PUBLIC, Resource: 'arn:aws:s3:::bkt/open.txt' })
  t.equal(await putPolicy(c, replaced), 204, 'a second put replaces the first')
  t.equal((await c.send(new GetBucketPolicyCommand({ Bucket: 'bkt' }))).Policy, replaced)

  const deleted = await c.send(new DeleteBucketPolicyCommand({ Bucket: 'bkt' }))
  t.equal(deleted.$metadata.httpStatusCode, 204)
  await rejects(t, c.send(new GetBucketPolicyCommand({ Bucket: 'bkt' })), 'NoSuchBucketPolicy', 404, 'gone')
  const missing = await sendSigned(s.server.url, s.credentials, 'GET', '/bkt?policy')
  t.match(missing.text, '<BucketName>bkt</BucketName>', 'the error names the bucket')
  t.match(missing.text, '<Message>The bucket policy does not exist</Message>')
  t.equal((await c.send(new DeleteBucketPolicyCommand({ Bucket: 'bkt' }))).$metadata.httpStatusCode, 204, 'deleting no policy is no error')

  await rejects(t, c.send(new PutBucketPolicyCommand({ Bucket: 'missing', Policy: policyOf({ ...READ_PUBLIC, Resource: 'arn:aws:s3:::missing/*' }) })), 'NoSuchBucket', 404)
  await rejects(t, c.send(new GetBucketPolicyCommand({ Bucket: 'missing' })), 'NoSuchBucket', 404)
  await rejects(t, c.send(new DeleteBucketPolicyCommand({ Bucket: 'missing' })), 'NoSuchBucket', 404)
  await rejects(t, c.send(new GetBucketPolicyStatusCommand({ Bucket: 'missing' })), 'NoSuchBucket', 404)
})

t.test('an anonymous GET a policy allows succeeds, and is refused once the policy is deleted', async t => {
  const { s, c } = await setup(t)
  t.equal((await anonymous(s, '/bkt/public/a.txt')).status, 403, 'private before any policy')
  await putPolicy(c, policyOf(READ_PUBLIC))
  const open = await anonymous(s, '/bkt/public/a.txt')
  t.equal(open.status, 200)
  t.equal(open.body, 'body of public/a.txt')
  t.equal((await anonymous(s, '/bkt/private/b.txt')).status, 403, 'outside the statement\'s resource')
  t.equal((await anonymous(s, '/bkt?list-type=2')).status, 403, 's3:GetObject does not list the bucket')
  t.equal((await anonymous(s, '/bkt/public/missing.txt')).status, 403, 'a miss is 403 without s3:ListBucket, as S3 answers')
  await c.send(new DeleteBucketPolicyCommand({ Bucket: 'bkt' }))
  t.equal((await anonymous(s, '/bkt/public/a.txt')).status, 403, 'refused again')
})

t.test('a policy can let anyone list a bucket', async t => {
  const { s, c } = await setup(t)
  await putPolicy(c, policyOf({ Effect: 'Allow', Principal: { AWS: '*' }, Action: ['s3:ListBucket'], Resource: 'arn:aws:s3:::bkt' }))
  const listing = await anonymous(s, '/bkt?list-type=2&prefix=public/')
  t.equal(listing.status, 200)
  t.match(listing.body, '<Key>public/a.txt</Key>')
  t.equal((await anonymous(s, '/bkt/public/a.txt')).status, 403, 'listing is not reading')
})

t.test('a Deny naming one key refuses it what its grants allow; other callers are unaffected', async t => {
  const { s, c } = await setup(t)
  const key = await s.keyed([{ bucket: 'bkt', permission: 'readwrite' }])
  t.equal(await read(key.client, 'secret.txt'), 'body of secret.txt', 'allowed by its grant before the policy')
  await putPolicy(c, policyOf({ Sid: 'NotThisKey', Effect: 'Deny', Principal: { AWS: [key.accessKeyId] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::bkt/secret.txt' }))
  await rejects(t, key.client.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'secret.txt' })), 'AccessDenied', 403, 'denied by the policy')
  t.equal(await read(key.client, 'open.txt'), 'body of open.txt', 'other objects still readable')
  await key.client.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'secret.txt', Body: 'overwritten' }))
  t.equal(await read(c, 'secret.txt'), 'overwritten', 'the Deny names GetObject only; the full key still reads')
  const other = await s.keyed([{ bucket: 'bkt', permission: 'read' }])
  t.equal(await read(other.client, 'secret.txt'), 'overwritten', 'a key the Deny does not name')
  await c.send(new DeleteBucketPolicyCommand({ Bucket: 'bkt' }))
  t.equal(await read(key.client, 'secret.txt'), 'overwritten', 'allowed again once the policy is gone')
})

t.test('a Deny for everyone wins over an Allow for everyone, and over a full key\'s grants', async t => {
  const { s, c } = await setup(t)
  await putPolicy(c, policyOf(
    { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bkt/*' },
    { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bkt/secret.txt' }
  ))
  t.equal((await anonymous(s, '/bkt/open.txt')).status, 200)
  t.equal((await anonymous(s, '/bkt/secret.txt')).status, 403)
  await rejects(t, c.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'secret.txt' })), 'AccessDenied', 403, 'an explicit Deny applies to the full key too')
  t.equal((await bodyBytes((await s.box.getObject('bkt', 'secret.txt')).body)).toString(), 'body of secret.txt',
    'the embedded owner is not a caller the policy names')
  await c.send(new DeleteBucketPolicyCommand({ Bucket: 'bkt' }))
  t.equal(await read(c, 'secret.txt'), 'body of secret.txt')
})

t.test('a policy never gives a key more than its grants', async t => {
  const { s, c } = await setup(t)
  const reader = await s.keyed([{ bucket: 'bkt', permission: 'read' }])
  await putPolicy(c, policyOf({ Effect: 'Allow', Principal: { AWS: [reader.accessKeyId] }, Action: 's3:*', Resource: ['arn:aws:s3:::bkt', 'arn:aws:s3:::bkt/*'] }))
  await rejects(t, reader.client.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'written.txt', Body: 'x' })), 'AccessDenied', 403)
  t.notOk(await stored(s, 'bkt', 'written.txt'))
  await rejects(t, reader.client.send(new DeleteBucketPolicyCommand({ Bucket: 'bkt' })), 'AccessDenied', 403, 'nor the right to change the policy')
})

t.test('GetBucketPolicyStatus says whether the policy lets anyone in', async t => {
  const { s, c } = await setup(t)
  await rejects(t, c.send(new GetBucketPolicyStatusCommand({ Bucket: 'bkt' })), 'NoSuchBucketPolicy', 404, 'no policy')
  const key = await s.keyed([{ bucket: 'bkt', permission: 'read' }])
  const cases: Array<[string, string, boolean]> = [
    ['Allow * GetObject', policyOf(READ_PUBLIC), true],
    ['Allow {AWS: *} ListBucket', policyOf({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::bkt' }), true],
    ['Allow one key', policyOf({ ...READ_PUBLIC, Principal: { AWS: [key.accessKeyId] } }), false],
    ['Deny * alone', policyOf({ ...READ_PUBLIC, Effect: 'Deny' }), false]
  ]
  for (const [what, policy, isPublic] of cases) {
    await putPolicy(c, policy)
    const status = await c.send(new GetBucketPolicyStatusCommand({ Bucket: 'bkt' }))
    t.equal(status.PolicyStatus?.IsPublic, isPublic, what)
  }
  const raw = await sendSigned(s.server.url, s.credentials, 'GET', '/bkt?policyStatus')
  t.equal(raw.text, '<?xml version="1.0" encoding="UTF-8"?>\n<PolicyStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsPublic>false</IsPublic></PolicyStatus>')
  t.equal(raw.headers['content-type'], 'application/xml')
})

t.test('malformed policies are MalformedPolicy, and the policy in place stays', async t => {
  const { s, c } = await setup(t)
  const good = policyOf(READ_PUBLIC)
  await putPolicy(c, good)
  const bad: Array<[string, string]> = [
    ['not JSON', '{"Version": "2012-10-17", "Statement": ['],
    ['not an object', '["Statement"]'],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' })],
    ['an empty Statement', JSON.stringify({ Version: '2012-10-17', Statement: [] })],
    ['an unknown Version', JSON.stringify({ Version: '2020-01-01', Statement: [READ_PUBLIC] })],
    ['an unknown Effect', policyOf({ ...READ_PUBLIC, Effect: 'Maybe' })],
    ['an unknown action', policyOf({ ...READ_PUBLIC, Action: 's3:GetEverything' })],
    ['another bucket\'s resource', policyOf({ ...READ_PUBLIC, Resource: 'arn:aws:s3:::other/*' })],
    ['an unsupported condition operator', policyOf({ ...READ_PUBLIC, Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } } })],
    ['no Principal', policyOf({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bkt/*' })]
  ]
  for (const [what, policy] of bad) {
    const err = await rejects(t, c.send(new PutBucketPolicyCommand({ Bucket: 'bkt', Policy: policy })), 'MalformedPolicy', 400, what)
    t.match(field(err, 'message'), /\S/, `${what}: a message says what is wrong`)
  }
  t.equal((await c.send(new GetBucketPolicyCommand({ Bucket: 'bkt' }))).Policy, good, 'unchanged')
  t.equal((await anonymous(s, '/bkt/public/a.txt')).status, 200, 'still in force')
  t.equal((await anonymous(s, '/bkt/private/b.txt')).status, 403)
})

t.test('changing or reading a policy needs fullaccess; its public status needs read', async t => {
  const { s, c } = await setup(t)
  await putPolicy(c, policyOf(READ_PUBLIC))
  const writer = await s.keyed([{ bucket: 'bkt', permission: 'readwrite', publish: true }])
  const open = policyOf({ ...READ_PUBLIC, Resource: 'arn:aws:s3:::bkt/*' })
  await rejects(t, writer.client.send(new PutBucketPolicyCommand({ Bucket: 'bkt', Policy: open })), 'AccessDenied', 403, 'PutBucketPolicy')
  await rejects(t, writer.client.send(new GetBucketPolicyCommand({ Bucket: 'bkt' })), 'AccessDenied', 403, 'GetBucketPolicy')
  await rejects(t, writer.client.send(new DeleteBucketPolicyCommand({ Bucket: 'bkt' })), 'AccessDenied', 403, 'DeleteBucketPolicy')
  t.equal((await writer.client.send(new GetBucketPolicyStatusCommand({ Bucket: 'bkt' }))).PolicyStatus?.IsPublic, true, 'GetBucketPolicyStatus')
  t.equal((await anonymous(s, '/bkt/private/b.txt')).status, 403, 'the refused policy did not take effect')
  const admin = await s.keyed([{ bucket: 'bkt', permission: 'fullaccess' }])
  t.equal(await putPolicy(admin.client, open), 204, 'fullaccess on the bucket may')
  t.equal((await anonymous(s, '/bkt/private/b.txt')).status, 200)
})
