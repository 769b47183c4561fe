// Lifecycle rules through the engine: the configuration (what is stored, what is refused and with
// which of S3's codes and messages), what x-amz-expiration says of an object, and what a pass
// expires, on a manual clock: at the instant S3 would and not a millisecond before.
import t, { type Test } from 'tap'
import { Spacebox, type LifecycleRule } from '../lib/index.js'
import { ManualClock } from '../lib/testing/clock.js'

/** 2030-01-15 10:30 UTC: the example of S3's documentation (created 1/15 10:30, 3 days: due 1/19 00:00). */
const START = Date.UTC(2030, 0, 15, 10, 30)

async function open (t: Test, clock = new ManualClock(START)): Promise<{ box: Spacebox, clock: ManualClock }> {
  const box = await Spacebox.open({ memory: true, clock: clock.now, lifecycleInterval: 0 })
  t.teardown(async () => { await box.close() })
  return { box, clock }
}

t.test('a configuration is stored as given, an ID made for a rule without one, and removed', async t => {
  const { box } = await open(t)
  await box.createBucket('bkt')
  await t.rejects(box.getBucketLifecycleConfiguration('bkt'), { code: 'NoSuchLifecycleConfiguration' })
  await box.deleteBucketLifecycle('bkt')
  const rules: LifecycleRule[] = [
    { id: 'logs', status: 'Enabled', filter: { prefix: 'logs/', tags: { a: '1' }, objectSizeGreaterThan: 10 }, expiration: { days: 30 } },
    { status: 'Disabled', prefix: 'tmp/', expiration: { date: '2031-01-01T00:00:00Z' }, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
    { id: 'old', status: 'Enabled', filter: {}, noncurrentVersionExpiration: { noncurrentDays: 5, newerNoncurrentVersions: 2 } },
    { id: 'markers', status: 'Enabled', filter: { prefix: '' }, expiration: { expiredObjectDeleteMarker: true } }
  ]
  await box.putBucketLifecycleConfiguration('bkt', rules)
  const got = await box.getBucketLifecycleConfiguration('bkt')
  t.equal(got.length, 4)
  t.same(got[0], rules[0])
  t.match(got[1], { status: 'Disabled', prefix: 'tmp/', expiration: { date: new Date('2031-01-01T00:00:00Z') }, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } })
  t.type(got[1]?.id, 'string')
  t.ok((got[1]?.id as string).length > 0 && (got[1]?.id as string).length <= 255, 'an ID was generated')
  t.same(got[2], rules[2])
  t.same(got[3], rules[3])
  await box.deleteBucketLifecycle('bkt')
  await t.rejects(box.getBucketLifecycleConfiguration('bkt'), { code: 'NoSuchLifecycleConfiguration' })
  await t.rejects(box.getBucketLifecycleConfiguration('nope'), { code: 'NoSuchBucket' })
})

