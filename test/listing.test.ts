import t from 'tap'
import type { Spacebox, ListObjectsV2Result } from '../lib/index.js'
import { backends, md5hex } from './helpers.js'

const utf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

/** The reference model: S3 listing semantics over a plain sorted array. */
function model (keys: string[], o: { prefix?: string, delimiter?: string, after?: string }): string[] {
  const prefix = o.prefix ?? ''
  const out: string[] = []
  for (const key of [...keys].sort(utf8)) {
    if (!key.startsWith(prefix)) continue
    const at = o.delimiter ? key.indexOf(o.delimiter, prefix.length) : -1
    const name = at >= 0 ? key.slice(0, at + o.delimiter!.length) : key
    if (o.after !== undefined && utf8(name, o.after) <= 0) continue
    if (out[out.length - 1] !== name) out.push(name)
  }
  return out
}

/** Page through v2 with tokens; returns every entry in order and checks each page's shape. */
async function allV2 (t: { fail: (message: string) => void }, box: Spacebox, bucket: string, o: { prefix?: string, delimiter?: string, startAfter?: string, maxKeys: number }): Promise<string[]> {
  const names: string[] = []
  let token: string | undefined
  for (let pages = 0; pages < 10_000; pages++) {
    const page: ListObjectsV2Result = await box.listObjectsV2(bucket, { ...o, ...(token === undefined ? {} : { continuationToken: token }) })
    const entries = [...page.contents.map(c => c.key), ...page.commonPrefixes].sort(utf8)
    if (page.keyCount !== entries.length || entries.length > o.maxKeys) t.fail(`bad page: keyCount ${page.keyCount}, ${entries.length} entries`)
    if (page.isTruncated !== (page.nextContinuationToken !== undefined)) t.fail('token only on truncated pages')
    names.push(...entries)
    if (!page.isTruncated) return names
    token = page.nextContinuationToken
  }
  throw new Error('listing did not end')
}

async function allV1 (box: Spacebox, bucket: string, o: { prefix?: string, delimiter?: string, maxKeys: number }): Promise<string[]> {
  const names: string[] = []
  let marker: string | undefined
  for (;;) {
    const page = await box.listObjects(bucket, { ...o, ...(marker === undefined ? {} : { marker }) })
    const entries = [...page.contents.map(c => c.key), ...page.commonPrefixes].sort(utf8)
    names.push(...entries)
    if (!page.isTruncated) return names
    // v1 gives NextMarker only with a delimiter; otherwise clients continue after the last key.
    marker = page.nextMarker ?? entries[entries.length - 1]
  }
}

/** A seeded random key set with multi-byte UTF-8 and delimiters inside keys. */
function keySet (seed: number, count: number): string[] {
  let x = seed
  const rand = (n: number): number => { // mulberry32
    x = (x + 0x6d2b79f5) | 0
    let r = Math.imul(x ^ (x >>> 15), 1 | x)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) % n
  }
  const parts = ['a', 'b', 'é', '日本', '😀', '/', '//', '-', '.', 'z', '\uffff', '0', ' ', '+', '%', 'ab/']
  const keys = new Set<string>()
  while (keys.size < count) {
    let key = ''
    for (let i = 0, n = 1 + rand(6); i < n; i++) key += parts[rand(parts.length)]
    keys.add(key)
  }
  return [...keys]
}

