// Bucket versioning, case by case: what test/versioning-model.test.ts does not reach cleanly (version
// id format, argument checks, result fields, conditions, encryption, cost, persistence and formats,
// scoped views). The model test covers the semantics of writes, deletes and listings at length.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { LocalKeyProvider, Spacebox, type KeyProvider, type ObjectVersion } from '../lib/index.js'
import { FORMAT_VERSION, openSublevels } from '../lib/schema/keys.js'
import { bytes, md5hex, readAll, tempDir } from './helpers.js'

const VERSION_ID = /^[0-9a-f]{24}[A-Za-z0-9._]{8}$/

async function open (t: Tap, options: Parameters<typeof Spacebox.open>[0] = { memory: true }): Promise<Spacebox> {
  const box = await Spacebox.open(options)
  t.teardown(async () => { await box.close() })
  return box
}
type Tap = Parameters<typeof tempDir>[0]

async function text (box: Pick<Spacebox, 'getObject'>, bucket: string, key: string, options: Parameters<Spacebox['getObject']>[2] = {}): Promise<string> {
  return (await readAll((await box.getObject(bucket, key, options)).body)).toString()
}

/** A listing reduced to what identifies its entries. */
function entries (versions: ObjectVersion[]): string[] {
  return versions.map(v => `${v.key}@${v.versionId}${v.isLatest ? ' latest' : ''}${v.deleteMarker ? ' marker' : ''}`)
}

async function allVersions (box: Pick<Spacebox, 'listAllVersions'>, bucket: string, options: { prefix?: string } = {}): Promise<ObjectVersion[]> {
  const out: ObjectVersion[] = []
  for await (const v of box.listAllVersions(bucket, options)) out.push(v)
  return out
}

t.test('version ids are 32 characters, unique, and sort newest first within a key', async t => {
  const box = await open(t)
  await box.createBucket('ids')
  await box.putBucketVersioning('ids', 'Enabled')
  const ids: string[] = []
  // Many within the same millisecond: the order must still follow the writes.
  for (let i = 0; i < 60; i++) ids.push((await box.putObject('ids', 'k', String(i))).versionId as string)
  const other = (await box.putObject('ids', 'other', 'x')).versionId as string
  const marker = (await box.deleteObject('ids', 'k')).versionId as string
  for (const id of [...ids, other, marker]) t.match(id, VERSION_ID)
  t.equal(new Set([...ids, other, marker]).size, 62, 'no id repeats, across keys too')
  const newestFirst = [marker, ...ids.slice().reverse()]
  t.same([...newestFirst].sort(), newestFirst, 'sorting a key\'s ids puts the newest first')
  t.same(entries((await box.listObjectVersions('ids', { prefix: 'k' })).versions).slice(0, 3), [`k@${marker} latest marker`, `k@${ids[59] as string}`, `k@${ids[58] as string}`])
  t.equal(await text(box, 'ids', 'k', { versionId: ids[17] as string }), '17')
})

t.test('malformed or empty version ids are InvalidArgument wherever an id is taken; other types are TypeErrors', async t => {
  const box = await open(t, { memory: true, minPartSize: 0 })
  await box.createBucket('bad')
  await box.putBucketVersioning('bad', 'Enabled')
  await box.putObject('bad', 'k', 'v')
  const { uploadId } = await box.createMultipartUpload('bad', 'mp')
  const malformed = ['', 'v1', 'NULL', 'Null', 'Z'.repeat(32), 'f'.repeat(24) + '-bad-id-', 'f'.repeat(31), 'f'.repeat(33), ' null']
  for (const versionId of malformed) {
    const label = JSON.stringify(versionId)
    const argument = { code: 'InvalidArgument', detail: { argumentName: 'versionId', argumentValue: versionId } }
    await t.rejects(box.getObject('bad', 'k', { versionId }), argument, `getObject ${label}`)
    await t.rejects(box.headObject('bad', 'k', { versionId }), argument, `headObject ${label}`)
    await t.rejects(box.deleteObject('bad', 'k', { versionId }), argument, `deleteObject ${label}`)
    await t.rejects(box.copyObject('bad', 'k', 'bad', 'copy', { sourceVersionId: versionId }), { code: 'InvalidArgument', detail: { argumentName: 'versionId' } }, `copyObject ${label}`)
    await t.rejects(box.uploadPartCopy('bad', 'mp', uploadId, 1, 'bad', 'k', { sourceVersionId: versionId }), { code: 'InvalidArgument' }, `uploadPartCopy ${label}`)
    await t.rejects(box.listObjectVersions('bad', { keyMarker: 'k', versionIdMarker: versionId === '' ? ' ' : versionId }), { code: 'InvalidArgument' }, `listObjectVersions ${label}`)
    const { errors, deleted } = await box.deleteObjects('bad', [{ key: 'k', versionId }])
    t.same({ errors: errors.map(e => [e.key, e.versionId, e.code]), deleted }, { errors: [['k', versionId, 'InvalidArgument']], deleted: [] }, `deleteObjects ${label}`)
  }
  await t.rejects(box.getObject('bad', 'k', { versionId: 7 as unknown as string }), TypeError)
  await t.rejects(box.deleteObject('bad', 'k', { versionId: null as unknown as string }), TypeError)
  t.equal(await text(box, 'bad', 'k'), 'v', 'nothing was deleted')
  t.equal((await box.listObjectVersions('bad')).versions.length, 1)
})