t.test('what S3 refuses is refused with its code and message', async t => {
  const { box } = await open(t)
  await box.createBucket('bkt')
  const expire = { days: 1 }
  const cases: Array<[string, unknown, string, RegExp?]> = [
    ['no rules', [], 'InvalidArgument'],
    ['1001 rules', Array.from({ length: 1001 }, (_, i) => ({ id: `r${i}`, status: 'Enabled', expiration: expire })), 'InvalidArgument'],
    ['a 256-character ID', [{ id: 'x'.repeat(256), status: 'Enabled', expiration: expire }], 'InvalidArgument', /^ID length should not exceed allowed limit of 255$/],
    ['an ID twice', [{ id: 'a', status: 'Enabled', expiration: expire }, { id: 'a', status: 'Enabled', expiration: { days: 2 } }], 'InvalidArgument', /^Rule ID must be unique/],
    ['a status in lower case', [{ status: 'enabled', expiration: expire }], 'InvalidArgument'],
    ['Days 0', [{ status: 'Enabled', expiration: { days: 0 } }], 'InvalidArgument', /^'Days' for Expiration action must be a positive integer$/],
    ['Days 1.5', [{ status: 'Enabled', expiration: { days: 1.5 } }], 'InvalidArgument', /^'Days' for Expiration action/],
    ['a Date not at midnight', [{ status: 'Enabled', expiration: { date: '2031-01-01T01:00:00Z' } }], 'InvalidArgument', /^'Date' must be at midnight GMT$/],
    ['Days and Date', [{ status: 'Enabled', expiration: { days: 1, date: '2031-01-01T00:00:00Z' } }], 'InvalidArgument'],
    ['ExpiredObjectDeleteMarker with Days', [{ status: 'Enabled', expiration: { days: 1, expiredObjectDeleteMarker: true } }], 'InvalidArgument'],
    ['ExpiredObjectDeleteMarker with a tag filter', [{ status: 'Enabled', filter: { tags: { a: 'b' } }, expiration: { expiredObjectDeleteMarker: true } }], 'InvalidRequest'],
    ['NoncurrentDays 0', [{ status: 'Enabled', noncurrentVersionExpiration: { noncurrentDays: 0 } }], 'InvalidArgument', /^'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer$/],
    ['NewerNoncurrentVersions 0', [{ status: 'Enabled', noncurrentVersionExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 0 } }], 'InvalidArgument', /^'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer$/],
    ['NewerNoncurrentVersions 101', [{ status: 'Enabled', noncurrentVersionExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 101 } }], 'InvalidArgument'],
    ['DaysAfterInitiation 0', [{ status: 'Enabled', abortIncompleteMultipartUpload: { daysAfterInitiation: 0 } }], 'InvalidArgument', /^'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer$/],
    ['AbortIncompleteMultipartUpload with a tag filter', [{ status: 'Enabled', filter: { tags: { a: 'b' } }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }], 'InvalidRequest', /^AbortIncompleteMultipartUpload cannot be specified with Tags\.$/],
    ['AbortIncompleteMultipartUpload with a size filter', [{ status: 'Enabled', filter: { objectSizeLessThan: 5 }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }], 'InvalidRequest', /^AbortIncompleteMultipartUpload cannot be specified with Object Size\.$/],
    ['a rule without action', [{ status: 'Enabled', filter: { prefix: 'x' } }], 'InvalidRequest'],
    ['a filter and a prefix', [{ status: 'Enabled', filter: {}, prefix: 'x', expiration: expire }], 'InvalidArgument'],
    ['sizes that exclude everything', [{ status: 'Enabled', filter: { objectSizeGreaterThan: 10, objectSizeLessThan: 10 }, expiration: expire }], 'InvalidArgument'],
    ['a prefix longer than a key', [{ status: 'Enabled', filter: { prefix: 'p'.repeat(1025) }, expiration: expire }], 'InvalidArgument'],
    ['11 filter tags', [{ status: 'Enabled', filter: { tags: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])) }, expiration: expire }], 'InvalidArgument']
  ]
  for (const [label, rules, code, message] of cases) {
    const err = await box.putBucketLifecycleConfiguration('bkt', rules as LifecycleRule[]).then(() => undefined, (e: Error & { code: string }) => e)
    t.equal(err?.code, code, label)
    if (message !== undefined) t.match(err?.message, message, `${label}: S3's message`)
  }
  await t.rejects(box.putBucketLifecycleConfiguration('bkt', [{ status: 'Enabled', expiration: expire, transitions: [] } as unknown as LifecycleRule]), TypeError, 'transitions are not taken silently')
  await t.rejects(box.getBucketLifecycleConfiguration('bkt'), { code: 'NoSuchLifecycleConfiguration' }, 'nothing refused was stored')
  await box.putBucketLifecycleConfiguration('bkt', Array.from({ length: 1000 }, (_, i) => ({ id: `r${i}`, status: 'Enabled' as const, filter: { prefix: `p${i}/` }, expiration: { days: 1 + i } })))
  t.equal((await box.getBucketLifecycleConfiguration('bkt')).length, 1000, '1000 rules are fine')
})

