// A key's usage hour by hour (box.keys.usage(id).history): counted in the hour of the store's
// clock, 7 days kept, written with the record and read back bounded, whatever was stored.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import { Spacebox } from '../lib/index.js'
import { decodeUsage } from '../lib/access/usage.js'
import { openSublevels, type AnyLevel } from '../lib/schema/keys.js'
import type { UsageRecord } from '../lib/schema/records.js'
import { ManualClock } from '../lib/testing/clock.js'

const HOUR = 3_600_000
/** 10:00 UTC, the start of an hour. */
const START = Date.UTC(2030, 0, 15, 10)
const masterKey = Buffer.alloc(32, 5)

type Tap = { teardown: (fn: () => unknown) => void }

/** A store on an injected db (so that it can be closed, tampered with and opened again), a bucket with one object and a read/write key. */
async function setup (t: Tap, clock: ManualClock, db = new MemoryLevel() as unknown as AnyLevel): Promise<{ db: AnyLevel, box: Spacebox, id: string }> {
  const box = await Spacebox.open({ db, masterKey, clock: clock.now, lifecycleInterval: 0 })
  t.teardown(async () => { if (box.status === 'open') await box.close() })
  await box.createBucket('bkt')
  await box.putObject('bkt', 'hello', 'hello')
  const { accessKeyId } = await box.keys.create({ name: 'k', grants: [{ bucket: 'bkt', permission: 'readwrite' }] })
  return { db, box, id: accessKeyId }
}

async function reopen (t: Tap, db: AnyLevel, clock: ManualClock): Promise<Spacebox> {
  const box = await Spacebox.open({ db, masterKey, clock: clock.now, lifecycleInterval: 0 })
  t.teardown(async () => { if (box.status === 'open') await box.close() })
  return box
}

const hours = (box: Spacebox, id: string): Array<{ hour: number, requests: number, bytesIn: number, bytesOut: number }> =>
  box.keys.usage(id).history.map(h => ({ ...h, hour: h.hour.getTime() }))

t.test('requests and bytes land in the hour of the store\'s clock, oldest first, empty hours left out', async t => {
  const clock = new ManualClock(START + HOUR - 1)
  const { box, id } = await setup(t, clock)
  const view = box.as(id)
  t.same(box.keys.usage(id).history, [], 'no requests, no hours')
  await view.putObject('bkt', 'a', 'abc')
  await view.headObject('bkt', 'hello')
  clock.advance(1)
  await (await view.getObject('bkt', 'hello')).body.toArray()
  clock.advance('3h')
  await view.putObject('bkt', 'c', 'four')
  await t.rejects(box.as(id).getObject('nope', 'x'), { code: 'AccessDenied' })
  const history = box.keys.usage(id).history
  t.ok(history.every(h => h.hour instanceof Date), 'hours are Dates')
  t.same(hours(box, id), [
    { hour: START, requests: 2, bytesIn: 3, bytesOut: 0 },
    { hour: START + HOUR, requests: 1, bytesIn: 0, bytesOut: 5 },
    { hour: START + 4 * HOUR, requests: 1, bytesIn: 4, bytesOut: 0 }
  ], 'the hour starts on the hour; hours without requests are not there; a refusal is not a request')
  const usage = box.keys.usage(id)
  t.equal(history.reduce((n, h) => n + h.requests, 0), Object.values(usage.requests).reduce((n, c) => n + c, 0), 'the hours add up to the totals')
  t.equal(history.reduce((n, h) => n + h.bytesIn, 0), usage.bytesIn)
  t.equal(history.reduce((n, h) => n + h.bytesOut, 0), usage.bytesOut)
  history[0]!.requests = 99
  t.equal(box.keys.usage(id).history[0]?.requests, 2, 'the answer is a copy')
})