t.test('listObjectVersions: a version-id marker needs a key marker; a page resumes after the version its markers name', async t => {
  const box = await open(t)
  await box.createBucket('markers')
  await box.putBucketVersioning('markers', 'Enabled')
  const a1 = (await box.putObject('markers', 'a', '1')).versionId as string
  const a2 = (await box.putObject('markers', 'a', '2')).versionId as string
  await box.putObject('markers', 'b', '1')
  await t.rejects(box.listObjectVersions('markers', { versionIdMarker: a1 }), { code: 'InvalidArgument', detail: { argumentName: 'version-id-marker' } })
  t.same(entries((await box.listObjectVersions('markers', { keyMarker: 'a', versionIdMarker: a2 })).versions), [`a@${a1}`, `b@${(await box.headObject('markers', 'b')).versionId as string} latest`])
  t.same(entries((await box.listObjectVersions('markers', { keyMarker: 'a' })).versions).map(e => e.slice(0, 1)), ['b'], 'a key marker alone resumes after all of its versions')
  const page = await box.listObjectVersions('markers', { maxKeys: 0 })
  t.same({ versions: page.versions, isTruncated: page.isTruncated }, { versions: [], isTruncated: false }, 'maxKeys 0: an empty page')
  const first = await box.listObjectVersions('markers', { maxKeys: 1 })
  t.same([first.isTruncated, first.nextKeyMarker, first.nextVersionIdMarker], [true, 'a', a2], 'a truncated page names its last version')
})

t.test('result fields: no version id in a bucket never versioned, real ids once Enabled, `null` while Suspended', async t => {
  const box = await open(t, { memory: true, minPartSize: 0 })
  await box.createBucket('fields')
  t.same(await box.getBucketVersioning('fields'), {}, 'never versioned: no status')
  const put = await box.putObject('fields', 'k', 'plain')
  t.equal(put.versionId, undefined, 'putObject')
  t.notOk('versionId' in put, 'not even as an undefined property')
  t.notOk('versionId' in await box.headObject('fields', 'k'), 'headObject')
  t.notOk('versionId' in (await box.getObject('fields', 'k')).info, 'getObject')
  const copy = await box.copyObject('fields', 'k', 'fields', 'copy')
  t.notOk('versionId' in copy || 'copySourceVersionId' in copy, 'copyObject')
  const { uploadId } = await box.createMultipartUpload('fields', 'mp')
  const part = await box.uploadPart('fields', 'mp', uploadId, 1, 'part')
  t.notOk('versionId' in await box.completeMultipartUpload('fields', 'mp', uploadId, [{ partNumber: 1, etag: part.etag }]), 'completeMultipartUpload')
  t.same(await box.deleteObject('fields', 'copy'), {}, 'deleteObject')
  t.same((await box.deleteObjects('fields', ['mp'])).deleted, [{ key: 'mp' }], 'deleteObjects')
  t.same(entries((await box.listObjectVersions('fields')).versions), ['k@null latest'], 'listed once, as the null version')
  t.equal(await text(box, 'fields', 'k', { versionId: 'null' }), 'plain', 'versionId null addresses it')

  await box.putBucketVersioning('fields', 'Enabled')
  t.same(await box.getBucketVersioning('fields'), { status: 'Enabled' })
  t.equal((await box.headObject('fields', 'k')).versionId, 'null', 'once versioned, the old object reports the null version')
  const v1 = await box.putObject('fields', 'k', 'one')
  t.match(v1.versionId, VERSION_ID)
  const copied = await box.copyObject('fields', 'k', 'fields', 'k2', { sourceVersionId: 'null' })
  t.match(copied, { copySourceVersionId: 'null', versionId: VERSION_ID })
  const marker = await box.deleteObject('fields', 'k2')
  t.match(marker, { versionId: VERSION_ID, deleteMarker: true })
  t.same(await box.deleteObject('fields', 'k2', { versionId: marker.versionId as string }), { versionId: marker.versionId, deleteMarker: true }, 'removing a marker says so')

  await box.putBucketVersioning('fields', 'Suspended')
  t.same(await box.getBucketVersioning('fields'), { status: 'Suspended' })
  t.equal((await box.putObject('fields', 'k', 'two')).versionId, 'null', 'putObject while Suspended')
  t.equal((await box.headObject('fields', 'k')).versionId, 'null')
  t.equal((await box.headObject('fields', 'k', { versionId: v1.versionId as string })).versionId, v1.versionId, 'an Enabled-era version keeps its id')
  t.same(await box.deleteObject('fields', 'k'), { versionId: 'null', deleteMarker: true }, 'deleteObject while Suspended: a null marker')
  const batch = await box.deleteObjects('fields', ['k2', { key: 'k', versionId: 'null' }])
  t.same(batch.deleted, [{ key: 'k2', deleteMarker: true, deleteMarkerVersionId: 'null' }, { key: 'k', versionId: 'null', deleteMarker: true, deleteMarkerVersionId: 'null' }])
  t.same(entries(await allVersions(box, 'fields')), [`k@${v1.versionId as string} latest`, 'k2@null latest marker', `k2@${copied.versionId as string}`],
    'the null version from before versioning was replaced by the Suspended put, that one by a null marker, and the marker removed by id')
  await t.rejects(box.putBucketVersioning('fields', 'Disabled' as 'Enabled'), { code: 'InvalidArgument' }, 'there is no way back to unversioned')

  // Across buckets: the version written follows the destination's state, the source's id the source's.
  await box.createBucket('plain')
  const out = await box.copyObject('fields', 'k', 'plain', 'k', { sourceVersionId: v1.versionId as string })
  t.same([out.versionId, out.copySourceVersionId], [undefined, v1.versionId], 'from a versioned bucket into one never versioned')
  await box.putBucketVersioning('fields', 'Enabled')
  const back = await box.copyObject('plain', 'k', 'fields', 'from-plain')
  t.ok(back.versionId !== undefined && VERSION_ID.test(back.versionId) && back.copySourceVersionId === undefined, 'from a bucket never versioned into an Enabled one')
})