t.test('x-amz-expiration: the next midnight UTC after the days, from the earliest matching rule', async t => {
  const { box, clock } = await open(t)
  await box.createBucket('bkt')
  await box.putBucketLifecycleConfiguration('bkt', [
    { id: 'all', status: 'Enabled', filter: {}, expiration: { days: 10 } },
    { id: 'logs', status: 'Enabled', filter: { prefix: 'logs/' }, expiration: { days: 3 } },
    { id: 'big', status: 'Enabled', filter: { objectSizeGreaterThan: 5 }, expiration: { days: 2 } },
    { id: 'tagged', status: 'Enabled', filter: { tags: { temp: 'yes' } }, expiration: { days: 1 } },
    { id: 'off', status: 'Disabled', filter: {}, expiration: { days: 1 } },
    { id: 'dated', status: 'Enabled', filter: { prefix: 'dated/' }, expiration: { date: '2030-01-16T00:00:00.000Z' } }
  ])
  const put = await box.putObject('bkt', 'logs/a', 'tiny')
  t.same(put.expiration, { date: new Date('2030-01-19T00:00:00Z'), ruleId: 'logs' }, 'PUT: 1/15 10:30 + 3 days is 1/19 00:00')
  t.same((await box.headObject('bkt', 'logs/a')).expiration, put.expiration, 'HEAD says the same')
  const got = await box.getObject('bkt', 'logs/a')
  got.body.destroy()
  t.same(got.info.expiration, put.expiration, 'and GET')
  t.same((await box.putObject('bkt', 'logs/big', 'more than five')).expiration, { date: new Date('2030-01-18T00:00:00Z'), ruleId: 'big' }, 'the earliest date wins')
  t.same((await box.putObject('bkt', 'x', 'x', { tags: { temp: 'yes' } })).expiration, { date: new Date('2030-01-17T00:00:00Z'), ruleId: 'tagged' }, 'tags match')
  t.same((await box.putObject('bkt', 'y', 'y', { tags: { temp: 'no' } })).expiration?.ruleId, 'all', 'a tag of another value does not')
  t.same((await box.putObject('bkt', 'dated/k', 'k')).expiration, { date: new Date('2030-01-16T00:00:00Z'), ruleId: 'dated' }, 'a Date rule gives its date')
  clock.set(Date.UTC(2030, 0, 20, 0, 0))
  t.same((await box.putObject('bkt', 'logs/midnight', 'tiny')).expiration?.date, new Date('2030-01-24T00:00:00Z'), 'written at midnight: the midnight after the days')
  await box.putBucketVersioning('bkt', 'Enabled')
  const v1 = (await box.putObject('bkt', 'logs/v', 'one')).versionId as string
  await box.putObject('bkt', 'logs/v', 'two')
  t.equal((await box.headObject('bkt', 'logs/v', { versionId: v1 })).expiration, undefined, 'a noncurrent version read by id: none (Expiration acts on current versions)')
  t.ok((await box.headObject('bkt', 'logs/v')).expiration, 'the current one has it')
  await box.deleteBucketLifecycle('bkt')
  t.equal((await box.headObject('bkt', 'logs/v')).expiration, undefined, 'rules removed: no header')
})

t.test('a pass expires a current version at the midnight S3 would, not a millisecond before', async t => {
  const { box, clock } = await open(t)
  await box.createBucket('bkt')
  await box.putObject('bkt', 'logs/a', 'a')
  await box.putObject('bkt', 'keep/a', 'a')
  await box.putBucketLifecycleConfiguration('bkt', [{ id: 'logs', status: 'Enabled', filter: { prefix: 'logs/' }, expiration: { days: 3 } }])
  clock.set(Date.UTC(2030, 0, 19) - 1)
  t.same(await box.applyLifecycle(), { objects: [], versions: [], deleteMarkers: [], uploads: [] }, '1/18 23:59:59.999: nothing is due')
  clock.advance(1)
  t.same((await box.applyLifecycle()).objects, [{ bucket: 'bkt', key: 'logs/a', ruleId: 'logs' }], '1/19 00:00: expired')
  await t.rejects(box.headObject('bkt', 'logs/a'), { code: 'NoSuchKey' })
  t.equal((await box.headObject('bkt', 'keep/a')).size, 1, 'outside the prefix: kept')
  t.same((await box.applyLifecycle()).objects, [], 'a second pass finds nothing')
})

