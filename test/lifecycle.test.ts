import t from 'tap'
import { Spacebox, SpaceboxError } from '../lib/index.js'
import { bytes, readAll, tempDir } from './helpers.js'

t.test('closing the store while requests are in flight completes or fails each of them cleanly', async t => {
  const location = await tempDir(t)
  for (let round = 0; round < 5; round++) {
    const box = await Spacebox.open({ location, chunkSize: 4096 })
    if (round === 0) {
      await box.createBucket('busy')
      for (let i = 0; i < 20; i++) await box.putObject('busy', `seed${i}`, bytes(30_000, i))
    }
    const slow = async function * (seed: number): AsyncGenerator<Buffer> {
      for (let i = 0; i < 20; i++) {
        yield bytes(4096, seed + i)
        await new Promise(resolve => setImmediate(resolve))
      }
    }
    const work: Array<Promise<unknown>> = []
    for (let i = 0; i < 20; i++) {
      work.push(box.putObject('busy', `w${round}-${i}`, slow(i)))
      work.push(box.getObject('busy', `seed${i}`).then(async ({ body }) => await readAll(body)))
      work.push(box.listObjectsV2('busy', { maxKeys: 5 }))
      work.push(box.copyObject('busy', `seed${i}`, 'busy', `copy${round}-${i}`))
    }
    await new Promise(resolve => setTimeout(resolve, 5 + round * 3))
    const closing = box.close()
    const results = await Promise.race([
      Promise.allSettled(work),
      new Promise(resolve => setTimeout(() => resolve('hang'), 20_000))
    ])
    t.not(results, 'hang', 'every request settles')
    await closing
    const failures = (results as PromiseSettledResult<unknown>[]).filter(r => r.status === 'rejected') as PromiseRejectedResult[]
    for (const failure of failures) {
      if (!(failure.reason instanceof SpaceboxError)) t.fail(`a request failed with a stray error: ${String(failure.reason)}`)
    }
    t.pass(`round ${round}: ${failures.length} of ${work.length} requests failed, each with a SpaceboxError`)
    await t.rejects(box.putObject('busy', 'after', 'x'), { code: 'NotOpen' })
  }
  const box = await Spacebox.open({ location })
  for (let i = 0; i < 20; i++) t.ok((await readAll((await box.getObject('busy', `seed${i}`)).body)).equals(bytes(30_000, i)))
  for await (const object of box.listAll('busy')) {
    const { body } = await box.getObject('busy', object.key)
    t.equal((await readAll(body)).length, object.size, `${object.key} reads whole`)
  }
  await box.close()
})

t.test('close() gives up on a call that does not finish, and a body read after close fails cleanly', async t => {
  const box = await Spacebox.open({ memory: true, chunkSize: 1024 })
  await box.createBucket('busy')
  await box.putObject('busy', 'big', bytes(50_000))
  const { body } = await box.getObject('busy', 'big')
  const endless = (async function * () { for (;;) { yield Buffer.alloc(1024); await new Promise(resolve => setTimeout(resolve, 5)) } })()
  const stuck = box.putObject('busy', 'stuck', endless)
  stuck.catch(() => {})
  const started = Date.now()
  await box.close({ timeout: 100 })
  t.ok(Date.now() - started < 5000, 'close does not wait for ever')
  await t.rejects(stuck, SpaceboxError, 'the stuck call fails with a SpaceboxError')
  await t.rejects(readAll(body), { code: 'NotOpen' }, 'so does a body read after close')
})

t.test('box.keys behaves like every other call after close(), and close() waits for its writes', async t => {
  const location = await tempDir(t)
  const box = await Spacebox.open({ location })
  const keys = box.keys
  const made = await keys.create({ name: 'before', grants: [] })
  const writes = Array.from({ length: 20 }, async (_, i) => await keys.create({ name: `in flight ${i}`, grants: [] }))
  await box.close()
  const settled = await Promise.allSettled(writes)
  t.ok(settled.every(s => s.status === 'fulfilled'), 'key writes under way when close() began finished before it resolved')
  t.throws(() => keys.get(made.accessKeyId), { code: 'NotOpen' })
  t.throws(() => keys.list(), { code: 'NotOpen' })
  t.throws(() => keys.whoCanAccess('any-bucket'), { code: 'NotOpen' })
  await t.rejects(keys.create({ name: 'after', grants: [] }), { code: 'NotOpen' })
  await t.rejects(keys.rename(made.accessKeyId, 'x'), { code: 'NotOpen' })
  await t.rejects(keys.delete(made.accessKeyId), { code: 'NotOpen' })
  t.throws(() => box.keys, { code: 'NotOpen' })
  const again = await Spacebox.open({ location })
  t.teardown(async () => { await again.close() })
  t.equal(again.keys.list().length, 21, 'every acknowledged key is there')
})
