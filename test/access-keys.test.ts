import t from 'tap'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Level } from 'level'
import { constantTimeEqual } from '../lib/internal/secrets.js'
import { Spacebox, SpaceboxError, type Grant, type ScopedSpacebox } from '../lib/index.js'
import { openSublevels } from '../lib/schema/keys.js'
import { backends, readAll, tempDir } from './helpers.js'

type Outcome = 'allowed' | 'denied'
type Target = 'in' | 'out' | 'other'
const TARGETS: Record<Target, [string, string]> = { in: ['alpha', 'docs/x.txt'], out: ['alpha', 'other/x.txt'], other: ['beta', 'docs/x.txt'] }

/** Every operation of the scoped API, run against a target; resolves whatever the outcome was. */
const OPERATIONS: Record<string, (box: ScopedSpacebox, bucket: string, key: string) => Promise<unknown>> = {
  headBucket: async (box, bucket) => await box.headBucket(bucket),
  listObjectsV2: async (box, bucket) => await box.listObjectsV2(bucket),
  listObjects: async (box, bucket) => await box.listObjects(bucket),
  listMultipartUploads: async (box, bucket) => await box.listMultipartUploads(bucket),
  getObject: async (box, bucket, key) => { (await box.getObject(bucket, key)).body.destroy() },
  headObject: async (box, bucket, key) => await box.headObject(bucket, key),
  putObject: async (box, bucket, key) => await box.putObject(bucket, key, 'new'),
  deleteObject: async (box, bucket, key) => { await box.deleteObject(bucket, key) },
  copyObject: async (box, bucket, key) => await box.copyObject(bucket, key, bucket, `${key}.copy`),
  createMultipartUpload: async (box, bucket, key) => await box.createMultipartUpload(bucket, key),
  deleteBucket: async (box, bucket) => { await box.deleteBucket(bucket) },
  createBucket: async (box, bucket) => await box.createBucket(bucket)
}

// What each grant allows, written out by hand (not derived from the policy code under test).
const READ = ['headBucket', 'listObjectsV2', 'listObjects', 'listMultipartUploads', 'getObject', 'headObject']
const WRITE = [...READ, 'putObject', 'deleteObject', 'copyObject', 'createMultipartUpload']
const FULL = [...WRITE, 'deleteBucket', 'createBucket']
const LIST = ['headBucket', 'listObjectsV2', 'listObjects', 'listMultipartUploads']
const expected: Array<[string, Grant[], Record<Target, string[]>]> = [
  ['no grant', [], { in: [], out: [], other: [] }],
  ['read alpha', [{ bucket: 'alpha', permission: 'read' }], { in: READ, out: READ, other: [] }],
  ['readwrite alpha', [{ bucket: 'alpha', permission: 'readwrite' }], { in: WRITE, out: WRITE, other: [] }],
  ['fullaccess alpha', [{ bucket: 'alpha', permission: 'fullaccess' }], { in: FULL, out: FULL, other: [] }],
  ['read alpha/docs/', [{ bucket: 'alpha', permission: 'read', prefix: 'docs/' }], { in: READ, out: LIST, other: [] }],
  ['readwrite alpha/docs/', [{ bucket: 'alpha', permission: 'readwrite', prefix: 'docs/' }], { in: WRITE, out: LIST, other: [] }],
  ['fullaccess alpha/docs/', [{ bucket: 'alpha', permission: 'fullaccess', prefix: 'docs/' }], { in: WRITE, out: LIST, other: [] }],
  ['read beta', [{ bucket: 'beta', permission: 'read' }], { in: [], out: [], other: READ }],
  ['full access to all', [{ bucket: '', permission: 'fullaccess' }], { in: FULL, out: FULL, other: FULL }]
]

async function seeded (t: Tap): Promise<Spacebox> {
  const box = await backends[0]!.open(t)
  for (const bucket of ['alpha', 'beta']) {
    await box.createBucket(bucket)
    for (const key of ['docs/x.txt', 'other/x.txt']) await box.putObject(bucket, key, 'old')
  }
  return box
}
type Tap = Parameters<typeof backends[0]['open']>[0]