t.test('reads of a delete marker: NoSuchKey as the current version, MethodNotAllowed by id, both with the marker\'s details', async t => {
  let now = Date.UTC(2026, 0, 1)
  const box = await open(t, { memory: true, clock: () => now })
  await box.createBucket('dmark')
  await box.putBucketVersioning('dmark', 'Enabled')
  const v = (await box.putObject('dmark', 'k', 'data')).versionId as string
  now += 5000
  const marker = (await box.deleteObject('dmark', 'k')).versionId as string
  const detail = { deleteMarker: 'true', versionId: marker, lastModified: now }
  await t.rejects(box.getObject('dmark', 'k'), { code: 'NoSuchKey', detail })
  await t.rejects(box.headObject('dmark', 'k'), { code: 'NoSuchKey', detail })
  await t.rejects(box.getObject('dmark', 'k', { versionId: marker }), { code: 'MethodNotAllowed', detail })
  await t.rejects(box.headObject('dmark', 'k', { versionId: marker }), { code: 'MethodNotAllowed', detail })
  await t.rejects(box.copyObject('dmark', 'k', 'dmark', 'x'), { code: 'NoSuchKey' }, 'a copy of a key whose current version is a marker')
  await t.rejects(box.copyObject('dmark', 'k', 'dmark', 'x', { sourceVersionId: marker }), { code: 'InvalidRequest' }, 'a copy naming a marker')
  await t.rejects(box.getObject('dmark', 'k', { versionId: 'null' }), { code: 'NoSuchVersion' }, 'no null version here')
  await t.rejects(box.getObject('dmark', 'k', { versionId: 'f'.repeat(24) + 'abcdefgh' }), { code: 'NoSuchVersion', detail: { versionId: 'f'.repeat(24) + 'abcdefgh' } })
  await t.rejects(box.getObject('dmark', 'k', { versionId: v.slice(0, 24) + (v.endsWith('A') ? 'B' : 'A').repeat(8) }), { code: 'NoSuchVersion' }, 'a real version\'s sort key with another random part')
  await t.rejects(box.getObject('dmark', 'missing', { versionId: v }), { code: 'NoSuchVersion' }, 'another key\'s version')
  t.same(await box.deleteObject('dmark', 'k', { versionId: 'f'.repeat(24) + 'abcdefgh' }), { versionId: 'f'.repeat(24) + 'abcdefgh' }, 'deleting an unknown version succeeds')
  t.equal(await text(box, 'dmark', 'k', { versionId: v }), 'data', 'the version under the marker reads by id')
  t.same((await box.listObjectsV2('dmark')).contents, [], 'ListObjectsV2 hides the key')
  await box.deleteObject('dmark', 'k', { versionId: marker })
  t.equal(await text(box, 'dmark', 'k'), 'data', 'removing the marker restores the key')
  // Write conditions see a current marker as no object.
  await box.deleteObject('dmark', 'k')
  await t.rejects(box.putObject('dmark', 'k', 'x', { ifMatch: '*' }), { code: 'NoSuchKey' })
  await box.putObject('dmark', 'k', 'created', { ifNoneMatch: '*' })
  t.equal(await text(box, 'dmark', 'k'), 'created')
})

