// The test kit's manual clock: durations, a server whose store time stands still until moved,
// lifecycle rules applied at each move, signatures still checked against the real time, and
// reset() taking the clock back to its start. The last test is README's example.
import t from 'tap'
import {
  CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, PutBucketLifecycleConfigurationCommand,
  PutObjectCommand, S3Client
} from '@aws-sdk/client-s3'
import { durationOf, ManualClock, startTestServer } from '../lib/testing/index.js'

const DAY = 86_400_000

t.test('durations: ms, or amounts of w, d, h, m, s, ms in a row', async t => {
  t.equal(durationOf(1500), 1500)
  t.equal(durationOf('30d'), 30 * DAY)
  t.equal(durationOf('1d12h'), 1.5 * DAY)
  t.equal(durationOf('2w'), 14 * DAY)
  t.equal(durationOf('90m'), 90 * 60_000)
  t.equal(durationOf('45s'), 45_000)
  t.equal(durationOf('500ms'), 500)
  t.equal(durationOf('1.5h'), 90 * 60_000)
  for (const bad of ['', '30', '-1d', '1 d', '1y', 'd', -1, Infinity]) t.throws(() => durationOf(bad as string), RangeError, String(bad))
})

t.test('a ManualClock stands still until advanced or set', async t => {
  const clock = new ManualClock('2030-01-01T00:00:00Z')
  const { now } = clock
  t.equal(now(), Date.UTC(2030, 0, 1), 'bound: usable detached, as Spacebox.open({ clock: clock.now })')
  await new Promise(resolve => setTimeout(resolve, 15))
  t.equal(now(), Date.UTC(2030, 0, 1))
  t.equal(clock.advance('1d'), Date.UTC(2030, 0, 2))
  t.equal(clock.set(new Date(Date.UTC(2029, 0, 1))), Date.UTC(2029, 0, 1), 'and may go back')
  t.throws(() => clock.set('not a date'), RangeError)
  t.ok(Math.abs(new ManualClock().now() - Date.now()) < 1000, 'by default from the real time')
})

t.test('a test server on a manual clock: dates follow it, signatures the real time, reset() goes back', async t => {
  const start = new Date('2031-06-01T08:00:00Z')
  await using s3 = await startTestServer({ clock: start, buckets: ['bkt'] })
  const c = new S3Client(s3.client())
  t.teardown(() => { c.destroy() })
  t.equal(s3.clock.now(), start.getTime())
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'a', Body: 'a' }))
  t.same((await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'a' }))).LastModified, start, 'LastModified is the manual time')
  const result = await s3.clock.advance('400d')
  t.same(result, { objects: [], versions: [], deleteMarkers: [], uploads: [] }, 'no rules: nothing expired')
  t.equal(s3.clock.now(), start.getTime() + 400 * DAY)
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'b', Body: 'b' }))
  t.equal((await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'b' }))).LastModified?.getTime(), start.getTime() + 400 * DAY, 'requests signed now still pass, 400 days later in the store')
  await s3.clock.set('2031-01-01T00:00:00Z')
  t.equal(s3.clock.now(), Date.UTC(2031, 0, 1))
  await s3.reset()
  t.equal(s3.clock.now(), start.getTime(), 'reset: back to the start')

  await using real = await startTestServer()
  t.equal((real as { clock?: unknown }).clock, undefined, 'without clock: no clock to move')
})

t.test('README: test your lifecycle rules in milliseconds', async t => {
  await using s3 = await startTestServer({ clock: new Date('2030-01-01T09:00:00Z'), buckets: ['logs'] })
  const client = new S3Client(s3.client())
  t.teardown(() => { client.destroy() })

  await client.send(new PutBucketLifecycleConfigurationCommand({
    Bucket: 'logs',
    LifecycleConfiguration: {
      Rules: [
        { ID: 'expire-tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 30 } },
        { ID: 'stale-uploads', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }
      ]
    }
  }))
  const put = await client.send(new PutObjectCommand({ Bucket: 'logs', Key: 'tmp/report.csv', Body: 'a,b' }))
  // S3 counts the days to the next midnight UTC: written on January 1st, gone on February 1st.
  t.equal(put.Expiration, 'expiry-date="Fri, 01 Feb 2030 00:00:00 GMT", rule-id="expire-tmp"')
  await client.send(new CreateMultipartUploadCommand({ Bucket: 'logs', Key: 'big.bin' }))

  const week = await s3.clock.advance('8d')
  t.equal(week.uploads.length, 1, 'the upload started over a week ago is aborted')
  t.equal(week.objects.length, 0)
  t.equal((await client.send(new ListMultipartUploadsCommand({ Bucket: 'logs' }))).Uploads, undefined)

  const month = await s3.clock.advance('23d')
  t.same(month.objects.map(o => o.key), ['tmp/report.csv'])
  await t.rejects(client.send(new GetObjectCommand({ Bucket: 'logs', Key: 'tmp/report.csv' })), { name: 'NoSuchKey' })
})