t.test('every operation x every grant x in/out of bucket x in/out of prefix', async t => {
  for (const [label, grants, allowed] of expected) {
    for (const [target, [bucket, key]] of Object.entries(TARGETS) as Array<[Target, [string, string]]>) {
      for (const [operation, run] of Object.entries(OPERATIONS)) {
        const box = await seeded(t)
        const { accessKeyId, secretAccessKey } = await box.keys.create({ name: label, grants })
        const scoped = box.withCredentials({ accessKeyId, secretAccessKey })
        const want: Outcome = allowed[target].includes(operation) ? 'allowed' : 'denied'
        const got = await run(scoped, bucket, key).then(() => 'allowed', (err: { code?: string }) => err.code === 'AccessDenied' ? 'denied' : `allowed (${err.code})`)
        const outcome = got.startsWith('allowed') ? 'allowed' : 'denied'
        if (outcome !== want) t.fail(`${label}: ${operation} on ${bucket}/${key} was ${got}, expected ${want}`)
        else t.pass(`${label}: ${operation} ${target} ${want}`)
        if (want === 'denied') {
          t.equal((await readAll((await box.getObject(bucket, key)).body)).toString(), 'old', 'a denied call changed nothing')
          t.equal(box.keys.usage(accessKeyId).denied, 1, 'and the refusal is on record for the owner')
        }
        await box.close()
      }
    }
  }
})

t.test('a prefix-scoped key lists only its prefix, whatever it asks', async t => {
  const box = await seeded(t)
  await box.putObject('alpha', 'docs/sub/deep.txt', 'x')
  await box.putObject('alpha', 'z-after', 'x')
  const key = await box.keys.create({ name: 'docs', grants: [{ bucket: 'alpha', permission: 'read', prefix: 'docs/' }] })
  const scoped = box.as(key.accessKeyId)
  t.same((await scoped.listObjectsV2('alpha')).contents.map(c => c.key), ['docs/sub/deep.txt', 'docs/x.txt'], 'clipped to the grant')
  t.same((await scoped.listObjectsV2('alpha', { delimiter: '/' })).commonPrefixes, ['docs/'], 'a roll-up shows no other prefix')
  t.same((await scoped.listObjectsV2('alpha', { prefix: 'docs/', delimiter: '/' })).commonPrefixes, ['docs/sub/'])
  t.same((await scoped.listObjectsV2('alpha', { startAfter: 'other/' })).contents, [], 'a startAfter past the grant finds nothing')
  t.same((await scoped.listObjectsV2('alpha', { startAfter: 'a' })).contents.length, 2, 'a startAfter before the grant starts at it')
  t.same((await scoped.listObjects('alpha', { marker: 'docs/sub/deep.txt' })).contents.map(c => c.key), ['docs/x.txt'])
  const all: string[] = []
  for await (const object of scoped.listAll('alpha')) all.push(object.key)
  t.same(all, ['docs/sub/deep.txt', 'docs/x.txt'])
  await t.rejects(scoped.listObjectsV2('alpha', { prefix: 'other/' }), { code: 'AccessDenied' })
  await t.rejects(scoped.listAll('alpha', { prefix: 'z' }).next(), { code: 'AccessDenied' })
  await t.rejects(scoped.copyObject('alpha', 'other/x.txt', 'alpha', 'docs/stolen'), { code: 'AccessDenied' })
  const two = await box.keys.create({ name: 'two', grants: [{ bucket: 'alpha', permission: 'read', prefix: 'docs/' }, { bucket: 'alpha', permission: 'read', prefix: 'other/' }] })
  await t.rejects(box.as(two.accessKeyId).listObjectsV2('alpha'), { code: 'AccessDenied' }, 'two prefixes: the caller must pick one')
  t.equal((await box.as(two.accessKeyId).listObjectsV2('alpha', { prefix: 'other/' })).keyCount, 1)
  t.match(box.keys.usage(two.accessKeyId).lastDenied, { operation: 'ListObjectsV2', reason: /granted prefixes/ }, 'the owner sees why')
})