for (const backend of backends) {
  t.test(`listing (${backend.name})`, async t => {
    t.test('v1 and v2 match the reference model on randomised key sets', async t => {
      const box = await backend.open(t)
      await box.createBucket('list')
      const keys = keySet(backend.name === 'memory' ? 7 : 11, 300)
      for (const key of keys) await box.putObject('list', key, key)
      const prefixes = ['', 'a', 'é', '日本', 'ab/', '😀', '/', 'zz-none']
      const delimiters = [undefined, '/', '//', 'b', '😀', 'é']
      let checks = 0
      for (const prefix of prefixes) {
        for (const delimiter of delimiters) {
          for (const maxKeys of [1, 7, 1000]) {
            const o = { prefix, ...(delimiter === undefined ? {} : { delimiter }) }
            const expected = model(keys, o)
            t.same(await allV2(t, box, 'list', { ...o, maxKeys }), expected, `v2 prefix=${prefix} delimiter=${String(delimiter)} maxKeys=${maxKeys}`)
            t.same(await allV1(box, 'list', { ...o, maxKeys }), expected, `v1 prefix=${prefix} delimiter=${String(delimiter)} maxKeys=${maxKeys}`)
            checks++
          }
          const startAfter = keys[checks % keys.length] as string
          t.same(await allV2(t, box, 'list', { prefix, ...(delimiter === undefined ? {} : { delimiter }), startAfter, maxKeys: 5 }),
            model(keys, { prefix, ...(delimiter === undefined ? {} : { delimiter }), after: startAfter }), `startAfter ${startAfter}`)
        }
      }
    })

    t.test('page fields: contents, keyCount, maxKeys cap and zero, echoes', async t => {
      const box = await backend.open(t)
      await box.createBucket('list')
      const put = await box.putObject('list', 'dir/a.txt', 'hello')
      await box.putObject('list', 'dir/sub/b', 'x')
      await box.putObject('list', 'top', 'y')
      const page = await box.listObjectsV2('list', { delimiter: '/', fetchOwner: true })
      t.same(page.commonPrefixes, ['dir/'])
      t.equal(page.contents.length, 1)
      t.match(page.contents[0], { key: 'top', size: 1, etag: `"${md5hex('y')}"`, storageClass: 'STANDARD', owner: { displayName: 'spacebox' } })
      t.equal(page.keyCount, 2)
      t.equal(page.maxKeys, 1000)
      t.equal(page.delimiter, '/')
      const inDir = await box.listObjectsV2('list', { prefix: 'dir/', delimiter: '/' })
      t.same(inDir.contents.map(c => [c.key, c.size, c.etag, c.lastModified.getTime()]), [['dir/a.txt', 5, put.etag, put.lastModified.getTime()]])
      t.equal(inDir.contents[0]?.owner, undefined, 'owner only with fetchOwner')
      t.same(inDir.commonPrefixes, ['dir/sub/'])
      t.equal((await box.listObjectsV2('list', { maxKeys: 5000 })).maxKeys, 1000, 'maxKeys is capped at 1000')
      const zero = await box.listObjectsV2('list', { maxKeys: 0 })
      t.same([zero.contents, zero.commonPrefixes, zero.isTruncated, zero.keyCount], [[], [], false, 0])
      t.equal((await box.listObjects('list', { maxKeys: 0 })).isTruncated, false)
      await t.rejects(box.listObjectsV2('list', { maxKeys: -1 }), { code: 'InvalidArgument' })
      await t.rejects(box.listObjectsV2('list', { maxKeys: 1.5 }), { code: 'InvalidArgument' })
      // A wrong type is a TypeError, a wrong value of the right type InvalidArgument.
      await t.rejects(box.listObjectsV2('list', { prefix: 5 as unknown as string }), TypeError)
      await t.rejects(box.listObjectsV2('list', { delimiter: 5 as unknown as string }), TypeError)
      await t.rejects(box.listObjectsV2('list', { startAfter: 5 as unknown as string }), TypeError)
      await t.rejects(box.listObjectsV2('list', { maxKeys: '5' as unknown as number }), TypeError)
      await t.rejects(box.listObjectsV2('nope'), { code: 'NoSuchBucket' })
      const v1 = await box.listObjects('list', { maxKeys: 1 })
      t.equal(v1.isTruncated, true)
      t.equal(v1.nextMarker, undefined, 'v1 gives NextMarker only with a delimiter')
      t.ok(v1.contents[0]?.owner, 'v1 always has the owner')
      const v1d = await box.listObjects('list', { maxKeys: 1, delimiter: '/' })
      t.equal(v1d.nextMarker, 'dir/')
      const v1next = await box.listObjects('list', { marker: 'dir/', delimiter: '/' })
      t.same(v1next.commonPrefixes, [], 'a marker equal to a common prefix does not repeat it')
      t.same(v1next.contents.map(c => c.key), ['top'])
    })

    t.test('continuation tokens are tamper-evident and bound to their bucket', async t => {
      const box = await backend.open(t)
      await box.createBucket('list')
      await box.createBucket('other')
      for (const key of ['a', 'b', 'c']) {
        await box.putObject('list', key, key)
        await box.putObject('other', key, key)
      }
      const token = (await box.listObjectsV2('list', { maxKeys: 1 })).nextContinuationToken as string
      t.ok(token)
      t.same((await box.listObjectsV2('list', { continuationToken: token, startAfter: 'zzz' })).contents.map(c => c.key), ['b', 'c'], 'token wins over startAfter')
      const [payload, signature] = token.split('.') as [string, string]
      const forged = Buffer.from(JSON.stringify([JSON.parse(Buffer.from(payload, 'base64url').toString())[0], 'a0'])).toString('base64url')
      for (const bad of [`${forged}.${signature}`, `${payload}.${signature.slice(1)}x`, 'garbage', '', '...', `${payload}`, `${payload}.${signature}.x`, '%%%.%%%']) {
        if (bad === '') continue
        await t.rejects(box.listObjectsV2('list', { continuationToken: bad }), { code: 'InvalidArgument' }, `token ${bad.slice(0, 12)}`)
      }
      await t.rejects(box.listObjectsV2('other', { continuationToken: token }), { code: 'InvalidArgument' }, 'a token from another bucket is foreign')
      await box.deleteObjects('list', ['a', 'b', 'c'])
      await box.deleteBucket('list')
      await box.createBucket('list')
      await t.rejects(box.listObjectsV2('list', { continuationToken: token }), { code: 'InvalidArgument' }, 'and so is one from a deleted namesake')
    })

    t.test('listAll() walks every object under a prefix across pages', async t => {
      const box = await backend.open(t)
      await box.createBucket('list')
      const keys = Array.from({ length: 2345 }, (_, i) => `p/${String(i).padStart(5, '0')}`)
      for (const key of keys) await box.putObject('list', key, '')
      await box.putObject('list', 'q/outside', '')
      const seen: string[] = []
      for await (const object of box.listAll('list', { prefix: 'p/' })) seen.push(object.key)
      t.same(seen, keys)
      const tail: string[] = []
      for await (const object of box.listAll('list', { startAfter: 'p/02340' })) tail.push(object.key)
      t.same(tail, ['p/02341', 'p/02342', 'p/02343', 'p/02344', 'q/outside'])
      const none = box.listAll('nope')
      await t.rejects(none.next(), { code: 'NoSuchBucket' })
    })

    t.test('a page costs what its entries cost, not what the bucket holds', async t => {
      const box = await backend.open(t)
      await box.createBucket('small')
      await box.createBucket('large')
      for (let i = 0; i < 2000; i++) await box.putObject('small', `k${String(i).padStart(6, '0')}`, '')
      for (let i = 0; i < 20000; i++) await box.putObject('large', `k${String(i).padStart(6, '0')}`, '')
      const cost = async (bucket: string, options: object): Promise<[number, number]> => {
        const before = box.stats()
        await box.listObjectsV2(bucket, options)
        const after = box.stats()
        return [after.listRecordsRead - before.listRecordsRead, after.listSeeks - before.listSeeks]
      }
      const token = (await box.listObjectsV2('large', { maxKeys: 1000, startAfter: 'k010000' })).nextContinuationToken as string
      t.same(await cost('small', { maxKeys: 1000 }), [1001, 0], 'first page of a small bucket: the page and one look-ahead')
      t.same(await cost('large', { maxKeys: 1000 }), [1001, 0], 'first page of a bucket ten times larger: the same')
      t.same(await cost('large', { maxKeys: 1000, continuationToken: token }), [1001, 0], 'a middle page: the same')

      await box.createBucket('rollup')
      for (let p = 0; p < 5; p++) {
        for (let i = 0; i < 2000; i++) await box.putObject('rollup', `dir${p}/${String(i).padStart(5, '0')}`, '')
      }
      await box.putObject('rollup', 'top', '')
      const page = await box.listObjectsV2('rollup', { delimiter: '/' })
      t.same(page.commonPrefixes, ['dir0/', 'dir1/', 'dir2/', 'dir3/', 'dir4/'])
      t.same(await cost('rollup', { delimiter: '/' }), [6, 5], '10,000 keys under 5 prefixes: 6 records read, 5 seeks')
      const resumed = await box.listObjectsV2('rollup', { delimiter: '/', startAfter: 'dir2/' })
      t.same(resumed.commonPrefixes, ['dir3/', 'dir4/'])
      t.same(await cost('rollup', { delimiter: '/', startAfter: 'dir2/00005' }), [4, 3], 'resuming inside a prefix seeks past it at once')
    })

    t.test('listings stay consistent while objects are overwritten and deleted', async t => {
      const box = await backend.open(t)
      await box.createBucket('live')
      const keys = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(4, '0')}`)
      const bodies = ['a', 'bb', 'ccc']
      for (const key of keys) await box.putObject('live', key, 'a')
      const etags = new Map(bodies.map(b => [b.length, `"${md5hex(b)}"`]))
      const writes = (async () => {
        for (let round = 0; round < 3; round++) {
          for (const key of keys) await box.putObject('live', key, bodies[(round + 1) % 3] as string)
        }
      })()
      let pages = 0
      while (pages < 30) {
        let token: string | undefined
        let previous = ''
        do {
          const page = await box.listObjectsV2('live', { maxKeys: 37, ...(token === undefined ? {} : { continuationToken: token }) })
          for (const object of page.contents) {
            if (etags.get(object.size) !== object.etag) t.fail(`${object.key}: size ${object.size} with ETag ${object.etag}`)
            if (utf8(object.key, previous) <= 0) t.fail('keys out of order')
            previous = object.key
          }
          token = page.nextContinuationToken
          pages++
        } while (token !== undefined)
      }
      await writes
      const deleted = new Set<string>()
      let token: string | undefined
      do {
        const page = await box.listObjectsV2('live', { maxKeys: 50, ...(token === undefined ? {} : { continuationToken: token }) })
        for (const object of page.contents) if (deleted.has(object.key)) t.fail(`${object.key} reappeared after its delete`)
        for (const key of keys.filter((_, i) => i % 3 === 0)) {
          if (!deleted.has(key)) { await box.deleteObject('live', key); deleted.add(key) }
        }
        token = page.nextContinuationToken
      } while (token !== undefined)
      t.pass('no torn entry, no disorder, no resurrection')
    })
  })
}