t.test('read conditions apply to the version addressed, not the current one', async t => {
  let now = Date.UTC(2026, 0, 1)
  const box = await open(t, { memory: true, minPartSize: 0, clock: () => now })
  await box.createBucket('cond')
  await box.putBucketVersioning('cond', 'Enabled')
  const old = await box.putObject('cond', 'k', 'old')
  now += 60_000
  const cur = await box.putObject('cond', 'k', 'current')
  const versionId = old.versionId as string
  const between = new Date(Date.UTC(2026, 0, 1) + 30_000)
  t.equal(await text(box, 'cond', 'k', { versionId, ifMatch: old.etag }), 'old', 'If-Match with the old version\'s ETag')
  await t.rejects(box.getObject('cond', 'k', { versionId, ifMatch: cur.etag }), { code: 'PreconditionFailed' }, 'not the current ETag')
  await t.rejects(box.headObject('cond', 'k', { versionId, ifNoneMatch: old.etag }), { code: 'NotModified' })
  t.equal((await box.headObject('cond', 'k', { versionId, ifNoneMatch: cur.etag })).etag, old.etag)
  await t.rejects(box.getObject('cond', 'k', { versionId, ifModifiedSince: between }), { code: 'NotModified' }, 'the old version\'s date')
  t.equal(await text(box, 'cond', 'k', { ifModifiedSince: between }), 'current', 'the current one is newer')
  t.equal(await text(box, 'cond', 'k', { versionId, ifUnmodifiedSince: between }), 'old')
  await t.rejects(box.copyObject('cond', 'k', 'cond', 'copy', { sourceVersionId: versionId, sourceIfMatch: cur.etag }), { code: 'PreconditionFailed' })
  const copy = await box.copyObject('cond', 'k', 'cond', 'copy', { sourceVersionId: versionId, sourceIfMatch: old.etag })
  t.equal(copy.copySourceVersionId, versionId)
  const { uploadId } = await box.createMultipartUpload('cond', 'mp')
  await t.rejects(box.uploadPartCopy('cond', 'mp', uploadId, 1, 'cond', 'k', { sourceVersionId: versionId, sourceIfNoneMatch: old.etag }), { code: 'PreconditionFailed' })
  const part = await box.uploadPartCopy('cond', 'mp', uploadId, 1, 'cond', 'k', { sourceVersionId: versionId, sourceIfMatch: old.etag })
  t.equal(part.copySourceVersionId, versionId)
  await box.completeMultipartUpload('cond', 'mp', uploadId, [{ partNumber: 1, etag: part.etag }])
  t.equal(await text(box, 'cond', 'mp'), 'old', 'a part copied from the old version')
  // A write's If-Match is checked against the current version.
  await t.rejects(box.putObject('cond', 'k', 'x', { ifMatch: old.etag }), { code: 'PreconditionFailed' })
  await box.putObject('cond', 'k', 'newest', { ifMatch: cur.etag })
  t.equal((await box.listObjectVersions('cond', { prefix: 'k' })).versions.length, 3)
})