t.test('listBuckets through a key shows only the buckets it can reach', async t => {
  const box = await seeded(t)
  await box.createBucket('gamma')
  const scoped = await box.keys.create({ name: 's', grants: [{ bucket: 'beta', permission: 'read' }, { bucket: 'gamma', permission: 'readwrite', prefix: 'p/' }, { bucket: 'missing', permission: 'read' }] })
  t.same((await box.as(scoped.accessKeyId).listBuckets()).map(b => b.name), ['beta', 'gamma'])
  const all = await box.keys.create({ name: 'all', grants: [{ bucket: '', permission: 'fullaccess' }] })
  t.same((await box.as(all.accessKeyId).listBuckets()).map(b => b.name), ['alpha', 'beta', 'gamma'])
  const none = await box.keys.create({ name: 'none', grants: [] })
  t.same(await box.as(none.accessKeyId).listBuckets(), [])
  const creator = await box.keys.create({ name: 'creator', grants: [{ bucket: 'future', permission: 'fullaccess' }] })
  await box.as(creator.accessKeyId).createBucket('future')
  t.ok(await box.headBucket('future'), 'a grant may name a bucket that does not exist yet')
  await t.rejects(box.as(creator.accessKeyId).createBucket('other-future'), { code: 'AccessDenied' })
  await t.rejects(box.headBucket('other-future'), { code: 'NoSuchBucket' })
  const allAccess = box.as(all.accessKeyId)
  await allAccess.createBucket('later')
  t.equal((await allAccess.putObject('later', 'k', 'v')).size, 1, 'full access reaches buckets created after the key')
})

t.test('the key lifecycle: secret once, rename, update, regenerate, disable, expiry, delete', async t => {
  const box = await backends[0]!.open(t)
  await box.createBucket('alpha')
  const created = await box.keys.create({ name: 'ci', grants: [{ bucket: 'alpha', permission: 'readwrite' }] })
  t.match(created.accessKeyId, /^SB[A-Z0-9]{18}$/)
  t.equal(created.secretAccessKey.length, 40)
  t.notOk(JSON.stringify(box.keys.get(created.accessKeyId)).includes(created.secretAccessKey), 'get never shows the secret')
  t.notOk(JSON.stringify(box.keys.list()).includes(created.secretAccessKey), 'nor does list')
  t.notOk('secretAccessKey' in box.keys.get(created.accessKeyId))
  const other = await box.keys.create({ name: 'other', grants: [{ bucket: 'alpha', permission: 'read' }] })
  const view = box.withCredentials(created)
  await view.putObject('alpha', 'k', 'v')

  await t.rejects(async () => box.withCredentials({ accessKeyId: created.accessKeyId, secretAccessKey: 'x'.repeat(40) }), { code: 'SignatureDoesNotMatch' })
  await t.rejects(async () => box.withCredentials({ accessKeyId: created.accessKeyId, secretAccessKey: 'short' }), { code: 'SignatureDoesNotMatch' })
  await t.rejects(async () => box.withCredentials({ accessKeyId: 'SBNOTAKEY0000000000', secretAccessKey: created.secretAccessKey }), { code: 'InvalidAccessKeyId' })
  await t.rejects(async () => box.as('SBNOTAKEY0000000000'), { code: 'InvalidAccessKeyId' })

  t.equal((await box.keys.rename(created.accessKeyId, 'ci-renamed')).name, 'ci-renamed')
  await box.keys.update(created.accessKeyId, { grants: [{ bucket: 'alpha', permission: 'read' }] })
  await t.rejects(view.putObject('alpha', 'k', 'v2'), { code: 'AccessDenied' }, 'narrowed grants apply to the next call')
  await box.keys.update(created.accessKeyId, { grants: [{ bucket: 'alpha', permission: 'readwrite' }] })
  await t.rejects(box.keys.update(created.accessKeyId, { grants: [{ bucket: '', permission: 'fullaccess' }] }), { code: 'InvalidArgument' }, 'scoped cannot become full access')
  const full = await box.keys.create({ name: 'full', grants: [{ bucket: '', permission: 'fullaccess' }] })
  await t.rejects(box.keys.update(full.accessKeyId, { grants: [{ bucket: 'alpha', permission: 'read' }] }), { code: 'InvalidArgument' }, 'nor full access scoped')

  const regenerated = await box.keys.regenerate(created.accessKeyId)
  t.not(regenerated.secretAccessKey, created.secretAccessKey)
  t.equal(regenerated.accessKeyId, created.accessKeyId)
  await t.rejects(view.headObject('alpha', 'k'), { code: 'SignatureDoesNotMatch' }, 'the old secret fails from that instant, even in an open view')
  await t.rejects(async () => box.withCredentials(created), { code: 'SignatureDoesNotMatch' })
  await t.resolves(box.withCredentials(regenerated).headObject('alpha', 'k'))
  await t.resolves(box.withCredentials(other).headObject('alpha', 'k'), 'other keys are unaffected')

  await box.keys.disable(created.accessKeyId)
  t.equal(box.keys.get(created.accessKeyId).disabled, true)
  await t.rejects(async () => await box.withCredentials(regenerated).headObject('alpha', 'k'), { code: 'InvalidAccessKeyId' })
  await box.keys.enable(created.accessKeyId)
  await t.resolves(box.withCredentials(regenerated).headObject('alpha', 'k'))

  // An expiry in the past is refused when set, so let a near one pass.
  await box.keys.update(created.accessKeyId, { expiresAt: new Date(Date.now() + 100) })
  await sleep(150)
  await t.rejects(async () => await box.as(created.accessKeyId).headObject('alpha', 'k'), { code: 'InvalidAccessKeyId' }, 'an expired key is refused')
  await box.keys.update(created.accessKeyId, { expiresAt: null })
  await t.resolves(box.as(created.accessKeyId).headObject('alpha', 'k'))
  const soon = await box.keys.create({ name: 'soon', grants: [{ bucket: 'alpha', permission: 'read' }], expiresAt: Date.now() + 60_000 })
  t.ok(box.keys.get(soon.accessKeyId).expiresAt instanceof Date)

  const scopedView = box.as(other.accessKeyId)
  await box.keys.delete(other.accessKeyId)
  await t.rejects(scopedView.headObject('alpha', 'k'), { code: 'InvalidAccessKeyId' }, 'deleted: refused at once')
  await t.rejects(async () => box.keys.get(other.accessKeyId), { code: 'NoSuchAccessKey' })
  await t.rejects(box.keys.delete(other.accessKeyId), { code: 'NoSuchAccessKey' })
  await t.rejects(box.keys.regenerate(other.accessKeyId), { code: 'NoSuchAccessKey' })
  t.notOk(box.keys.list().some(k => k.accessKeyId === other.accessKeyId))
})

