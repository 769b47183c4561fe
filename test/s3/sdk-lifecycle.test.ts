// Lifecycle over HTTP with the AWS SDK v3, on the test kit's manual clock: every call
// (Put/Get/DeleteBucketLifecycleConfiguration), x-amz-expiration on PUT, GET and HEAD, expiry as the
// clock moves, and what S3 refuses (sent raw where the SDK would not let a client write it).
import t, { type Test } from 'tap'
import {
  CreateMultipartUploadCommand, DeleteBucketLifecycleCommand, GetBucketLifecycleConfigurationCommand, GetObjectCommand,
  HeadObjectCommand, ListMultipartUploadsCommand, ListObjectVersionsCommand, PutBucketLifecycleConfigurationCommand, PutBucketVersioningCommand,
  PutObjectCommand, S3Client, type LifecycleRule
} from '@aws-sdk/client-s3'
import { startTestServer, type TestClock, type TestServer } from '../../lib/testing/index.js'
import { rejects } from './sdk-helpers.js'
import { md5Base64, sendSigned } from './wire.js'

/** The example of S3's documentation: created 1/15 10:30 UTC, 3 days: expires 1/19 00:00 UTC. */
const START = new Date('2030-01-15T10:30:00Z')

async function setup (t: Test, options: { profile?: 'aws' | 'spaces' } = {}): Promise<{ s: TestServer & { clock: TestClock }, c: S3Client }> {
  const s = await startTestServer({ clock: START, buckets: ['bkt'], ...options })
  const c = new S3Client({ ...s.client(), maxAttempts: 1 })
  t.teardown(async () => {
    c.destroy()
    await s.close()
  })
  return { s, c }
}

const RULES: LifecycleRule[] = [
  { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 3 } },
  { ID: 'big-tmp', Status: 'Enabled', Filter: { And: { Prefix: 'tmp/', Tags: [{ Key: 'temp', Value: 'yes' }], ObjectSizeGreaterThan: 100 } }, Expiration: { Days: 1 } },
  { ID: 'tagged', Status: 'Disabled', Filter: { Tag: { Key: 'k', Value: 'v' } }, Expiration: { Date: new Date('2031-01-01T00:00:00Z') } },
  { ID: 'small', Status: 'Enabled', Filter: { ObjectSizeLessThan: 10 }, NoncurrentVersionExpiration: { NoncurrentDays: 2, NewerNoncurrentVersions: 1 } },
  { Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
  { ID: 'markers', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { ExpiredObjectDeleteMarker: true } }
]

t.test('Put, Get and DeleteBucketLifecycleConfiguration round-trip every kind of rule', async t => {
  const { c } = await setup(t)
  await rejects(t, c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'bkt' })), 'NoSuchLifecycleConfiguration', 404, 'before any')
  const put = await c.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'bkt', LifecycleConfiguration: { Rules: RULES } }))
  t.equal(put.$metadata.httpStatusCode, 200)
  const got = (await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'bkt' }))).Rules ?? []
  t.equal(got.length, RULES.length)
  for (const [i, rule] of RULES.entries()) {
    if (rule.ID === undefined) {
      t.match(got[i], { ...rule, ID: /^.{1,255}$/ }, 'a rule without ID is given one')
    } else {
      t.same(got[i], rule, `rule ${rule.ID} as sent`)
    }
  }
  t.equal((await c.send(new DeleteBucketLifecycleCommand({ Bucket: 'bkt' }))).$metadata.httpStatusCode, 204)
  await rejects(t, c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'bkt' })), 'NoSuchLifecycleConfiguration', 404, 'after delete')
  t.equal((await c.send(new DeleteBucketLifecycleCommand({ Bucket: 'bkt' }))).$metadata.httpStatusCode, 204, 'deleting none is fine')
  await rejects(t, c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'nope' })), 'NoSuchBucket', 404, 'no bucket')
})

t.test('x-amz-expiration on PUT, GET and HEAD; the object expires when the clock passes it', async t => {
  const { s, c } = await setup(t)
  await c.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'bkt', LifecycleConfiguration: { Rules: [RULES[0] as LifecycleRule] } }))
  const header = 'expiry-date="Sat, 19 Jan 2030 00:00:00 GMT", rule-id="logs"'
  t.equal((await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'logs/a', Body: 'a' }))).Expiration, header, 'PUT')
  t.equal((await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'logs/a' }))).Expiration, header, 'HEAD')
  const got = await c.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'logs/a' }))
  await got.Body?.transformToString()
  t.equal(got.Expiration, header, 'GET')
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'other', Body: 'b' }))
  t.equal((await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'other' }))).Expiration, undefined, 'no rule, no header')

  t.same((await s.clock.advance('3d')).objects, [], '1/18 10:30: not yet')
  const result = await s.clock.set('2030-01-19T00:00:00Z')
  t.same(result.objects, [{ bucket: 'bkt', key: 'logs/a', ruleId: 'logs' }], '1/19 00:00: expired')
  await rejects(t, c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'logs/a' })), null, 404, 'gone over HTTP')
  t.ok(await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'other' })), 'the other object stays')
})