t.test('encryption is per version: SSE-S3 under rotating bucket keys, and SSE-C versions each under their own key', async t => {
  const box = await open(t, { memory: true, chunkSize: 256 })
  await box.createBucket('enc')
  await box.putBucketVersioning('enc', 'Enabled')
  await box.putBucketEncryption('enc', { algorithm: 'AES256', bucketKeyEnabled: true })
  const first = await box.putObject('enc', 's3', bytes(1000, 1))
  await box.rotateBucketKey('enc')
  const second = await box.putObject('enc', 's3', bytes(1000, 2))
  for (const [version, seed] of [[first, 1], [second, 2]] as const) {
    const { info, body } = await box.getObject('enc', 's3', { versionId: version.versionId as string })
    t.ok((await readAll(body)).equals(bytes(1000, seed)), `SSE-S3 version ${seed} reads back under its bucket key`)
    t.match(info, { serverSideEncryption: 'AES256', bucketKeyEnabled: true, etag: `"${md5hex(bytes(1000, seed))}"` })
  }

  const key1 = { key: randomBytes(32) }
  const key2 = { key: randomBytes(32) }
  const c1 = await box.putObject('enc', 'ssec', bytes(700, 3), { customerKey: key1 })
  const c2 = await box.putObject('enc', 'ssec', bytes(700, 4), { customerKey: key2 })
  const v1 = c1.versionId as string
  t.ok((await readAll((await box.getObject('enc', 'ssec', { versionId: v1, customerKey: key1 })).body)).equals(bytes(700, 3)), 'the old version, with its own key')
  t.ok((await readAll((await box.getObject('enc', 'ssec', { customerKey: key2 })).body)).equals(bytes(700, 4)), 'the current one, with its own')
  await t.rejects(box.getObject('enc', 'ssec', { versionId: v1, customerKey: key2 }), { code: 'AccessDenied' }, 'not with the current version\'s key')
  await t.rejects(box.headObject('enc', 'ssec', { versionId: v1 }), { code: 'InvalidRequest' }, 'nor without a key')
  await t.rejects(box.getObject('enc', 'ssec', { customerKey: key1 }), { code: 'AccessDenied' })
  // Restoring the old version by copying it onto its key, sealed again under its key.
  const restored = await box.copyObject('enc', 'ssec', 'enc', 'ssec', { sourceVersionId: v1, sourceCustomerKey: key1, customerKey: key1 })
  t.equal(restored.copySourceVersionId, v1)
  t.ok((await readAll((await box.getObject('enc', 'ssec', { customerKey: key1 })).body)).equals(bytes(700, 3)), 'the restored version is current')
  t.ok((await readAll((await box.getObject('enc', 'ssec', { versionId: c2.versionId as string, customerKey: key2 })).body)).equals(bytes(700, 4)), 'and the one it covers still reads')
  // Suspended: the null version an encrypted one replaces is gone, with its chunks.
  await box.putBucketVersioning('enc', 'Suspended')
  await box.putObject('enc', 'ssec', bytes(700, 5), { customerKey: key2 })
  await box.putObject('enc', 'ssec', bytes(700, 6), { customerKey: key1 })
  t.ok((await readAll((await box.getObject('enc', 'ssec', { versionId: 'null', customerKey: key1 })).body)).equals(bytes(700, 6)))
  t.equal((await box.listObjectVersions('enc', { prefix: 'ssec' })).versions.length, 4, 'three versions and one null version')
})

t.test('a multipart upload completed into a versioned bucket is a new version; into a Suspended one, the null version', async t => {
  const box = await open(t, { memory: true, chunkSize: 64, minPartSize: 0 })
  await box.createBucket('mpu')
  await box.putObject('mpu', 'k', 'before versioning')
  await box.putBucketVersioning('mpu', 'Enabled')
  const complete = async (body: string): Promise<string | undefined> => {
    const { uploadId } = await box.createMultipartUpload('mpu', 'k', { metadata: { body } })
    const one = await box.uploadPart('mpu', 'k', uploadId, 1, body.slice(0, 3))
    const two = await box.uploadPart('mpu', 'k', uploadId, 2, body.slice(3))
    return (await box.completeMultipartUpload('mpu', 'k', uploadId, [{ partNumber: 1, etag: one.etag }, { partNumber: 2, etag: two.etag }])).versionId
  }
  const started = await box.createMultipartUpload('mpu', 'k')
  await box.putObject('mpu', 'k', 'while the upload ran')
  const part = await box.uploadPart('mpu', 'k', started.uploadId, 1, 'late')
  const late = (await box.completeMultipartUpload('mpu', 'k', started.uploadId, [{ partNumber: 1, etag: part.etag }])).versionId as string
  const v = await complete('multipart body')
  t.match(v, VERSION_ID)
  t.equal(await text(box, 'mpu', 'k'), 'multipart body')
  t.equal(await text(box, 'mpu', 'k', { versionId: late }), 'late', 'an upload started before another write completes as the newer version')
  t.same((await allVersions(box, 'mpu')).map(x => [x.versionId === 'null' ? 'null' : x.versionId === v ? 'v' : x.versionId === late ? 'late' : 'put', x.isLatest]),
    [['v', true], ['late', false], ['put', false], ['null', false]])
  await box.putBucketVersioning('mpu', 'Suspended')
  t.equal(await complete('suspended one'), 'null')
  t.equal(await complete('suspended two'), 'null')
  t.equal(await text(box, 'mpu', 'k', { versionId: 'null' }), 'suspended two', 'the null version, replaced twice')
  t.equal((await allVersions(box, 'mpu')).length, 4, 'the first null version went when the Suspended complete replaced it')
})

t.test('deleteBucket is refused while any version or delete marker remains', async t => {
  const box = await open(t)
  await box.createBucket('full')
  await box.putBucketVersioning('full', 'Enabled')
  const v1 = (await box.putObject('full', 'k', '1')).versionId as string
  const v2 = (await box.putObject('full', 'k', '2')).versionId as string
  const marker = (await box.deleteObject('full', 'k')).versionId as string
  t.same((await box.listObjectsV2('full')).contents, [], 'no object is listed')
  await t.rejects(box.deleteBucket('full'), { code: 'BucketNotEmpty', message: /You must delete all versions in the bucket\.$/ }, 'a marker over two versions')
  await box.deleteObject('full', 'k', { versionId: v2 })
  await box.deleteObject('full', 'k', { versionId: v1 })
  await t.rejects(box.deleteBucket('full'), { code: 'BucketNotEmpty' }, 'a lone delete marker')
  await box.deleteObject('full', 'k', { versionId: marker })
  await box.deleteObject('full', 'gone')
  await t.rejects(box.deleteBucket('full'), { code: 'BucketNotEmpty' }, 'a marker left by deleting a key that never existed')
  await box.deleteObject('full', 'gone', { versionId: (await box.listObjectVersions('full')).versions[0]?.versionId as string })
  await box.deleteBucket('full')
  t.same(await box.listBuckets(), [])
})