t.test('grants are checked when keys are made or changed', async t => {
  const box = await backends[0]!.open(t)
  const bad: unknown[] = [
    [{ bucket: '', permission: 'fullaccess' }, { bucket: 'alpha', permission: 'read' }],
    [{ bucket: '', permission: 'read' }],
    [{ bucket: '', permission: 'fullaccess', prefix: 'x/' }],
    [{ bucket: 'Not_A_Bucket', permission: 'read' }],
    [{ bucket: 'alpha', permission: 'admin' }],
    [{ bucket: 'alpha', permission: 'read', prefix: 7 }],
    [{ bucket: 'alpha', permission: 'read', prefix: 'x'.repeat(1025) }],
    [null], 'alpha', undefined
  ]
  for (const grants of bad) {
    await t.rejects(box.keys.create({ name: 'bad', grants: grants as Grant[] }), { code: 'InvalidArgument' }, JSON.stringify(grants))
  }
  for (const name of ['', '   ', 'x'.repeat(256), 5]) {
    await t.rejects(box.keys.create({ name: name as string, grants: [] }), { code: 'InvalidArgument' })
  }
  await t.rejects(box.keys.create({ name: 'k', grants: [], expiresAt: 'never' }), { code: 'InvalidArgument' })
  await t.rejects(box.keys.create({ name: 'k', grants: [], rateLimit: 0 }), { code: 'InvalidArgument' })
  t.same(box.keys.list(), [], 'no key was made by the failures')
  const empty = await box.keys.create({ name: 'nothing', grants: [] })
  t.same(box.keys.get(empty.accessKeyId).grants, [], 'a key that reaches nothing is allowed')
})

