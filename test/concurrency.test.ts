import t from 'tap'
import { backends, bytes, md5hex, readAll, pieces } from './helpers.js'
import type { SpaceboxError } from '../lib/index.js'

for (const backend of backends) {
  t.test(`concurrency (${backend.name})`, async t => {
    t.test('20 writers racing on one key leave exactly one writer\'s full body', async t => {
      const box = await backend.open(t, { chunkSize: 1024, inlineThreshold: 0 })
      await box.createBucket('race')
      const bodies = Array.from({ length: 20 }, (_, i) => bytes(4000 + i * 97, i + 1))
      const results = await Promise.all(bodies.map(async body => await box.putObject('race', 'k', pieces(body, 500))))
      const { info, body } = await box.getObject('race', 'k')
      const got = await readAll(body)
      const winner = bodies.findIndex(b => b.equals(got))
      t.ok(winner >= 0, 'the stored bytes are one writer\'s body, whole')
      t.equal(info.etag, results[winner]?.etag)
      t.equal(info.size, bodies[winner]?.length)
    })

    t.test('conditional creates racing on one key have exactly one winner', async t => {
      const box = await backend.open(t, { chunkSize: 1024, inlineThreshold: 0 })
      await box.createBucket('race')
      for (let round = 0; round < 5; round++) {
        const key = `k${round}`
        const results = await Promise.allSettled(Array.from({ length: 10 }, async (_, i) => await box.putObject('race', key, bytes(2000, i + 1), { ifNoneMatch: '*' })))
        const winners = results.filter(r => r.status === 'fulfilled')
        t.equal(winners.length, 1, 'one winner')
        t.ok(results.every(r => r.status === 'fulfilled' || (r.reason as SpaceboxError).code === 'PreconditionFailed'), 'the losers get PreconditionFailed')
        const got = await readAll((await box.getObject('race', key)).body)
        t.equal(`"${md5hex(got)}"`, (winners[0] as PromiseFulfilledResult<{ etag: string }>).value.etag)
      }
    })

    t.test('If-Match writes racing: exactly one replaces the version they all saw', async t => {
      const box = await backend.open(t)
      await box.createBucket('race')
      const { etag } = await box.putObject('race', 'k', 'v0')
      const results = await Promise.allSettled(Array.from({ length: 10 }, async (_, i) => await box.putObject('race', 'k', `v${i + 1}`, { ifMatch: etag })))
      t.equal(results.filter(r => r.status === 'fulfilled').length, 1)
      await t.rejects(box.putObject('race', 'absent', 'v', { ifMatch: etag }), { code: 'NoSuchKey' })
      await t.rejects(box.putObject('race', 'k', 'v', { ifNoneMatch: '"abc"' }), { code: 'InvalidArgument' })
    })

    t.test('a reader streaming an object keeps its version whole while writers replace and delete it', async t => {
      const box = await backend.open(t, { chunkSize: 1024, inlineThreshold: 0 })
      await box.createBucket('race')
      const first = bytes(50_000, 1)
      await box.putObject('race', 'k', first)
      const { body } = await box.getObject('race', 'k')
      const it = body[Symbol.asyncIterator]()
      const head = await it.next()
      await box.putObject('race', 'k', bytes(50_000, 2))
      await box.putObject('race', 'k', 'small')
      await box.deleteObject('race', 'k')
      const rest: Buffer[] = [head.value as Buffer]
      for (let r = await it.next(); r.done !== true; r = await it.next()) rest.push(r.value as Buffer)
      t.ok(Buffer.concat(rest).equals(first), 'the reader saw the first version whole')
    })

    t.test('readers, writers, listers and deleters on overlapping keys never see a torn object', async t => {
      const box = await backend.open(t, { chunkSize: 512, inlineThreshold: 64 })
      await box.createBucket('race')
      const versions = Array.from({ length: 6 }, (_, i) => bytes(100 + i * 1500, i + 1))
      const known = new Set(versions.map(v => md5hex(v)))
      const keys = ['a', 'b', 'c']
      let torn = 0
      let reads = 0
      const work: Array<Promise<unknown>> = []
      for (let i = 0; i < 120; i++) {
        const key = keys[i % keys.length] as string
        const version = versions[i % versions.length] as Buffer
        if (i % 4 === 0) work.push(box.deleteObject('race', key))
        else if (i % 4 === 1) work.push(box.putObject('race', key, pieces(version, 300)))
        else if (i % 8 === 3) {
          work.push(box.listObjectsV2('race').then(page => {
            const keys = page.contents.map(c => c.key)
            if (keys.some((k, n) => n > 0 && k <= (keys[n - 1] as string))) torn++
            for (const object of page.contents) if (!versions.some(v => v.length === object.size && `"${md5hex(v)}"` === object.etag)) torn++
          }))
        } else {
          work.push(box.getObject('race', key).then(async ({ info, body }) => {
            const got = await readAll(body)
            reads++
            if (!known.has(md5hex(got)) || `"${md5hex(got)}"` !== info.etag) torn++
          }, (err: SpaceboxError) => { if (err.code !== 'NoSuchKey') throw err }))
        }
      }
      await Promise.all(work)
      t.equal(torn, 0, `no torn read or listing entry among ${reads} reads`)
    })
  })
}