t.test('hours older than 7 days disappear: from reads at once, from the record at the next request', async t => {
  const clock = new ManualClock(START)
  const { db, box, id } = await setup(t, clock)
  const view = box.as(id)
  await view.headObject('bkt', 'hello')
  clock.advance('1h')
  await view.headObject('bkt', 'hello')
  clock.set(START + 167 * HOUR + 59 * 60_000)
  t.same(hours(box, id).map(h => h.hour), [START, START + HOUR], '167 hours later, the first hour is still in the 7 days')
  clock.advance('1m')
  t.same(hours(box, id).map(h => h.hour), [START + HOUR], '168 hours later it is gone, without a request')
  clock.advance('1h')
  t.same(hours(box, id), [], 'and then the second')
  t.equal(box.keys.usage(id).requests.HeadObject, 2, 'the totals keep everything')

  clock.set(START + 170 * HOUR)
  for (let i = 0; i < 200; i++) {
    clock.advance('1h')
    await view.headObject('bkt', 'hello')
  }
  const kept = hours(box, id)
  t.equal(kept.length, 168, '200 hours of requests: the last 168 are kept')
  t.equal(kept[0]!.hour, clock.now() - 167 * HOUR)
  await box.close()
  const stored = await openSublevels(db).usage.get(id) as UsageRecord
  t.equal(stored.v, 2)
  t.equal(stored.history.length, 168, 'the record holds no more than 7 days either')
  t.ok(stored.history.every((h, i) => i === 0 || h.hour === stored.history[i - 1]!.hour + HOUR), 'in order')
})

t.test('the history survives close and open', async t => {
  const clock = new ManualClock(START + 30 * 60_000)
  const { db, box, id } = await setup(t, clock)
  await box.as(id).putObject('bkt', 'x', 'twelve bytes')
  clock.advance('2h')
  await box.as(id).headObject('bkt', 'x')
  const before = box.keys.usage(id).history
  await box.close()
  const again = await reopen(t, db, clock)
  t.same(again.keys.usage(id).history, before)
  await again.as(id).headObject('bkt', 'x')
  t.same(hours(again, id).at(-1), { hour: START + 2 * HOUR, requests: 2, bytesIn: 0, bytesOut: 0 }, 'counting goes on in the same hour')
})

t.test('a record written before the history (v1) loads, and gains one', async t => {
  const clock = new ManualClock(START)
  const { db, box, id } = await setup(t, clock)
  await box.close()
  const old = { v: 1, requests: { GetObject: 3 }, bytesIn: 5, bytesOut: 15, denied: 1, lastUsed: START - HOUR, lastDenied: { at: START - HOUR, operation: 'PutObject', reason: 'r' } }
  await openSublevels(db).usage.put(id, old)
  const again = await reopen(t, db, clock)
  const usage = again.keys.usage(id)
  t.same(usage, {
    requests: { GetObject: 3 },
    bytesIn: 5,
    bytesOut: 15,
    denied: 1,
    lastUsed: new Date(START - HOUR),
    lastDenied: { at: new Date(START - HOUR), operation: 'PutObject', reason: 'r' },
    history: []
  }, 'the totals as they were, no hours')
  await again.as(id).putObject('bkt', 'n', 'new')
  t.same(hours(again, id), [{ hour: START, requests: 1, bytesIn: 3, bytesOut: 0 }])
  t.same(again.keys.usage(id).requests, { GetObject: 3, PutObject: 1 })
  await again.close()
  t.match(await openSublevels(db).usage.get(id), { v: 2, bytesIn: 8, history: [{ hour: START, requests: 1 }] }, 'written back as v2')
})