t.test('keys.create(), update() and list() refuse an option they do not know with a TypeError naming it', async t => {
  const box = await backends[0]!.open(t)
  const key = await box.keys.create({ name: 'k', grants: [{ bucket: 'alpha', permission: 'read', prefix: 'p/' }] })
  const calls: Array<[string, () => unknown, RegExp]> = [
    ['create with grant for grants', () => box.keys.create({ name: 'x', grant: [{ bucket: 'alpha', permission: 'read' }] } as never), /"grant"/],
    ['create with expires for expiresAt', () => box.keys.create({ name: 'x', grants: [], expires: '2999-01-01' } as never), /"expires"/],
    ['create with an undefined unknown option', () => box.keys.create({ name: 'x', grants: [], ratelimit: undefined } as never), /"ratelimit"/],
    ['create without options', () => box.keys.create(undefined as never), /options/],
    ['update with expires_at for expiresAt', () => box.keys.update(key.accessKeyId, { expires_at: null } as never), /"expires_at"/],
    ['update with name, which is rename()', () => box.keys.update(key.accessKeyId, { name: 'y' } as never), /"name"/],
    ['list with a misspelt filter', () => box.keys.list({ buckett: 'alpha' } as never), /"buckett"/]
  ]
  for (const [label, call, names] of calls) {
    const err = await (async () => { await call() })().then(() => undefined, (err: unknown) => err)
    t.type(err, TypeError, label)
    t.notOk(err instanceof SpaceboxError, `${label}: a programmer's mistake, without a code`)
    t.match((err as Error | undefined)?.message, names, `${label}: the message names the option`)
  }
  t.same(box.keys.list().map(k => k.name), ['k'], 'nothing was created')
  t.same(box.keys.get(key.accessKeyId).grants, [{ bucket: 'alpha', permission: 'read', prefix: 'p/' }], 'nothing was changed')
})

t.test('a grant with a field it does not know is refused with InvalidArgument naming it', async t => {
  const box = await backends[0]!.open(t)
  const key = await box.keys.create({ name: 'k', grants: [{ bucket: 'alpha', permission: 'read', prefix: 'p/' }] })
  // Dropped, a misspelt prefix would widen the grant to the whole bucket.
  const misspelt = [{ bucket: 'alpha', permission: 'read', perfix: 'p/' }] as unknown as Grant[]
  await t.rejects(box.keys.create({ name: 'x', grants: misspelt }), { code: 'InvalidArgument', message: /"perfix"/ })
  await t.rejects(box.keys.update(key.accessKeyId, { grants: misspelt }), { code: 'InvalidArgument', message: /"perfix"/ })
  t.same(box.keys.list().map(k => k.name), ['k'], 'nothing was created')
  t.same(box.keys.get(key.accessKeyId).grants, [{ bucket: 'alpha', permission: 'read', prefix: 'p/' }], 'nothing was changed')
})

t.test('an expiry in the past is refused with InvalidArgument when a key is made or changed', async t => {
  const box = await backends[0]!.open(t)
  const key = await box.keys.create({ name: 'k', grants: [], expiresAt: '2999-01-01T00:00:00Z' })
  for (const past of [new Date(Date.now() - 1000), '2020-01-01', 0, Date.now(), true]) {
    await t.rejects(box.keys.create({ name: 'x', grants: [], expiresAt: past as Date }), { code: 'InvalidArgument' }, `create: ${String(past)}`)
    await t.rejects(box.keys.update(key.accessKeyId, { expiresAt: past as Date }), { code: 'InvalidArgument' }, `update: ${String(past)}`)
  }
  t.same(box.keys.list().map(k => k.name), ['k'], 'nothing was created')
  t.same(box.keys.get(key.accessKeyId).expiresAt, new Date('2999-01-01T00:00:00Z'), 'the expiry is unchanged')
  t.equal((await box.keys.update(key.accessKeyId, { expiresAt: null })).expiresAt, undefined, 'null still removes it')
})

t.test('no key exists that the owner did not create', async t => {
  const location = await tempDir(t)
  let box = await Spacebox.open({ location })
  await box.createBucket('alpha')
  await box.putObject('alpha', 'k', 'v')
  t.same(box.keys.list(), [])
  const made = await box.keys.create({ name: 'only', grants: [] })
  await box.keys.delete(made.accessKeyId)
  await box.close()
  box = await Spacebox.open({ location })
  t.same(box.keys.list(), [], 'reopening creates none, and a deleted key stays deleted')
  await t.rejects(async () => box.as(made.accessKeyId), { code: 'InvalidAccessKeyId' })
  await box.close()
  const raw = new Level(location)
  const tombstone = await openSublevels(raw).akeys.get(made.accessKeyId) as { deleted?: number, secret: string }
  await raw.close()
  t.ok(tombstone.deleted, 'the id is kept as a tombstone, so it is never issued again')
  t.equal(tombstone.secret, '', 'with its secret erased')
})