t.test('listing costs: versions rolled up under a delimiter cost a seek, and noncurrent versions cost ListObjectsV2 nothing', async t => {
  const box = await open(t)
  for (const [bucket, count] of [['few', 1], ['many', 300]] as const) {
    await box.createBucket(bucket)
    await box.putBucketVersioning(bucket, 'Enabled')
    for (let i = 0; i < count; i++) {
      await box.putObject(bucket, 'dir/k', String(i))
      await box.putObject(bucket, 'top', String(i))
    }
    await box.putObject(bucket, 'dir/j', 'j')
    await box.putObject(bucket, 'z', 'z')
  }
  const cost = async (list: () => Promise<unknown>): Promise<{ read: number, seeks: number }> => {
    const before = box.stats()
    await list()
    const after = box.stats()
    return { read: after.listRecordsRead - before.listRecordsRead, seeks: after.listSeeks - before.listSeeks }
  }
  const rolled = await box.listObjectVersions('many', { delimiter: '/' })
  t.same(rolled.commonPrefixes, ['dir/'])
  t.same(rolled.versions.map(v => v.key), ['top', ...Array<string>(299).fill('top'), 'z'], 'every version of a key outside the roll-up is listed')
  const fewRollUp = await cost(async () => await box.listObjectVersions('few', { delimiter: '/', prefix: 'd' }))
  const manyRollUp = await cost(async () => await box.listObjectVersions('many', { delimiter: '/', prefix: 'd' }))
  t.same(manyRollUp, fewRollUp, '301 versions under dir/ cost what 2 cost')
  t.same(manyRollUp, { read: 1, seeks: 1 }, 'one record read, one seek')
  const fewV2 = await cost(async () => await box.listObjectsV2('few'))
  const manyV2 = await cost(async () => await box.listObjectsV2('many'))
  t.same(manyV2, fewV2, 'ListObjectsV2 reads current versions only')
  t.same(manyV2, { read: 4, seeks: 0 })
  t.same((await box.listObjectsV2('many')).contents.map(c => c.key), ['dir/j', 'dir/k', 'top', 'z'])
})

t.test('rotateMasterKey re-wraps the own keys of noncurrent versions too', async t => {
  const location = await tempDir(t)
  const old = randomBytes(32)
  const fresh = randomBytes(32)
  let box = await Spacebox.open({ location, keyProvider: new LocalKeyProvider({ old }), chunkSize: 256 })
  await box.createBucket('rot')
  await box.putObject('rot', 'k', bytes(600, 1), { serverSideEncryption: 'aws:kms' })
  await box.putBucketVersioning('rot', 'Enabled')
  const v2 = (await box.putObject('rot', 'k', bytes(600, 2), { serverSideEncryption: 'aws:kms' })).versionId as string
  await box.putObject('rot', 'k', bytes(600, 3), { serverSideEncryption: 'AES256' })
  await box.deleteObject('rot', 'k')
  await box.close()

  box = await Spacebox.open({ location, keyProvider: new LocalKeyProvider({ old, fresh }) })
  t.match(await box.rotateMasterKey(), { masterKeyId: 'fresh', objectKeys: 3 }, 'three versions with their own keys, none of them current')
  await box.close()

  box = await Spacebox.open({ location, keyProvider: new LocalKeyProvider({ fresh }) })
  t.teardown(async () => { await box.close() })
  const versions = (await allVersions(box, 'rot')).filter(v => !v.deleteMarker)
  t.same(versions.map(v => v.versionId === 'null' ? 'null' : v.versionId === v2 ? 'v2' : 'v3'), ['v3', 'v2', 'null'])
  for (const [i, v] of versions.entries()) {
    const { info, body } = await box.getObject('rot', 'k', { versionId: v.versionId })
    t.ok((await readAll(body)).equals(bytes(600, 3 - i)), `version ${v.versionId} reads with the old master key retired`)
    t.equal(info.masterKeyId, i === 0 ? undefined : 'fresh', 'an aws:kms version names the new master key')
  }
})