t.test('a versioned bucket: expiration writes a delete marker, noncurrent versions go after their days, a lone marker after', async t => {
  const { box, clock } = await open(t)
  await box.createBucket('ver')
  await box.putBucketVersioning('ver', 'Enabled')
  const v1 = (await box.putObject('ver', 'k', 'one')).versionId as string
  clock.advance('1d')
  const v2 = (await box.putObject('ver', 'k', 'two')).versionId as string // v1 noncurrent from 1/16 10:30
  await box.putBucketLifecycleConfiguration('ver', [
    { id: 'cur', status: 'Enabled', filter: {}, expiration: { days: 5 } },
    { id: 'old', status: 'Enabled', filter: {}, noncurrentVersionExpiration: { noncurrentDays: 2 } },
    { id: 'dm', status: 'Enabled', filter: {}, expiration: { expiredObjectDeleteMarker: true } }
  ])
  clock.set(Date.UTC(2030, 0, 19))
  let result = await box.applyLifecycle()
  t.same(result.versions, [{ bucket: 'ver', key: 'k', ruleId: 'old', versionId: v1 }], 'noncurrent since 1/16: gone on 1/19')
  t.same(result.objects, [])
  clock.set(Date.UTC(2030, 0, 22))
  result = await box.applyLifecycle()
  t.equal(result.objects.length, 1, 'v2, written 1/16 10:30, expires 1/22')
  const marker = result.objects[0]?.deleteMarkerVersionId as string
  t.match(result.objects[0], { key: 'k', ruleId: 'cur', versionId: v2 })
  t.ok(marker, 'a delete marker was written')
  await t.rejects(box.headObject('ver', 'k'), { code: 'NoSuchKey' })
  t.equal((await box.headObject('ver', 'k', { versionId: v2 })).size, 3, 'v2 is still there, noncurrent')
  t.same(result.deleteMarkers, [], 'the marker has a version behind it: kept')
  clock.set(Date.UTC(2030, 0, 25))
  result = await box.applyLifecycle()
  t.same(result.versions.map(v => v.versionId), [v2], 'v2, noncurrent since 1/22, goes on 1/25')
  t.same(result.deleteMarkers, [{ bucket: 'ver', key: 'k', ruleId: 'dm', versionId: marker }], 'and the marker left alone goes in the same pass')
  t.same((await box.listObjectVersions('ver')).versions, [], 'nothing left')
})

t.test('NewerNoncurrentVersions keeps the newest noncurrent versions, however old', async t => {
  const { box, clock } = await open(t)
  await box.createBucket('ver')
  await box.putBucketVersioning('ver', 'Enabled')
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    ids.push((await box.putObject('ver', 'k', `v${i}`)).versionId as string)
    clock.advance('1h')
  }
  await box.putBucketLifecycleConfiguration('ver', [{ id: 'keep2', status: 'Enabled', filter: {}, noncurrentVersionExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 2 } }])
  clock.advance('30d')
  const result = await box.applyLifecycle()
  t.same(result.versions.map(v => v.versionId).sort(), [ids[0], ids[1]].sort(), 'of four noncurrent versions the two oldest go')
  t.same((await box.listObjectVersions('ver')).versions.map(v => v.versionId), [ids[4], ids[3], ids[2]])
})

t.test('a Suspended bucket: expiration writes a null delete marker in place of the null version', async t => {
  const { box, clock } = await open(t)
  await box.createBucket('sus')
  await box.putBucketVersioning('sus', 'Enabled')
  const v1 = (await box.putObject('sus', 'k', 'one')).versionId as string
  await box.putBucketVersioning('sus', 'Suspended')
  await box.putObject('sus', 'k', 'null one')
  await box.putBucketLifecycleConfiguration('sus', [{ id: 'cur', status: 'Enabled', filter: {}, expiration: { days: 1 } }])
  clock.advance('2d')
  const result = await box.applyLifecycle()
  t.match(result.objects, [{ key: 'k', versionId: 'null', deleteMarkerVersionId: 'null' }])
  const versions = (await box.listObjectVersions('sus')).versions
  t.same(versions.map(v => [v.versionId, v.deleteMarker === true]), [['null', true], [v1, false]], 'the null version was replaced by the marker')
})

t.test('stale multipart uploads are aborted by prefix, after their days', async t => {
  const { box, clock } = await open(t)
  await box.createBucket('upl')
  const stale = await box.createMultipartUpload('upl', 'tmp/a')
  await box.uploadPart('upl', 'tmp/a', stale.uploadId, 1, 'part')
  const other = await box.createMultipartUpload('upl', 'keep/a')
  await box.putBucketLifecycleConfiguration('upl', [{ id: 'mpu', status: 'Enabled', filter: { prefix: 'tmp/' }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }])
  clock.advance('1d12h')
  const fresh = await box.createMultipartUpload('upl', 'tmp/b')
  clock.set(Date.UTC(2030, 0, 17))
  const result = await box.applyLifecycle()
  t.same(result.uploads, [{ bucket: 'upl', key: 'tmp/a', ruleId: 'mpu', uploadId: stale.uploadId }], 'started 1/15 10:30: aborted on 1/17; the one of 1/16 is not due')
  t.same((await box.listMultipartUploads('upl')).uploads.map(u => u.uploadId).sort(), [other.uploadId, fresh.uploadId].sort())
  await t.rejects(box.listParts('upl', 'tmp/a', stale.uploadId), { code: 'NoSuchUpload' }, 'its parts went with it')
})