t.test('whoCanAccess(bucket) answers the audit question in one call', async t => {
  const box = await backends[0]!.open(t)
  await box.createBucket('alpha')
  const all = await box.keys.create({ name: 'all', grants: [{ bucket: '', permission: 'fullaccess' }] })
  const reader = await box.keys.create({ name: 'reader', grants: [{ bucket: 'alpha', permission: 'read', prefix: 'logs/' }, { bucket: 'beta', permission: 'readwrite' }] })
  const elsewhere = await box.keys.create({ name: 'elsewhere', grants: [{ bucket: 'beta', permission: 'fullaccess' }] })
  const gone = await box.keys.create({ name: 'gone', grants: [{ bucket: 'alpha', permission: 'read' }] })
  await box.keys.delete(gone.accessKeyId)
  await box.keys.disable(reader.accessKeyId)
  const access = box.keys.whoCanAccess('alpha').sort((a, b) => a.name < b.name ? -1 : 1)
  t.same(access.map(a => [a.accessKeyId, a.permission, a.prefix, a.disabled]), [
    [all.accessKeyId, 'fullaccess', undefined, false], [reader.accessKeyId, 'read', 'logs/', true]
  ])
  t.notOk(access.some(a => a.accessKeyId === elsewhere.accessKeyId))
  t.same(box.keys.list({ bucket: 'beta' }).map(k => k.name).sort(), ['all', 'elsewhere', 'reader'])
  t.same(box.keys.list({ permission: 'read' }).map(k => k.name), ['reader'])
  t.same(box.keys.list({ name: 'all' }).map(k => k.accessKeyId), [all.accessKeyId])
  t.throws(() => box.keys.whoCanAccess('Bad Name'), { code: 'InvalidBucketName' })
})

t.test('secrets are never in the store in plain text', async t => {
  const location = await tempDir(t)
  const box = await Spacebox.open({ location })
  const secrets: string[] = []
  for (let i = 0; i < 5; i++) {
    const key = await box.keys.create({ name: `k${i}`, grants: [] })
    secrets.push(key.secretAccessKey, (await box.keys.regenerate(key.accessKeyId)).secretAccessKey)
  }
  await box.close()
  const files = (await readdir(location, { recursive: true, withFileTypes: true })).filter(entry => entry.isFile()).map(entry => join(entry.parentPath, entry.name))
  t.ok(files.length > 3)
  for (const file of files) {
    const data = await readFile(file)
    for (const secret of secrets) {
      for (const form of [Buffer.from(secret), Buffer.from(secret, 'base64'), Buffer.from(Buffer.from(secret).toString('base64'))]) {
        if (data.includes(form)) t.fail(`${file} holds a secret`)
      }
    }
  }
  t.pass(`no secret in ${files.length} store files`)
  t.equal((await stat(`${location}.key`)).mode & 0o777, 0o600, 'the master key lives beside the store, mode 0600')
})

t.test('secrets are compared in constant time', async t => {
  t.equal(constantTimeEqual('same secret', 'same secret'), true)
  t.equal(constantTimeEqual('same secreT', 'same secret'), false)
  t.equal(constantTimeEqual('short', 'same secret'), false)
  t.equal(constantTimeEqual('', 'same secret'), false)
  // Every place that checks a secret goes through constantTimeEqual, and nothing compares one otherwise.
  const keys = await readFile(new URL('../lib/access/keys.ts', import.meta.url), 'utf8')
  t.match(keys, /constantTimeEqual\(typeof secretAccessKey === 'string' \? secretAccessKey : '', secret\)/)
  t.notMatch(keys, /(?<!typeof )\bsecret(AccessKey)? (===|!==|==|!=) /)
  const helper = await readFile(new URL('../lib/internal/secrets.ts', import.meta.url), 'utf8')
  t.match(helper, /timingSafeEqual\(a, b\)/)
})