// The walk reads one snapshot; a noncurrent version made current meanwhile (its current version
// deleted by id) is found where it is now and re-wrapped there.
t.test('a version made current while rotateMasterKey walks the store is re-wrapped too', async t => {
  const location = await tempDir(t)
  const old = randomBytes(32)
  const fresh = randomBytes(32)
  let box = await Spacebox.open({ location, keyProvider: new LocalKeyProvider({ old }) })
  await box.createBucket('race')
  await box.putBucketVersioning('race', 'Enabled')
  await box.putObject('race', 'a', 'a', { serverSideEncryption: 'aws:kms' })
  await box.putObject('race', 'b', bytes(100, 1), { serverSideEncryption: 'aws:kms' })
  const current = (await box.putObject('race', 'b', bytes(100, 2), { serverSideEncryption: 'aws:kms' })).versionId as string
  await box.close()

  const local = new LocalKeyProvider({ old, fresh })
  let calls = 0
  const hook: { promote?: () => Promise<unknown> } = {}
  const provider: KeyProvider = {
    generateDataKey: local.generateDataKey.bind(local),
    decrypt: local.decrypt.bind(local),
    async encrypt (plaintext, context, masterKeyId) {
      // The keyring is wrapped first, then object a's key: meanwhile b's current version is deleted by id.
      if (++calls === 2) await hook.promote?.()
      return await local.encrypt(plaintext, context, masterKeyId)
    }
  }
  box = await Spacebox.open({ location, keyProvider: provider })
  hook.promote = async () => await box.deleteObject('race', 'b', { versionId: current })
  t.match(await box.rotateMasterKey(), { masterKeyId: 'fresh' })
  await box.close()

  box = await Spacebox.open({ location, keyProvider: new LocalKeyProvider({ fresh }) })
  t.teardown(async () => { await box.close() })
  t.ok((await readAll((await box.getObject('race', 'b')).body)).equals(bytes(100, 1)), 'b\'s older version, current now, reads with the old master key retired')
})

/** A store that can be closed and opened again: on disk at a location, or in memory in a database the test holds. */
const reopenable = [
  { name: 'disk', options: async (t: Tap) => { const location = await tempDir(t); return () => ({ location, chunkSize: 64 }) } },
  { name: 'memory', options: async (t: Tap) => { const db = new MemoryLevel(); t.teardown(async () => { await db.close() }); return () => ({ db, masterKey: Buffer.alloc(32, 3), chunkSize: 64 }) } }
]

for (const { name, options: make } of reopenable) {
  t.test(`${name}: reopening the store keeps every version, marker and null version, and the versioning status`, async t => {
    const options = await make(t)
    let box = await Spacebox.open(options())
    await box.createBucket('keep')
    await box.putObject('keep', 'k', bytes(200, 1))
    await box.putBucketVersioning('keep', 'Enabled')
    await box.putObject('keep', 'k', bytes(200, 2))
    await box.deleteObject('keep', 'k')
    await box.putObject('keep', 'a/b', bytes(10, 3))
    await box.putBucketVersioning('keep', 'Suspended')
    await box.putObject('keep', 'a/b', bytes(300, 4))
    await box.putObject('keep', 'a/c', bytes(100, 5))
    const read = async (versions: ObjectVersion[]): Promise<Buffer[]> => await Promise.all(versions.filter(v => !v.deleteMarker)
      .map(async v => await readAll((await box.getObject('keep', v.key, { versionId: v.versionId })).body)))
    const before = await allVersions(box, 'keep')
    t.same(entries(before).map(e => e.replace(/@[^ ]{32}/, '@id')), ['a/b@null latest', 'a/b@id', 'a/c@null latest', 'k@id latest marker', 'k@id', 'k@null'])
    const bytesBefore = await read(before)
    await box.close()
    box = await Spacebox.open(options())
    t.teardown(async () => { await box.close() })
    t.same(await box.getBucketVersioning('keep'), { status: 'Suspended' })
    t.same(await allVersions(box, 'keep'), before, 'the same versions, in the same order, with the same ids and dates')
    t.same(await read(before), bytesBefore, 'each version reads the same bytes')
    await box.putObject('keep', 'a/b', 'replaced')
    t.equal((await allVersions(box, 'keep', { prefix: 'a/b' })).length, 2, 'a Suspended write after reopening still replaces the null version')
  })
}