t.test('a versioned bucket: expiry writes a delete marker, old versions and lone markers go later', async t => {
  const { s, c } = await setup(t)
  await c.send(new PutBucketVersioningCommand({ Bucket: 'bkt', VersioningConfiguration: { Status: 'Enabled' } }))
  await c.send(new PutBucketLifecycleConfigurationCommand({
    Bucket: 'bkt',
    LifecycleConfiguration: {
      Rules: [
        { ID: 'cur', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } },
        { ID: 'old', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
        { ID: 'dm', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } }
      ]
    }
  }))
  const v1 = (await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'one' }))).VersionId
  let result = await s.clock.advance('2d')
  t.same(result.objects.map(o => [o.key, o.versionId, o.ruleId]), [['k', v1, 'cur']])
  const listed = await c.send(new ListObjectVersionsCommand({ Bucket: 'bkt' }))
  t.same(listed.DeleteMarkers?.map(m => [m.Key, m.VersionId, m.IsLatest]), [['k', result.objects[0]?.deleteMarkerVersionId, true]], 'a delete marker is current')
  t.same(listed.Versions?.map(v => [v.Key, v.VersionId, v.IsLatest]), [['k', v1, false]], 'the version is noncurrent')
  result = await s.clock.advance('2d')
  t.same(result.versions.map(v => v.versionId), [v1], 'noncurrent for a day, rounded to midnight: removed')
  t.equal(result.deleteMarkers.length, 1, 'and the marker, left alone, with it')
  t.same((await c.send(new ListObjectVersionsCommand({ Bucket: 'bkt' }))).Versions, undefined)
})

t.test('AbortIncompleteMultipartUpload aborts uploads started the rule\'s days ago', async t => {
  const { s, c } = await setup(t)
  await c.send(new PutBucketLifecycleConfigurationCommand({
    Bucket: 'bkt', LifecycleConfiguration: { Rules: [{ ID: 'mpu', Status: 'Enabled', Filter: { Prefix: 'up/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } }] }
  }))
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'bkt', Key: 'up/a' }))
  await c.send(new CreateMultipartUploadCommand({ Bucket: 'bkt', Key: 'keep/a' }))
  t.same((await s.clock.advance('2d')).uploads, [], 'two days later, before midnight: kept')
  t.same((await s.clock.advance('1d')).uploads, [{ bucket: 'bkt', key: 'up/a', ruleId: 'mpu', uploadId: UploadId }])
  t.same((await c.send(new ListMultipartUploadsCommand({ Bucket: 'bkt' }))).Uploads?.map(u => u.Key), ['keep/a'])
})

t.test('what S3 refuses: MalformedXML for the shape, InvalidArgument and InvalidRequest with S3\'s messages', async t => {
  const { s, c } = await setup(t)
  const put = async (rule: string, headers: Record<string, string> = {}): Promise<{ status: number, code: string, text: string }> => {
    const body = `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rule}</LifecycleConfiguration>`
    return await sendSigned(s.endpoint, s.credentials, 'PUT', '/bkt?lifecycle', { 'content-md5': md5Base64(body), ...headers }, body)
  }
  const malformed = [
    ['no rule', ''],
    ['a status in lower case', '<Rule><ID>a</ID><Filter/><Status>enabled</Status><Expiration><Days>1</Days></Expiration></Rule>'],
    ['two predicates outside And', '<Rule><Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>'],
    ['a filter and a prefix', '<Rule><Filter/><Prefix>a</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>'],
    ['neither filter nor prefix', '<Rule><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>'],
    ['Days and Date', '<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days><Date>2031-01-01T00:00:00Z</Date></Expiration></Rule>'],
    ['ExpiredObjectDeleteMarker with Days', '<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>'],
    ['Days not a number', '<Rule><Filter/><Status>Enabled</Status><Expiration><Days>one</Days></Expiration></Rule>'],
    ['an unknown element', '<Rule><Filter/><Status>Enabled</Status><Expiry><Days>1</Days></Expiry></Rule>']
  ] as const
  for (const [label, rule] of malformed) {
    const res = await put(rule)
    t.same([res.status, res.code], [400, 'MalformedXML'], label)
  }
  const tooMany = Array.from({ length: 1001 }, (_, i) => `<Rule><ID>r${i}</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`).join('')
  t.same([(await put(tooMany)).status, (await put(tooMany)).code], [400, 'MalformedXML'], '1001 rules')
  const duplicate = await put('<Rule><Filter><And><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>')
  t.same([duplicate.status, duplicate.code], [400, 'InvalidRequest'], 'a tag key twice in And')
  const transition = await put('<Rule><Filter/><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>')
  t.same([transition.status, transition.code], [501, 'NotImplemented'], 'transitions are not implemented')
  const body = '<LifecycleConfiguration><Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>'
  const unsigned = await sendSigned(s.endpoint, s.credentials, 'PUT', '/bkt?lifecycle', {}, body)
  t.same([unsigned.status, unsigned.code], [400, 'InvalidRequest'], 'neither Content-MD5 nor a checksum, as S3 requires one')

  const invalid: Array<[string, LifecycleRule, string, string]> = [
    ['Days 0', { ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Days: 0 } }, 'InvalidArgument', "'Days' for Expiration action must be a positive integer"],
    ['a Date at 01:00', { ID: 'a', Status: 'Enabled', Filter: {}, Expiration: { Date: new Date('2031-01-01T01:00:00Z') } }, 'InvalidArgument', "'Date' must be at midnight GMT"],
    ['a 256-character ID', { ID: 'x'.repeat(256), Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }, 'InvalidArgument', 'ID length should not exceed allowed limit of 255'],
    ['NoncurrentDays 0', { ID: 'a', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 0 } }, 'InvalidArgument', "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"],
    ['abort with a tag', { ID: 'a', Status: 'Enabled', Filter: { Tag: { Key: 'k', Value: 'v' } }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }, 'InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.']
  ]
  for (const [label, rule, code, message] of invalid) {
    const err = await rejects(t, c.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'bkt', LifecycleConfiguration: { Rules: [rule] } })), code, 400, label)
    t.equal((err as { message?: string } | undefined)?.message, message, `${label}: S3's message`)
  }
  const twice = await rejects(t, c.send(new PutBucketLifecycleConfigurationCommand({
    Bucket: 'bkt', LifecycleConfiguration: { Rules: [{ ID: 'same', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }, { ID: 'same', Status: 'Enabled', Filter: {}, Expiration: { Days: 2 } }] }
  })), 'InvalidArgument', 400, 'an ID twice')
  t.equal((twice as { message?: string } | undefined)?.message, 'Rule ID must be unique. Found same ID for more than one rule')
  await rejects(t, c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'bkt' })), 'NoSuchLifecycleConfiguration', 404, 'nothing refused was stored')
})