t.test('usage figures and rate limits per key', async t => {
  const location = await tempDir(t)
  let box = await Spacebox.open({ location })
  await box.createBucket('alpha')
  const key = await box.keys.create({ name: 'k', grants: [{ bucket: 'alpha', permission: 'readwrite', prefix: 'in/' }] })
  const scoped = box.as(key.accessKeyId)
  await scoped.putObject('alpha', 'in/a', 'hello')
  await scoped.putObject('alpha', 'in/b', 'hi')
  await readAll((await scoped.getObject('alpha', 'in/a')).body)
  await readAll((await scoped.getObject('alpha', 'in/a', { range: 'bytes=0-1' })).body)
  await t.rejects(scoped.getObject('alpha', 'out/x'), { code: 'AccessDenied' })
  const usage = box.keys.usage(key.accessKeyId)
  t.same(usage.requests, { PutObject: 2, GetObject: 2 })
  t.equal(usage.bytesIn, 7)
  t.equal(usage.bytesOut, 7)
  t.ok(usage.lastUsed instanceof Date)
  t.equal(usage.denied, 1)
  t.match(usage.lastDenied, { operation: 'GetObject', reason: /outside the prefixes/ })
  await box.close()
  box = await Spacebox.open({ location })
  t.same(box.keys.usage(key.accessKeyId).requests, { PutObject: 2, GetObject: 2 }, 'figures survive a restart')

  await box.keys.update(key.accessKeyId, { rateLimit: 5 })
  const limited = box.as(key.accessKeyId)
  for (let i = 0; i < 5; i++) await limited.headObject('alpha', 'in/a')
  await t.rejects(limited.headObject('alpha', 'in/a'), { code: 'SlowDown' }, 'past the rate: SlowDown')
  await new Promise(resolve => setTimeout(resolve, 450))
  await t.resolves(limited.headObject('alpha', 'in/a'), 'the bucket refills')
  await box.keys.update(key.accessKeyId, { rateLimit: null })
  for (let i = 0; i < 20; i++) await limited.headObject('alpha', 'in/a')
  await box.keys.delete(key.accessKeyId)
  t.throws(() => box.keys.usage(key.accessKeyId), { code: 'NoSuchAccessKey' })
  await box.close()
  const raw = new Level(location)
  t.equal(await openSublevels(raw).usage.get(key.accessKeyId), undefined, 'a deleted key\'s figures go with it')
  await raw.close()
})

t.test('one clock: dates, key expiry and usage times follow the store\'s clock option', async t => {
  let now = Date.UTC(2030, 0, 1)
  const box = await Spacebox.open({ memory: true, clock: () => now })
  t.teardown(async () => { await box.close() })
  await box.createBucket('clocked')
  t.equal((await box.headBucket('clocked')).created.getTime(), now)
  await box.putObject('clocked', 'k', 'v')
  t.equal((await box.headObject('clocked', 'k')).lastModified.getTime(), now, 'an object is dated by the clock')
  const upload = await box.createMultipartUpload('clocked', 'm')
  t.equal((await box.listMultipartUploads('clocked')).uploads[0]?.initiated.getTime(), now)
  const key = await box.keys.create({ name: 'soon', grants: [{ bucket: 'clocked', permission: 'read' }], expiresAt: new Date(now + 60_000) })
  t.equal(box.keys.get(key.accessKeyId).createdAt.getTime(), now)
  await box.as(key.accessKeyId).headObject('clocked', 'k')
  t.equal(box.keys.usage(key.accessKeyId).lastUsed?.getTime(), now, 'usage is dated by the clock')
  const limited = await box.keys.create({ name: 'slow', grants: [{ bucket: 'clocked', permission: 'read' }], rateLimit: 1 })
  const view = box.as(limited.accessKeyId)
  await view.headObject('clocked', 'k')
  await t.rejects(view.headObject('clocked', 'k'), { code: 'SlowDown' }, 'one request a second, and the clock has not moved')
  now += 1000
  await view.headObject('clocked', 'k')
  t.pass('a second later by the clock, the next one goes through')
  now += 59_000
  t.throws(() => box.as(key.accessKeyId), { code: 'InvalidAccessKeyId' }, 'the key expires when the clock says so')
  await t.rejects(box.keys.create({ name: 'late', grants: [], expiresAt: new Date(now - 1) }), { code: 'InvalidArgument' }, 'the past is the clock\'s')
  await box.abortMultipartUpload('clocked', 'm', upload.uploadId)
})