t.test('a damaged or hostile stored history is bounded and its malformed entries ignored', async t => {
  const clock = new ManualClock(START + 200 * HOUR)
  const now = clock.now()
  const good = (hoursAgo: number, requests = 1): unknown => ({ hour: now - hoursAgo * HOUR, requests, bytesIn: 10, bytesOut: 20 })
  const junk: unknown[] = [
    null, 7, 'x', [], [now, 1, 2, 3], {},
    { hour: String(now), requests: 1, bytesIn: 0, bytesOut: 0 },
    { hour: now + 1, requests: 1, bytesIn: 0, bytesOut: 0 },
    { hour: now, requests: 0, bytesIn: 0, bytesOut: 0 },
    { hour: now, requests: 1.5, bytesIn: 0, bytesOut: 0 },
    { hour: now, requests: -1, bytesIn: 0, bytesOut: 0 },
    { hour: now, requests: 1, bytesIn: -1, bytesOut: 0 },
    { hour: now, requests: 1, bytesIn: 0, bytesOut: '5' },
    { hour: now, requests: 1e300, bytesIn: 0, bytesOut: 0 },
    { hour: now + HOUR, requests: 1, bytesIn: 0, bytesOut: 0 },
    { hour: now - 168 * HOUR, requests: 1, bytesIn: 0, bytesOut: 0 },
    { hour: 1e300, requests: 1, bytesIn: 0, bytesOut: 0 }
  ]
  // Valid entries all along, but only the last 168 are looked at: 146 nulls, then these.
  const tail = [good(5, 2), ...junk, good(3, 4), good(5, 9), good(167, 6), good(0, 1)]
  const huge: unknown[] = Array.from({ length: 300_000 }, (_, i) => i % 2 === 0 ? good(i % 100) : junk[i % junk.length])
  huge.push(...Array.from({ length: 168 - tail.length }, () => null), ...tail)
  const kept = [good(167, 6), good(5, 2), good(3, 4), good(0, 1)]

  t.test('decodeUsage looks at the last 168 entries only', async t => {
    t.same(decodeUsage({ v: 2, requests: {}, bytesIn: 0, bytesOut: 0, denied: 0, history: huge }, now)?.history, kept,
      'valid hours of the window, in order, one an hour (the first of two kept)')
    // 2^32 - 1 slots: a read in proportion to the length would not end.
    const endless: unknown[] = new Array(2 ** 32 - 1)
    tail.forEach((entry, i) => { endless[endless.length - tail.length + i] = entry })
    t.same(decodeUsage({ v: 2, history: endless }, now)?.history, kept, 'the longest array costs what 168 entries cost')
    for (const history of ['x', 5, null, { length: 1e9 }, { 0: good(1) }]) {
      t.same(decodeUsage({ v: 2, history }, now)?.history, [], `history ${JSON.stringify(history)} is none`)
    }
    t.same(decodeUsage({ v: 2, requests: [1], bytesIn: 'a', bytesOut: -4, denied: null, lastUsed: 'x', lastDenied: { at: 1 } }, now),
      { v: 2, requests: {}, bytesIn: 0, bytesOut: 0, denied: 0, history: [] }, 'totals of the wrong type are dropped')
    t.equal(decodeUsage('junk', now), undefined)
    t.equal(decodeUsage(null, now), undefined)
    t.equal(decodeUsage([], now), undefined)
  })

  t.test('a store with such a record opens, shows what is valid and writes back no more than 168 hours', async t => {
    const { db, box, id } = await setup(t, clock)
    await box.close()
    const sub = openSublevels(db)
    await sub.usage.put(id, { v: 2, requests: { GetObject: 1 }, bytesIn: 1, bytesOut: 2, denied: 0, history: huge })
    await sub.usage.put('SBNOTAKEY', 'junk')
    const again = await reopen(t, db, clock)
    t.same(hours(again, id), [
      { hour: now - 167 * HOUR, requests: 6, bytesIn: 10, bytesOut: 20 },
      { hour: now - 5 * HOUR, requests: 2, bytesIn: 10, bytesOut: 20 },
      { hour: now - 3 * HOUR, requests: 4, bytesIn: 10, bytesOut: 20 },
      { hour: now, requests: 1, bytesIn: 10, bytesOut: 20 }
    ])
    await again.as(id).headObject('bkt', 'hello')
    t.same(hours(again, id).at(-1), { hour: now, requests: 2, bytesIn: 10, bytesOut: 20 })
    await again.close()
    const stored = await sub.usage.get(id) as UsageRecord
    t.equal(stored.history.length, 4, 'the record written back holds only what was kept')
  })
})

t.test('a clock set back counts into the right hour, and never more than 7 days behind the newest', async t => {
  const clock = new ManualClock(START + 5 * HOUR)
  const { box, id } = await setup(t, clock)
  const view = box.as(id)
  await view.headObject('bkt', 'hello')
  clock.set(START + 3 * HOUR)
  await view.headObject('bkt', 'hello')
  clock.set(START + 5 * HOUR + 10)
  await view.headObject('bkt', 'hello')
  clock.set(START + 3 * HOUR + 10)
  await view.headObject('bkt', 'hello')
  clock.set(START + 5 * HOUR - 168 * HOUR)
  await view.headObject('bkt', 'hello')
  clock.set(START + 5 * HOUR)
  t.same(hours(box, id), [
    { hour: START + 3 * HOUR, requests: 2, bytesIn: 0, bytesOut: 0 },
    { hour: START + 5 * HOUR, requests: 2, bytesIn: 0, bytesOut: 0 }
  ], 'an hour 7 days before the newest is not kept')
  t.equal(box.keys.usage(id).requests.HeadObject, 5, 'though the totals count it')
})
