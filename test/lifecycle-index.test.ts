// The lifecycle index and the passes that read it: built once for a store written before it
// existed, entries no version has any longer dropped, background passes at the configured interval
// (none with 0), and closing the store while a pass runs.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import { Spacebox } from '../lib/index.js'
import { expiryKey, openSublevels, type AnyLevel } from '../lib/schema/keys.js'
import { decodeHead, encodeHead } from '../lib/schema/records.js'
import { ManualClock } from '../lib/testing/clock.js'

const START = Date.UTC(2030, 0, 15, 10, 30)
const DAY = 86_400_000
const masterKey = Buffer.alloc(32, 3)

async function indexOf (db: AnyLevel): Promise<string[]> {
  return (await openSublevels(db).expiry.keys().all()).map(k => k.toString('hex')).sort()
}

t.test('a bucket keeps the index only with rules: built when they come (legacy noncurrent versions dated by their successor), cleared when they go', async t => {
  const db = new MemoryLevel() as unknown as AnyLevel
  const clock = new ManualClock(START)
  let box = await Spacebox.open({ db, masterKey, clock: clock.now, lifecycleInterval: 0 })
  await box.createBucket('old')
  await box.putObject('old', 'plain', 'p')
  await box.putBucketVersioning('old', 'Enabled')
  const v1 = (await box.putObject('old', 'k', 'one')).versionId as string
  clock.advance('2d')
  await box.putObject('old', 'k', 'two')
  clock.advance('3d')
  await box.deleteObject('old', 'k')
  t.same(await indexOf(db), [], 'no rules: the writes kept no index')

  // As versions written by a spacebox before the index: no noncurrent dates.
  const sub = openSublevels(db)
  for await (const [key, value] of sub.versions.iterator()) {
    const { head, inline } = decodeHead(value)
    delete head.noncurrentSince
    await sub.versions.put(key, encodeHead(head, inline))
  }
  await box.putBucketLifecycleConfiguration('old', [{ id: 'nc', status: 'Enabled', filter: {}, noncurrentVersionExpiration: { noncurrentDays: 10 } }])
  // A pass waits for the build; with nothing due it changes nothing.
  t.same((await box.applyLifecycle()).versions, [])
  const built = await indexOf(db)
  t.equal(built.length, 4, 'plain, k (two versions) and its marker')
  const dates = []
  for await (const value of sub.versions.values()) dates.push(decodeHead(value).head.noncurrentSince)
  t.same(dates.sort(), [START + 2 * DAY, START + 5 * DAY], 'each noncurrent version dated by the version written after it')
  t.equal((await sub.buckets.get('old') as { lifecycleIndexed?: boolean }).lifecycleIndexed, true, 'the build is marked complete')

  // A build cut short is done again at the next open.
  await box.deleteBucketLifecycle('old')
  t.same(await indexOf(db), [], 'rules removed: entries removed')
  await box.putBucketLifecycleConfiguration('old', [{ id: 'nc', status: 'Enabled', filter: {}, noncurrentVersionExpiration: { noncurrentDays: 1 } }])
  await box.close()
  await sub.expiry.clear()
  const record = await sub.buckets.get('old') as Record<string, unknown>
  delete record.lifecycleIndexed
  await sub.buckets.put('old', record)
  box = await Spacebox.open({ db, masterKey, clock: clock.now, lifecycleInterval: 0 })
  t.same((await box.applyLifecycle()).versions.map(v => v.versionId), [v1], 'rebuilt at open; the pass reads it (v1 noncurrent since 1/17: due 1/19)')
  t.equal((await indexOf(db)).length, 3)
  await box.close()
})

t.test('an entry no version has is dropped by the pass that reads it; the version it names is untouched', async t => {
  const db = new MemoryLevel() as unknown as AnyLevel
  const clock = new ManualClock(START)
  const box = await Spacebox.open({ db, masterKey, clock: clock.now, lifecycleInterval: 0 })
  t.teardown(async () => { await box.close() })
  await box.createBucket('stale')
  await box.putObject('stale', 'k', 'k')
  await box.putBucketLifecycleConfiguration('stale', [{ id: 'all', status: 'Enabled', filter: {}, expiration: { days: 1 }, noncurrentVersionExpiration: { noncurrentDays: 1 } }])
  const bucketId = (await openSublevels(db).buckets.get('stale') as { id: string }).id
  const sub = openSublevels(db)
  // A current entry dated a week before the version's own, and one for a key that has none.
  await sub.expiry.put(expiryKey(bucketId, 'c', Math.floor(START / DAY) - 7, 'k'), '')
  await sub.expiry.put(expiryKey(bucketId, 'c', Math.floor(START / DAY) - 7, 'ghost'), '')
  await sub.expiry.put(expiryKey(bucketId, 'n', Math.floor(START / DAY) - 7, 'ghost', 'null'), '')
  await sub.expiry.put(expiryKey(bucketId, 'm', Math.floor(START / DAY) - 7, 'ghost'), '')
  t.same(await box.applyLifecycle(), { objects: [], versions: [], deleteMarkers: [], uploads: [] }, 'nothing is due: k was written today')
  t.equal((await box.headObject('stale', 'k')).size, 1)
  t.equal((await indexOf(db)).length, 1, 'only k\'s own entry is left')
})

