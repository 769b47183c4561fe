import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { Spacebox, type ArchiveEvent } from '../lib/index.js'
import { endOfArchive, fileHeader, filePadding } from '../lib/archive/tar.js'
import { cli } from './fixtures/cli.js'
import { transpileChild } from './fixtures/transpiled.js'
import { bytes, readAll, tempDir } from './helpers.js'

type Tap = Parameters<typeof tempDir>[0]

async function store (t: Tap, location?: string): Promise<Spacebox> {
  const box = await Spacebox.open({ location: location ?? await tempDir(t) })
  t.teardown(async () => { await box.close() })
  return box
}

async function archiveOf (box: Spacebox, options: Parameters<Spacebox['exportTo']>[1] = {}): Promise<Buffer> {
  const out = new PassThrough()
  const collected = readAll(out)
  await box.exportTo(out, options)
  out.end()
  return await collected
}

function opener (archive: Buffer): () => AsyncIterable<Uint8Array> {
  return async function * () {
    // In pieces of odd sizes, as a file or a socket gives them.
    for (let at = 0; at < archive.length; at += 7777) yield archive.subarray(at, at + 7777)
  }
}

async function fill (box: Spacebox): Promise<void> {
  await box.createBucket('photos', { acl: 'public-read' })
  await box.putBucketPolicy('photos', JSON.stringify({
    Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos/public/*' }]
  }))
  await box.putBucketCors('photos', [{ allowedOrigins: ['https://example.com'], allowedMethods: ['GET'] }])
  await box.putBucketLifecycleConfiguration('photos', [{ id: 'tmp', status: 'Enabled', filter: { prefix: 'tmp/' }, expiration: { days: 3 } }])
  await box.putBucketWebsite('photos', { indexDocument: { suffix: 'index.html' } })
  await box.putBucketTagging('photos', { team: 'web' })
  await box.putObject('photos', 'public/a.txt', 'hello', {
    contentType: 'text/plain',
    cacheControl: 'no-cache',
    metadata: { by: 'me', note: 'grüße' },
    acl: 'public-read',
    tags: { kind: 'greeting' },
    checksumAlgorithm: 'CRC32',
    storageClass: 'STANDARD_IA'
  })
  await box.putObject('photos', 'tmp/empty', '')
  await box.putObject('photos', 'odd/ key "quoted" & <xml> 🙂', bytes(100_000, 2))
  const upload = await box.createMultipartUpload('photos', 'big', { contentType: 'application/x-big', tags: { made: 'parts' } })
  const parts = []
  for (const [i, size] of [5 * 1024 * 1024, 2 * 1024 * 1024 + 1].entries()) {
    parts.push({ partNumber: i + 1, etag: (await box.uploadPart('photos', 'big', upload.uploadId, i + 1, bytes(size, 20 + i))).etag })
  }
  await box.completeMultipartUpload('photos', 'big', upload.uploadId, parts)
  await box.createBucket('docs')
  await box.putBucketVersioning('docs', 'Enabled')
  await box.putObject('docs', 'report', 'v1')
  await box.putObject('docs', 'report', 'version two')
  await box.deleteObject('docs', 'report')
  await box.putObject('docs', 'report', 'v3')
  await box.putObject('docs', 'gone', 'x')
  await box.deleteObject('docs', 'gone')
}

/** Everything an import must bring back, read through the store's own calls. */
async function picture (box: Spacebox, versions: boolean): Promise<unknown> {
  const out: Record<string, unknown> = {}
  for (const { name, region } of await box.listBuckets()) {
    const settle = async <T>(p: Promise<T>): Promise<T | string> => await p.catch((err: { code: string }) => err.code)
    const objects = []
    const listing = versions ? box.listAllVersions(name) : box.listAll(name)
    for await (const o of listing) {
      const versionId = 'versionId' in o && versions ? { versionId: o.versionId } : {}
      if ('deleteMarker' in o && o.deleteMarker) {
        objects.push([o.key, 'marker', o.isLatest])
        continue
      }
      const { info, body } = await box.getObject(name, o.key, versionId)
      const data = await readAll(body)
      const { bucket, lastModified, versionId: id, expiration, ...kept } = info
      objects.push({
        ...kept,
        sha256: createHash('sha256').update(data).digest('hex'),
        tags: (await box.getObjectTagging(name, o.key, versionId)).tags,
        acl: (await box.getObjectAcl(name, o.key, versionId)).acl,
        ...('isLatest' in o ? { isLatest: o.isLatest } : {})
      })
    }
    out[name] = {
      region,
      acl: (await box.getBucketAcl(name)).acl,
      versioning: (await box.getBucketVersioning(name)).status,
      policy: await settle(box.getBucketPolicy(name)),
      cors: await settle(box.getBucketCors(name)),
      lifecycle: await settle(box.getBucketLifecycleConfiguration(name)),
      website: await settle(box.getBucketWebsite(name)),
      tags: await settle(box.getBucketTagging(name)),
      objects
    }
  }
  return out
}

t.test('export → import: buckets, settings, objects, metadata, tags, ACLs, classes and multipart ETags come back', async t => {
  const source = await store(t)
  await fill(source)
  const events: ArchiveEvent[] = []
  const archive = await archiveOf(source, { onEvent: e => { if (e.type !== 'data') events.push(e) } })
  t.same(events.filter(e => e.type === 'plan').map(e => e.type === 'plan' && e.objects), [1, 4], 'current objects: 1 in docs, 4 in photos')
  const target = await store(t)
  const result = await target.importFrom(opener(archive))
  t.same(result, { buckets: 2, keys: 0, objects: 5, bytes: 5 + 100_000 + 7 * 1024 * 1024 + 1 + 2, unchanged: 0 })
  t.same(await picture(target, false), await picture(source, false))
  const { range, body } = await target.getObject('photos', 'big', { partNumber: 2 })
  body.destroy()
  t.equal(range === undefined ? 0 : range.end - range.start + 1, 2 * 1024 * 1024 + 1, 'the parts as they were')
  t.same((await target.publicAccess('photos')).objects, (await source.publicAccess('photos')).objects, 'public objects are public again')

  const again = await target.importFrom(opener(archive))
  t.same([again.objects, again.unchanged], [0, 5], 'imported again: nothing written')

  // GNU tar reads it, and its listing is the documented layout.
  const file = join(await tempDir(t), 'store.tar')
  await writeFile(file, archive)
  const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n')
  t.same([names[0], names[1], names[2], names.at(-1)], ['manifest.json', 'objects/1.json', 'objects/1.data', 'checksums.json'])
})

t.test('export --versions → import: every version and delete marker, in order', async t => {
  const source = await store(t)
  await fill(source)
  const archive = await archiveOf(source, { versions: true })
  const target = await store(t)
  const result = await target.importFrom(opener(archive))
  t.equal(result.objects, 4 + 6)
  t.same(await picture(target, true), await picture(source, true))
  const history = []
  for await (const v of target.listAllVersions('docs')) history.push([v.key, v.deleteMarker, v.isLatest])
  t.same(history, [['gone', true, true], ['gone', false, false], ['report', false, true], ['report', true, false], ['report', false, false], ['report', false, false]])
  // The lifecycle index knows imported objects: their expiration is reported by the rule.
  t.equal((await target.headObject('photos', 'tmp/empty')).expiration?.ruleId, 'tmp')
})

t.test('a damaged archive is refused before anything is written', async t => {
  const source = await store(t)
  await fill(source)
  const good = await archiveOf(source)
  const at = (name: string): number => {
    for (let offset = 0; offset < good.length; offset += 512) if (good.toString('utf8', offset, offset + name.length + 1) === `${name}\0`) return offset
    throw new Error(`no ${name}`)
  }
  const flip = (offset: number): Buffer => { const copy = Buffer.from(good); copy[offset] = (copy[offset] as number) ^ 1; return copy }
  const data = at('objects/3.data') + 512
  const record = at('objects/1.json') + 512
  const manifestAt = at('manifest.json')
  const cases: Array<[string, Buffer, RegExp]> = [
    ['a byte of an object changed', flip(data + 10), /objects\/3\.data's bytes are not those of ETag/],
    ['a byte of a record changed', flip(record + 2), /objects\/1\.json names a bucket the manifest does not list/],
    ['a header changed', flip(manifestAt + 3), /a header's checksum is wrong/],
    ['cut short', good.subarray(0, data + 5000), /ends in the middle of an entry/],
    ['without checksums.json', good.subarray(0, at('checksums.json')), /no checksums\.json: it was cut short/],
    ['not an archive', Buffer.from('just some text, not a tar at all'.repeat(40)), /header's checksum is wrong|ends in the middle/],
    ['empty', Buffer.alloc(0), /it is empty/],
    ['entries out of order', Buffer.concat([fileHeader('objects/1.json', 2), Buffer.from('{}'), filePadding(2), endOfArchive()]), /does not begin with manifest\.json/]
  ]
  for (const [what, archive, message] of cases) {
    const target = await store(t)
    await t.rejects(target.importFrom(opener(archive)), { code: 'InvalidArchive', message }, what)
    t.same(await target.listBuckets(), [], `${what}: nothing written`)
  }

  // An archive that passes its check and then changes under the import: no object is written from changed bytes.
  let reads = 0
  const target = await store(t)
  const changing = (): AsyncIterable<Uint8Array> => opener(reads++ === 0 ? good : flip(data + 10))()
  await t.rejects(target.importFrom(changing), { code: 'BadDigest' })
  await t.rejects(target.headObject('photos', 'odd/ key "quoted" & <xml> 🙂'), { code: 'NoSuchKey' }, 'the changed object is not there')
})

t.test('encrypted objects are exported only with decrypt, and encrypted again on import by the bucket\'s settings', async t => {
  const source = await store(t)
  await source.createBucket('vault')
  await source.putBucketEncryption('vault', { algorithm: 'AES256' })
  await source.putObject('vault', 'sealed', 'secret bytes')
  await source.putObject('vault', 'customer', 'theirs', { customerKey: { key: bytes(32, 1) } })
  const plain = await store(t)
  const out = new PassThrough()
  const collected = readAll(out)
  const result = await source.exportTo(out)
  out.end()
  t.same(result.skipped.map(s => [s.key, s.reason]).sort(), [['customer', 'sse-c'], ['sealed', 'encrypted']])
  await plain.importFrom(opener(await collected))
  t.same((await plain.listObjectsV2('vault')).keyCount, 0)

  const target = await store(t)
  await target.importFrom(opener(await archiveOf(source, { decrypt: true })))
  const copy = await target.getObject('vault', 'sealed')
  t.equal((await readAll(copy.body)).toString(), 'secret bytes')
  t.equal(copy.info.serverSideEncryption, 'AES256')
})

t.test('kill -9 during an import: the store opens, holds only whole objects, and the import run again finishes', async t => {
  const source = await store(t)
  await source.createBucket('many')
  for (let i = 0; i < 60; i++) await source.putObject('many', `k${String(i).padStart(2, '0')}`, bytes(200_000 + i, i))
  const dir = await tempDir(t)
  const file = join(dir, 'many.tar')
  await writeFile(file, await archiveOf(source))
  const child = await transpileChild(join(dir, 'child'), ['import-child.ts'])
  const location = join(dir, 'store')
  const proc = spawn(process.execPath, [child, location, file], { stdio: ['ignore', 'pipe', 'inherit'] })
  let seen = 0
  await new Promise<void>(resolve => {
    proc.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString().split('\n').filter(line => line === 'object').length
      if (seen >= 10) proc.kill('SIGKILL')
    })
    proc.once('exit', () => { resolve() })
  })
  t.ok(seen >= 10 && seen < 60, `killed after ${seen} objects`)
  const target = await store(t, location)
  let whole = 0
  for await (const o of target.listAll('many')) {
    const { info, body } = await target.getObject('many', o.key)
    const expected = await source.getObject('many', o.key)
    t.equal(createHash('md5').update(await readAll(body)).digest('hex'), createHash('md5').update(await readAll(expected.body)).digest('hex'), o.key)
    t.equal(info.etag, expected.info.etag)
    whole++
  }
  t.ok(whole >= seen, `${whole} whole objects, no partial one`)
  const again = await target.importFrom(async () => (await import('node:fs')).createReadStream(file))
  t.same([again.unchanged, again.objects], [whole, 60 - whole])
  t.equal((await target.listObjectsV2('many')).keyCount, 60)
})

t.test('spacebox export and import', async t => {
  const data = await tempDir(t)
  const box = await Spacebox.open({ location: join(data, 'store') })
  await fill(box)
  const expected = await picture(box, true)
  await box.close()
  const file = join(await tempDir(t), 'out.tar')
  const exported = cli(['export', '--data', data, file, '--versions'])
  t.equal(await exported.code, 0, exported.err())
  t.match(exported.out(), /^exported 2 buckets, 10 objects \(7\.1 MiB\) to .*out\.tar, skipped 0 in [\d.]+ s\n$/)
  const again = cli(['export', '--data', data, file])
  t.equal(await again.code, 1, 'an archive is never overwritten')
  t.match(again.err(), /out\.tar exists: remove it, or name another file/)

  const into = await tempDir(t)
  const imported = cli(['import', file, '--data', into, '--json'])
  t.equal(await imported.code, 0, imported.err())
  const events = imported.out().trim().split('\n').map(line => JSON.parse(line) as { type: string })
  t.match(events.at(-1), { type: 'summary', buckets: 2, objects: 10, unchanged: 0 })
  const restored = await Spacebox.open({ location: join(into, 'store') })
  t.same(await picture(restored, true), expected)
  await restored.close()

  const damaged = Buffer.from(await readFile(file))
  damaged[damaged.length - 2000] = 0x41
  await writeFile(file, damaged)
  const refused = cli(['import', file, '--data', await tempDir(t)])
  t.equal(await refused.code, 1)
  t.match(refused.err(), /The archive is not valid: .*; nothing was imported\n$/)
})

t.test('access keys travel only when asked, sealed: a store under the same master key takes them, another is refused before anything is written', async t => {
  const masterKey = bytes(32, 77)
  const source = await Spacebox.open({ location: await tempDir(t), masterKey })
  t.teardown(async () => { await source.close() })
  await source.createBucket('shared')
  await source.putObject('shared', 'a', 'a')
  const reader = await source.keys.create({ name: 'reader', grants: [{ bucket: 'shared', permission: 'read', prefix: 'a' }], rateLimit: 5 })
  const off = await source.keys.create({ name: 'off', grants: [{ bucket: 'shared', permission: 'readwrite' }] })
  await source.keys.disable(off.accessKeyId)
  const gone = await source.keys.create({ name: 'gone', grants: [{ bucket: '', permission: 'fullaccess' }] })
  await source.keys.delete(gone.accessKeyId)

  t.notMatch((await archiveOf(source)).toString('latin1'), /keys\.json/, 'not without includeKeys')
  const out = new PassThrough()
  const collected = readAll(out)
  t.equal((await source.exportTo(out, { includeKeys: true })).keys, 3)
  out.end()
  const archive = await collected
  for (const key of [reader, off, gone]) t.notOk(archive.includes(key.secretAccessKey), `${key.name}'s secret is nowhere in plain text`)

  const other = await Spacebox.open({ location: await tempDir(t), masterKey: bytes(32, 78) })
  t.teardown(async () => { await other.close() })
  await t.rejects(other.importFrom(opener(archive)), { code: 'InvalidMasterKey' })
  t.same([await other.listBuckets(), other.keys.list()], [[], []], 'another master key: nothing written')

  const target = await Spacebox.open({ location: await tempDir(t), masterKey })
  t.teardown(async () => { await target.close() })
  t.match(await target.importFrom(opener(archive)), { keys: 3, objects: 1 })
  t.same(target.keys.list().map(k => [k.name, k.grants, k.disabled, k.rateLimit]), source.keys.list().map(k => [k.name, k.grants, k.disabled, k.rateLimit]))
  const body = (await target.withCredentials(reader).getObject('shared', 'a')).body
  t.equal((await readAll(body)).toString(), 'a', 'the reader\'s secret signs in the new store')
  await t.rejects(target.withCredentials(reader).putObject('shared', 'b', 'b'), { code: 'AccessDenied' }, 'and its grants hold there')
  t.throws(() => target.withCredentials(off), { code: 'InvalidAccessKeyId' }, 'a disabled key stays disabled')
  t.throws(() => target.keys.get(gone.accessKeyId), { code: 'NoSuchAccessKey' }, 'a deleted key stays deleted')
  t.match(await target.importFrom(opener(archive)), { keys: 0, objects: 0, unchanged: 1 }, 'again: nothing new')

  const regenerated = await target.keys.regenerate(reader.accessKeyId)
  await t.rejects(target.importFrom(opener(archive)), { code: 'InvalidArchive', message: /keys\.json: .*has key .* already, otherwise/ }, 'a key changed since is not overwritten')
  t.ok(await target.withCredentials(regenerated).headObject('shared', 'a'))
})

t.test('spacebox export --include-keys: the keys come in where the master key file came first', async t => {
  const data = await tempDir(t)
  const box = await Spacebox.open({ location: join(data, 'store') })
  await box.createBucket('one')
  const key = await box.keys.create({ name: 'app', grants: [{ bucket: 'one', permission: 'readwrite' }] })
  await box.close()
  const file = join(await tempDir(t), 'keys.tar')
  const exported = cli(['export', '--data', data, file, '--include-keys'])
  t.equal(await exported.code, 0, exported.err())
  t.match(exported.out(), /^exported 1 bucket, 1 access key, 0 objects \(0 B\) to /)

  const elsewhere = await tempDir(t)
  const refused = cli(['import', file, '--data', elsewhere])
  t.equal(await refused.code, 1)
  t.match(refused.err(), /The master key does not open these keys/)

  const moved = await tempDir(t)
  await writeFile(join(moved, 'store.key'), await readFile(join(data, 'store.key')), { mode: 0o600 })
  const imported = cli(['import', file, '--data', moved])
  t.equal(await imported.code, 0, imported.err())
  t.match(imported.out(), /^imported 1 bucket, 1 access key, 0 objects/)
  const restored = await Spacebox.open({ location: join(moved, 'store') })
  t.teardown(async () => { await restored.close() })
  t.ok(restored.withCredentials(key), 'the key\'s secret signs in the new store')
})

t.test('importSealed refuses what is not a sealed key, and a dry run writes nothing', async t => {
  const masterKey = bytes(32, 5)
  const source = await Spacebox.open({ memory: true, masterKey })
  t.teardown(async () => { await source.close() })
  const key = await source.keys.create({ name: 'k', grants: [{ bucket: '', permission: 'fullaccess' }], expiresAt: new Date(Date.now() + 86_400_000) })
  const sealed = await source.keys.exportSealed()
  const target = await Spacebox.open({ memory: true, masterKey })
  t.teardown(async () => { await target.close() })
  const record = sealed.keys[0] as Record<string, unknown>
  const variants: Array<[string, unknown]> = [
    ['not an object', null],
    ['no keys', { keyring: sealed.keyring }],
    ['an id of another shape', { ...sealed, keys: [{ ...record, id: 'AKIA' }] }],
    ['an id twice', { ...sealed, keys: [record, record] }],
    ['a generation of 0', { ...sealed, keys: [{ ...record, generation: 0 }] }],
    ['a grant widened to nonsense', { ...sealed, keys: [{ ...record, grants: [{ bucket: 'x', permission: 'root' }] }] }],
    ['an expiry that is no time', { ...sealed, keys: [{ ...record, expiresAt: 'soon' }] }],
    ['a rate limit of 0', { ...sealed, keys: [{ ...record, rateLimit: 0 }] }],
    ['a secret moved to another id', { ...sealed, keys: [{ ...record, id: 'SB' + 'A'.repeat(18) }] }],
    ['a secret of another generation', { ...sealed, keys: [{ ...record, generation: 2 }] }]
  ]
  for (const [what, bundle] of variants) {
    await t.rejects(target.keys.importSealed(bundle as never), { code: 'InvalidArgument' }, what)
  }
  t.same(await target.keys.importSealed(sealed, { dryRun: true }), { imported: 1, unchanged: 0 })
  t.same(target.keys.list(), [], 'a dry run writes nothing')
  t.same(await target.keys.importSealed(sealed), { imported: 1, unchanged: 0 })
  t.same(target.keys.get(key.accessKeyId).expiresAt, key.expiresAt)
})