t.test('the older PutBucketLifecycle form (a prefix on the rule) is kept as given', async t => {
  const { s, c } = await setup(t)
  const body = '<LifecycleConfiguration><Rule><ID>old</ID><Prefix>logs/</Prefix><Status>Enabled</Status><Expiration><Days>5</Days></Expiration></Rule></LifecycleConfiguration>'
  const res = await sendSigned(s.endpoint, s.credentials, 'PUT', '/bkt?lifecycle', { 'content-md5': md5Base64(body) }, body)
  t.equal(res.status, 200)
  const got = await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'bkt' }))
  t.same(got.Rules, [{ ID: 'old', Prefix: 'logs/', Status: 'Enabled', Expiration: { Days: 5 } }])
})

t.test('a key without fullaccess may not read or change lifecycle rules', async t => {
  const { s, c } = await setup(t)
  await c.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'bkt', LifecycleConfiguration: { Rules: [RULES[0] as LifecycleRule] } }))
  const key = await s.box.keys.create({ name: 'rw', grants: [{ bucket: 'bkt', permission: 'readwrite' }] })
  const rw = new S3Client({ ...s.client(), credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 })
  t.teardown(() => { rw.destroy() })
  await rejects(t, rw.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'bkt' })), 'AccessDenied', 403, 'get')
  await rejects(t, rw.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'bkt', LifecycleConfiguration: { Rules: [] } })), null, 400, 'an empty configuration is malformed before anything else')
  await rejects(t, rw.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'bkt', LifecycleConfiguration: { Rules: [RULES[1] as LifecycleRule] } })), 'AccessDenied', 403, 'put')
  await rejects(t, rw.send(new DeleteBucketLifecycleCommand({ Bucket: 'bkt' })), 'AccessDenied', 403, 'delete')
  t.equal((await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'bkt' }))).Rules?.length, 1, 'unchanged')
  t.equal((await rw.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'logs/x', Body: 'x' }))).Expiration, 'expiry-date="Sat, 19 Jan 2030 00:00:00 GMT", rule-id="logs"', 'a writer still sees when its object expires')
})

t.test('the spaces profile: lifecycle is there, tag filters and transitions are not', async t => {
  const { c } = await setup(t, { profile: 'spaces' })
  await c.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'bkt', LifecycleConfiguration: { Rules: [RULES[0] as LifecycleRule, RULES[4] as LifecycleRule] } }))
  t.equal((await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'bkt' }))).Rules?.length, 2)
  await rejects(t, c.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'bkt', LifecycleConfiguration: { Rules: [RULES[1] as LifecycleRule] } })), 'NotImplemented', 501, 'a tag filter')
})

t.test('a rule ID no header can carry is percent-encoded in x-amz-expiration', async t => {
  const { c } = await setup(t)
  await c.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'bkt', LifecycleConfiguration: { Rules: [{ ID: 'log "files" é', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }] } }))
  t.equal((await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'k' }))).Expiration, 'expiry-date="Thu, 17 Jan 2030 00:00:00 GMT", rule-id="log %22files%22 %C3%A9"')
})
