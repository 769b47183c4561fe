import t from 'tap'
import { backends, bytes, readAll } from './helpers.js'

for (const backend of backends) {
  t.test(`ranges and conditional reads (${backend.name})`, async t => {
    t.test('single byte ranges in every form, across chunk boundaries', async t => {
      const box = await backend.open(t, { chunkSize: 1000, inlineThreshold: 0 })
      await box.createBucket('rng')
      const data = bytes(10_000)
      await box.putObject('rng', 'k', data)
      const cases: Array<[string | { start: number, end?: number }, number, number]> = [
        ['bytes=0-0', 0, 0], ['bytes=0-999', 0, 999], ['bytes=999-1000', 999, 1000], ['bytes=500-2500', 500, 2500],
        ['bytes=9999-', 9999, 9999], ['bytes=1000-', 1000, 9999], ['bytes=-1', 9999, 9999], ['bytes=-1500', 8500, 9999],
        ['bytes=-20000', 0, 9999], ['bytes=9000-50000', 9000, 9999], [' bytes=3-4 ', 3, 4],
        [{ start: 10, end: 19 }, 10, 19], [{ start: 9990 }, 9990, 9999], [{ start: 0, end: 1e9 }, 0, 9999]
      ]
      for (const [range, start, end] of cases) {
        const got = await box.getObject('rng', 'k', { range })
        t.same(got.range, { start, end }, JSON.stringify(range))
        t.ok((await readAll(got.body)).equals(data.subarray(start, end + 1)), `${JSON.stringify(range)} bytes`)
        t.equal(got.info.size, 10_000, 'info.size stays the whole size')
      }
    })

    t.test('ranges of inline objects', async t => {
      const box = await backend.open(t)
      await box.createBucket('rng')
      await box.putObject('rng', 'k', 'abcdefghij')
      const got = await box.getObject('rng', 'k', { range: 'bytes=2-4' })
      t.equal((await readAll(got.body)).toString(), 'cde')
      t.equal((await readAll((await box.getObject('rng', 'k', { range: 'bytes=-3' })).body)).toString(), 'hij')
    })

    t.test('unsatisfiable ranges reject with InvalidRange and the object size', async t => {
      const box = await backend.open(t)
      await box.createBucket('rng')
      await box.putObject('rng', 'k', 'abcdefghij')
      await box.putObject('rng', 'empty', '')
      for (const range of ['bytes=10-', 'bytes=10-20', 'bytes=-0', 'bytes=100-200']) {
        await t.rejects(box.getObject('rng', 'k', { range }), { code: 'InvalidRange', detail: { actualObjectSize: 10 } }, range)
      }
      await t.rejects(box.getObject('rng', 'k', { range: { start: 10 } }), { code: 'InvalidRange' })
      for (const range of ['bytes=0-', 'bytes=-5', 'bytes=0-0']) {
        await t.rejects(box.getObject('rng', 'empty', { range }), { code: 'InvalidRange', detail: { actualObjectSize: 0 } }, `empty object, ${range}`)
      }
      await t.rejects(box.getObject('rng', 'k', { range: { start: -1 } }), { code: 'InvalidArgument' })
      await t.rejects(box.getObject('rng', 'k', { range: { start: 5, end: 2 } }), { code: 'InvalidArgument' })
      await t.rejects(box.getObject('rng', 'k', { range: { start: 1.5 } }), { code: 'InvalidArgument' })
    })

    t.test('ranges S3 does not understand are ignored: the whole object is returned', async t => {
      const box = await backend.open(t)
      await box.createBucket('rng')
      await box.putObject('rng', 'k', 'abcdefghij')
      for (const range of ['bytes=0-1,3-4', 'items=0-1', 'bytes=5-2', 'bytes=-', 'garbage', 'bytes=a-b', '']) {
        const got = await box.getObject('rng', 'k', { range })
        t.equal(got.range, undefined, range)
        t.equal((await readAll(got.body)).toString(), 'abcdefghij', range)
      }
    })

    t.test('conditional reads follow S3 precedence', async t => {
      const box = await backend.open(t)
      await box.createBucket('cnd')
      const { etag, lastModified } = await box.putObject('cnd', 'k', 'v')
      const bare = etag.slice(1, -1)
      const past = new Date(lastModified.getTime() - 60_000)
      const future = new Date(lastModified.getTime() + 60_000)
      const same = new Date(Math.floor(lastModified.getTime() / 1000) * 1000) // Last-Modified as sent, whole seconds
      type Case = [string, Record<string, unknown>, 'ok' | 'PreconditionFailed' | 'NotModified']
      const cases: Case[] = [
        ['If-Match equal', { ifMatch: etag }, 'ok'],
        ['If-Match unquoted', { ifMatch: bare }, 'ok'],
        ['If-Match weak', { ifMatch: `W/${etag}` }, 'ok'],
        ['If-Match list', { ifMatch: `"x", ${etag}` }, 'ok'],
        ['If-Match star', { ifMatch: '*' }, 'ok'],
        ['If-Match other', { ifMatch: '"other"' }, 'PreconditionFailed'],
        ['If-Unmodified-Since future', { ifUnmodifiedSince: future }, 'ok'],
        ['If-Unmodified-Since Last-Modified', { ifUnmodifiedSince: same.toUTCString() }, 'ok'],
        ['If-Unmodified-Since past', { ifUnmodifiedSince: past }, 'PreconditionFailed'],
        ['If-Match true beats If-Unmodified-Since false', { ifMatch: etag, ifUnmodifiedSince: past }, 'ok'],
        ['If-Match false with If-Unmodified-Since true', { ifMatch: '"x"', ifUnmodifiedSince: future }, 'PreconditionFailed'],
        ['If-None-Match equal', { ifNoneMatch: etag }, 'NotModified'],
        ['If-None-Match star', { ifNoneMatch: '*' }, 'NotModified'],
        ['If-None-Match other', { ifNoneMatch: '"other"' }, 'ok'],
        ['If-Modified-Since past', { ifModifiedSince: past }, 'ok'],
        ['If-Modified-Since Last-Modified', { ifModifiedSince: same }, 'NotModified'],
        ['If-Modified-Since future', { ifModifiedSince: future }, 'NotModified'],
        ['If-None-Match false beats If-Modified-Since true', { ifNoneMatch: etag, ifModifiedSince: past }, 'NotModified'],
        ['If-None-Match true ignores If-Modified-Since', { ifNoneMatch: '"other"', ifModifiedSince: future }, 'ok'],
        ['If-Match fails before If-None-Match', { ifMatch: '"x"', ifNoneMatch: etag }, 'PreconditionFailed'],
        ['unparseable dates are ignored', { ifModifiedSince: 'not a date', ifUnmodifiedSince: 'nor this' }, 'ok']
      ]
      for (const [name, conditions, outcome] of cases) {
        for (const op of ['getObject', 'headObject'] as const) {
          const call: Promise<unknown> = box[op]('cnd', 'k', conditions)
          if (outcome === 'ok') await t.resolves(call, `${op}: ${name}`)
          else await t.rejects(call, { code: outcome }, `${op}: ${name}`)
        }
      }
      const err = await box.getObject('cnd', 'k', { ifNoneMatch: etag }).catch((e: unknown) => e)
      t.match(err, { detail: { etag } }, 'NotModified carries the ETag for a 304')
    })

    t.test('a failed conditional read of a chunked object releases its snapshot', async t => {
      const box = await backend.open(t, { chunkSize: 1024, inlineThreshold: 0 })
      await box.createBucket('cnd')
      const { etag } = await box.putObject('cnd', 'k', bytes(5000))
      for (let i = 0; i < 50; i++) await t.rejects(box.getObject('cnd', 'k', { ifNoneMatch: etag }), { code: 'NotModified' })
      await t.rejects(box.getObject('cnd', 'k', { range: 'bytes=9000-' }), { code: 'InvalidRange' })
    })
  })
}