t.test('a store of format 1 opens, reads its objects as null versions, and is marked as the current format', async t => {
  const location = await tempDir(t)
  // Objects written before versioning existed: records without an order, dated by a clock far ahead
  // (an order taken from the time could otherwise sort after the versions written later).
  const future = Date.UTC(2200, 0, 1)
  let box = await Spacebox.open({ location, clock: () => future, chunkSize: 64 })
  await box.createBucket('old')
  await box.putObject('old', 'k', bytes(150, 1))
  await box.putObject('old', 'other', 'other')
  await box.close()
  const raw = new Level(location)
  const meta = openSublevels(raw).meta
  const created = ((await meta.get('format')) as { created: number }).created
  await meta.put('format', { v: 1, created })
  await raw.close()

  box = await Spacebox.open({ location, chunkSize: 64 })
  t.ok((await readAll((await box.getObject('old', 'k')).body)).equals(bytes(150, 1)), 'the old object reads')
  t.same(entries((await box.listObjectVersions('old')).versions), ['k@null latest', 'other@null latest'])
  await box.putBucketVersioning('old', 'Enabled')
  const v2 = (await box.putObject('old', 'k', 'second')).versionId as string
  const v3 = (await box.putObject('old', 'k', 'third')).versionId as string
  t.same(entries((await box.listObjectVersions('old', { prefix: 'k' })).versions), [`k@${v3} latest`, `k@${v2}`, 'k@null'], 'versions written after the old object sort newer, whatever its date')
  t.ok(v3 < v2, 'and their ids sort newest first')
  t.ok((await readAll((await box.getObject('old', 'k', { versionId: 'null' })).body)).equals(bytes(150, 1)))
  await box.close()

  const check = new Level(location)
  t.same(await openSublevels(check).meta.get('format'), { v: FORMAT_VERSION, created }, 'marked the current format, its creation date kept')
  await check.close()
})

t.test('scoped views: reading a version needs read, deleting one write, changing versioning admin; a prefix-scoped listing is clipped', async t => {
  const box = await open(t)
  await box.createBucket('scoped')
  await box.putBucketVersioning('scoped', 'Enabled')
  const old = (await box.putObject('scoped', 'pub/a', 'old')).versionId as string
  await box.putObject('scoped', 'pub/a', 'new')
  await box.putObject('scoped', 'private/b', 'secret')
  await box.deleteObject('scoped', 'private/b')
  let made = 0
  const view = async (grants: Parameters<Spacebox['keys']['create']>[0]['grants']): Promise<ReturnType<Spacebox['as']>> =>
    box.as((await box.keys.create({ name: `key ${++made}`, grants })).accessKeyId)

  const reader = await view([{ bucket: 'scoped', permission: 'read' }])
  t.equal(await text(reader, 'scoped', 'pub/a', { versionId: old }), 'old', 'read: a noncurrent version')
  t.same(await reader.getBucketVersioning('scoped'), { status: 'Enabled' })
  t.equal((await reader.listObjectVersions('scoped')).versions.length, 4)
  await t.rejects(reader.deleteObject('scoped', 'pub/a', { versionId: old }), { code: 'AccessDenied' }, 'read: no version delete')
  const batch = await reader.deleteObjects('scoped', [{ key: 'pub/a', versionId: old }])
  t.same(batch.errors.map(e => [e.key, e.versionId, e.code]), [['pub/a', old, 'AccessDenied']], 'nor in a batch')
  await t.rejects(reader.putBucketVersioning('scoped', 'Suspended'), { code: 'AccessDenied' })

  const writer = await view([{ bucket: 'scoped', permission: 'readwrite' }])
  await t.rejects(writer.putBucketVersioning('scoped', 'Suspended'), { code: 'AccessDenied' }, 'readwrite: no versioning change')
  t.same(await writer.deleteObject('scoped', 'pub/a', { versionId: old }), { versionId: old }, 'readwrite: a version delete')
  await t.rejects(box.headObject('scoped', 'pub/a', { versionId: old }), { code: 'NoSuchVersion' })

  const owner = await view([{ bucket: 'scoped', permission: 'fullaccess' }])
  await owner.putBucketVersioning('scoped', 'Suspended')
  t.same(await box.getBucketVersioning('scoped'), { status: 'Suspended' }, 'fullaccess on the bucket: versioning changes')

  const prefixed = await view([{ bucket: 'scoped', permission: 'readwrite', prefix: 'pub/' }])
  t.same(entries((await prefixed.listObjectVersions('scoped')).versions), [`pub/a@${(await box.headObject('scoped', 'pub/a')).versionId as string} latest`], 'a prefix-scoped listing shows its prefix only')
  t.same(entries((await prefixed.listObjectVersions('scoped', { delimiter: '/' })).versions), [], 'rolled up from the prefix asked for')
  t.same((await prefixed.listObjectVersions('scoped', { delimiter: '/' })).commonPrefixes, ['pub/'])
  t.same((await allVersions(prefixed, 'scoped')).map(v => v.key), ['pub/a'], 'listAllVersions too')
  await t.rejects(prefixed.listObjectVersions('scoped', { prefix: 'private/' }), { code: 'AccessDenied' })
  await t.rejects(prefixed.deleteObject('scoped', 'private/b', { versionId: 'null' }), { code: 'AccessDenied' }, 'no version delete outside the prefix')
  await t.rejects(prefixed.getObject('scoped', 'private/b', { versionId: 'null' }), { code: 'AccessDenied' })
})
