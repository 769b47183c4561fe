import t from 'tap'
import { SpaceboxError } from '../lib/index.js'
import { backends } from './helpers.js'

for (const backend of backends) {
  t.test(`buckets (${backend.name})`, async t => {
    t.test('createBucket() makes a bucket that headBucket() and listBuckets() report', async t => {
      const box = await backend.open(t)
      const before = Date.now()
      const created = await box.createBucket('photos')
      t.equal(created.name, 'photos')
      t.equal(created.region, 'us-east-1')
      t.ok(created.created.getTime() >= before - 1000)
      t.same(await box.headBucket('photos'), created)
      t.same(await box.listBuckets(), [created])
    })

    t.test('createBucket() keeps the region given, else the store default', async t => {
      const box = await backend.open(t, { region: 'nyc3' })
      t.equal((await box.createBucket('a-bucket')).region, 'nyc3')
      t.equal((await box.createBucket('b-bucket', { region: 'eu-west-1' })).region, 'eu-west-1')
      await t.rejects(box.createBucket('c-bucket', { region: 'Bad Region' }), { code: 'InvalidLocationConstraint' })
    })

    t.test('listBuckets() sorts by name', async t => {
      const box = await backend.open(t)
      for (const name of ['zeta', 'alpha', 'mid.dle', '0-first']) await box.createBucket(name)
      t.same((await box.listBuckets()).map(b => b.name), ['0-first', 'alpha', 'mid.dle', 'zeta'])
    })

    t.test('createBucket() of an existing bucket rejects with BucketAlreadyOwnedByYou, also when racing', async t => {
      const box = await backend.open(t)
      await box.createBucket('photos')
      await t.rejects(box.createBucket('photos'), { code: 'BucketAlreadyOwnedByYou' })
      const results = await Promise.allSettled(Array.from({ length: 10 }, async () => await box.createBucket('race')))
      t.equal(results.filter(r => r.status === 'fulfilled').length, 1, 'exactly one create wins')
      t.equal(results.filter(r => r.status === 'rejected' && (r.reason as SpaceboxError).code === 'BucketAlreadyOwnedByYou').length, 9)
    })

    t.test('invalid bucket names reject with InvalidBucketName', async t => {
      const box = await backend.open(t)
      const invalid = [
        '', 'ab', 'a'.repeat(64), 'Upper', 'under_score', 'space name', '-leading', 'trailing-', '.dot', 'dot.',
        'two..dots', '192.168.5.4', 'xn--punycode', 'sthree-bucket', 'amzn-s3-demo-bucket', 'name-s3alias',
        'name--ol-s3', 'name.mrap', 'name--x-s3', 'name--table-s3', 'ünïcode', 'slash/name', 'foo-.bar', 'foo.-bar', 'a.b-.c'
      ]
      for (const name of invalid) {
        await t.rejects(box.createBucket(name), { code: 'InvalidBucketName' }, `create ${JSON.stringify(name)}`)
      }
      await t.rejects(box.headBucket('UPPER'), { code: 'InvalidBucketName' })
      await t.rejects(box.deleteBucket('a'), { code: 'InvalidBucketName' })
      await t.rejects(box.createBucket(42 as unknown as string), { code: 'InvalidBucketName' })
      for (const name of ['abc', 'a'.repeat(63), '1.2.3', 'my-bucket.v2', '192.168.5.4.5', 'xn-not-reserved']) {
        await box.createBucket(name)
      }
      t.equal((await box.listBuckets()).length, 6)
    })

    t.test('unknown buckets reject with NoSuchBucket', async t => {
      const box = await backend.open(t)
      await t.rejects(box.headBucket('missing'), { code: 'NoSuchBucket', bucket: 'missing' })
      await t.rejects(box.deleteBucket('missing'), { code: 'NoSuchBucket' })
      await t.rejects(box.putObject('missing', 'k', 'x'), { code: 'NoSuchBucket' })
      await t.rejects(box.getObject('missing', 'k'), { code: 'NoSuchBucket' })
      await t.rejects(box.headObject('missing', 'k'), { code: 'NoSuchBucket' })
      await t.rejects(box.deleteObject('missing', 'k'), { code: 'NoSuchBucket' })
      await t.rejects(box.deleteObjects('missing', ['k']), { code: 'NoSuchBucket' })
    })

    t.test('deleteBucket() removes an empty bucket and refuses a bucket with objects', async t => {
      const box = await backend.open(t)
      await box.createBucket('photos')
      await box.putObject('photos', 'a.jpg', 'x')
      await t.rejects(box.deleteBucket('photos'), { code: 'BucketNotEmpty', bucket: 'photos' })
      t.equal((await box.headObject('photos', 'a.jpg')).size, 1, 'the object survives the refused delete')
      await box.deleteObject('photos', 'a.jpg')
      await box.deleteBucket('photos')
      await t.rejects(box.headBucket('photos'), { code: 'NoSuchBucket' })
      t.same(await box.listBuckets(), [])
    })

    t.test('a bucket re-created after delete is empty, even of objects written to the old one', async t => {
      const box = await backend.open(t)
      await box.createBucket('photos')
      await box.putObject('photos', 'a', 'old')
      await box.deleteObject('photos', 'a')
      await box.deleteBucket('photos')
      await box.createBucket('photos')
      await t.rejects(box.headObject('photos', 'a'), { code: 'NoSuchKey' })
    })

    t.test('a put racing deleteBucket either lands in a kept bucket or fails with NoSuchBucket', async t => {
      const box = await backend.open(t)
      for (let round = 0; round < 20; round++) {
        await box.createBucket('racy')
        const [put, del] = await Promise.allSettled([box.putObject('racy', 'k', 'v'), box.deleteBucket('racy')])
        if (del.status === 'fulfilled') {
          t.equal(put.status, 'rejected', 'the put lost')
          t.equal((put as PromiseRejectedResult).reason.code, 'NoSuchBucket')
          await box.createBucket('racy')
          await t.rejects(box.headObject('racy', 'k'), { code: 'NoSuchKey' }, 'nothing of the put survives')
        } else {
          t.equal(put.status, 'fulfilled')
          t.equal((del.reason as SpaceboxError).code, 'BucketNotEmpty')
          await box.deleteObject('racy', 'k')
        }
        await box.deleteBucket('racy')
      }
    })
  })
}