t.test('background passes run at the interval, by the store\'s clock; none with 0', async t => {
  const clock = new ManualClock(START)
  const box = await Spacebox.open({ memory: true, clock: clock.now, lifecycleInterval: 20 })
  t.teardown(async () => { await box.close() })
  await box.createBucket('bgr')
  await box.putObject('bgr', 'k', 'k')
  await box.putBucketLifecycleConfiguration('bgr', [{ id: 'all', status: 'Enabled', filter: {}, expiration: { days: 1 } }])
  clock.advance('2d')
  const until = Date.now() + 5000
  while (Date.now() < until && await box.headObject('bgr', 'k').then(() => true, () => false)) await new Promise(resolve => setTimeout(resolve, 10))
  await t.rejects(box.headObject('bgr', 'k'), { code: 'NoSuchKey' }, 'expired with no call')

  const off = await Spacebox.open({ memory: true, clock: clock.now, lifecycleInterval: 0 })
  t.teardown(async () => { await off.close() })
  await off.createBucket('bgr')
  await off.putObject('bgr', 'k', 'k')
  await off.putBucketLifecycleConfiguration('bgr', [{ id: 'all', status: 'Enabled', filter: {}, expiration: { days: 1 } }])
  clock.advance('2d')
  await new Promise(resolve => setTimeout(resolve, 100))
  t.equal((await off.headObject('bgr', 'k')).size, 1, 'lifecycleInterval 0: nothing in the background')
  await t.rejects(Spacebox.open({ memory: true, lifecycleInterval: -1 }), RangeError)
})

t.test('closing the store stops a pass at its next slice', async t => {
  const clock = new ManualClock(START)
  const box = await Spacebox.open({ memory: true, clock: clock.now, lifecycleInterval: 0 })
  await box.createBucket('big')
  for (let i = 0; i < 2000; i++) await box.putObject('big', `k/${i}`, 'x')
  await box.putBucketLifecycleConfiguration('big', [{ id: 'all', status: 'Enabled', filter: {}, expiration: { days: 1 } }])
  clock.advance('2d')
  const pass = box.applyLifecycle()
  await new Promise(resolve => setImmediate(resolve))
  const started = Date.now()
  await box.close()
  t.ok(Date.now() - started < 1000, 'closed promptly')
  const result = await pass
  t.ok(result.objects.length < 2000, `the pass stopped after ${result.objects.length} expiries`)
  await t.rejects(box.applyLifecycle(), { code: 'NotOpen' })
})

t.test('writes racing an index build: every version indexed once the build is done, nothing else', async t => {
  const db = new MemoryLevel() as unknown as AnyLevel
  const clock = new ManualClock(START)
  const box = await Spacebox.open({ db, masterKey, clock: clock.now, lifecycleInterval: 0 })
  t.teardown(async () => { await box.close() })
  await box.createBucket('race')
  await box.putBucketVersioning('race', 'Enabled')
  const key = (i: number): string => `k/${String(i).padStart(5, '0')}`
  for (let i = 0; i < 3000; i++) await box.putObject('race', key(i), 'v0')
  await box.putBucketLifecycleConfiguration('race', [{ id: 'far', status: 'Enabled', filter: {}, expiration: { days: 1000 }, noncurrentVersionExpiration: { noncurrentDays: 1000 } }])
  // The build runs in the background meanwhile: overwrites, deletes and removals of versions all over the key range.
  // Eight writers at once, each on its own keys, the clock moving a day every few writes.
  let next = 0
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    const ids: Array<[string, string]> = []
    for (let n = w; n < 3000; n += 8) {
      if (next++ % 40 === 0) clock.advance('1d')
      const k = key(n)
      if (n % 5 === 3) await box.deleteObject('race', k)
      else if (n % 5 === 4 && ids.length > 0) {
        const [vk, vid] = ids.shift() as [string, string]
        await box.deleteObject('race', vk, { versionId: vid })
      } else ids.push([k, (await box.putObject('race', k, `v${n}`)).versionId as string])
    }
  }))
  t.same((await box.applyLifecycle()).objects, [], 'nothing is due; the pass waited for the build')
  const sub = openSublevels(db)
  const bucketId = (await sub.buckets.get('race') as { id: string }).id
  const wanted: string[] = []
  for await (const v of box.listAllVersions('race')) {
    const { head } = v.isLatest === true
      ? decodeHead(await sub.objects.get(Buffer.concat([Buffer.from(bucketId, 'latin1'), Buffer.from(v.key)])) as Buffer)
      : { head: undefined }
    if (head !== undefined) wanted.push(expiryKey(bucketId, head.marker === true ? 'm' : 'c', Math.floor(head.modified / DAY), v.key).toString('hex'))
  }
  for await (const [stored, value] of sub.versions.iterator()) {
    const { head } = decodeHead(value)
    const name = stored.toString('utf8', 24, stored.length - 25)
    wanted.push(expiryKey(bucketId, 'n', Math.floor((head.noncurrentSince as number) / DAY), name, head.vid ?? 'null').toString('hex'))
  }
  t.same(await indexOf(db), wanted.sort(), `${wanted.length} entries, one per version`)
})
