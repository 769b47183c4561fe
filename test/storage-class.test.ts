// Storage classes through the engine: a class is a label kept with each version, reported by every
// read and listing, and changing nothing else; unknown classes are refused; a copy never inherits one.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import { STORAGE_CLASSES, Spacebox, type StorageClass } from '../lib/index.js'
import { ID_LENGTH, openSublevels } from '../lib/schema/keys.js'
import { decodeHead } from '../lib/schema/records.js'
import { backends, bytes, readAll } from './helpers.js'

for (const backend of backends) {
  t.test(`${backend.name}: storage classes`, async t => {
    t.test('every class S3 knows is stored, read back, listed, and served without a restore', async t => {
      const box = await backend.open(t)
      await box.createBucket('bkt')
      for (const storageClass of STORAGE_CLASSES) await box.putObject('bkt', `k/${storageClass}`, storageClass, { storageClass })
      for (const storageClass of STORAGE_CLASSES) {
        t.equal((await box.headObject('bkt', `k/${storageClass}`)).storageClass, storageClass, `${storageClass}: head`)
        const { info, body } = await box.getObject('bkt', `k/${storageClass}`)
        t.equal(info.storageClass, storageClass, `${storageClass}: get`)
        // The choice: archive classes change nothing here, so there is no InvalidObjectState.
        t.equal((await readAll(body)).toString(), storageClass, `${storageClass}: served at once`)
      }
      const expected = [...STORAGE_CLASSES].sort().map(c => [`k/${c}`, c])
      t.same((await box.listObjectsV2('bkt')).contents.map(o => [o.key, o.storageClass]), expected, 'ListObjectsV2')
      t.same((await box.listObjects('bkt')).contents.map(o => [o.key, o.storageClass]), expected, 'ListObjects')
      t.same((await box.listObjectVersions('bkt')).versions.map(v => [v.key, v.storageClass]), expected, 'ListObjectVersions')
      const all = []
      for await (const o of box.listAll('bkt')) all.push([o.key, o.storageClass])
      t.same(all, expected, 'listAll')
    })

    t.test('no class is STANDARD, and STANDARD is not written into the record', async t => {
      const db = new MemoryLevel()
      t.teardown(async () => { await db.close() })
      const box = await Spacebox.open({ db, masterKey: Buffer.alloc(32) })
      t.teardown(async () => { await box.close() })
      await box.createBucket('bkt')
      await box.putObject('bkt', 'plain', 'x')
      await box.putObject('bkt', 'standard', 'x', { storageClass: 'STANDARD' })
      await box.putObject('bkt', 'ia', 'x', { storageClass: 'STANDARD_IA' })
      t.equal((await box.headObject('bkt', 'plain')).storageClass, 'STANDARD')
      t.equal((await box.headObject('bkt', 'standard')).storageClass, 'STANDARD')
      const sub = openSublevels(db)
      const heads = new Map<string, { storageClass?: string }>()
      for await (const [key, value] of sub.objects.iterator()) heads.set(key.toString('utf8', ID_LENGTH), decodeHead(value).head)
      t.notOk('storageClass' in heads.get('plain')!, 'absent without one')
      t.notOk('storageClass' in heads.get('standard')!, 'absent for STANDARD too: the record stays as small')
      t.equal(heads.get('ia')!.storageClass, 'STANDARD_IA')
    })

    t.test('an unknown class is InvalidStorageClass, and nothing is written', async t => {
      const box = await backend.open(t)
      await box.createBucket('bkt')
      await box.putObject('bkt', 'src', 'x')
      const { uploadId } = await box.createMultipartUpload('bkt', 'mpu')
      for (const bad of ['standard', 'GLACIER ', '', 'COLD', 'FSX_OPENZFS', 'AWS_BACKUP_WARM', 7, null]) {
        const storageClass = bad as unknown as StorageClass
        const label = JSON.stringify(bad)
        await t.rejects(box.putObject('bkt', 'k', 'x', { storageClass }), { code: 'InvalidStorageClass', message: 'The storage class you specified is not valid' }, `put ${label}`)
        await t.rejects(box.copyObject('bkt', 'src', 'bkt', 'k', { storageClass }), { code: 'InvalidStorageClass' }, `copy ${label}`)
        await t.rejects(box.copyObject('bkt', 'src', 'bkt', 'k', { storageClass, metadataDirective: 'REPLACE' }), { code: 'InvalidStorageClass' }, `copy REPLACE ${label}`)
        await t.rejects(box.createMultipartUpload('bkt', 'k', { storageClass }), { code: 'InvalidStorageClass' }, `create upload ${label}`)
      }
      const err = await box.putObject('bkt', 'k', 'x', { storageClass: 'COLD' as StorageClass }).catch((e: unknown) => e)
      t.match(err, { bucket: 'bkt', key: 'k', detail: { storageClassRequested: 'COLD' } }, 'the error names the class asked for')
      await t.rejects(box.headObject('bkt', 'k'), { code: 'NoSuchKey' }, 'nothing was written')
      t.same((await box.listMultipartUploads('bkt')).uploads.map(u => u.uploadId), [uploadId], 'no upload was started')
    })

    t.test('a multipart upload carries its class: listed while in progress, given to the object', async t => {
      const box = await backend.open(t, { minPartSize: 1 })
      await box.createBucket('bkt')
      const { uploadId } = await box.createMultipartUpload('bkt', 'big', { storageClass: 'DEEP_ARCHIVE' })
      const plain = await box.createMultipartUpload('bkt', 'plain')
      t.same((await box.listMultipartUploads('bkt')).uploads.map(u => [u.key, u.storageClass]), [['big', 'DEEP_ARCHIVE'], ['plain', 'STANDARD']])
      t.equal((await box.listParts('bkt', 'big', uploadId)).storageClass, 'DEEP_ARCHIVE')
      t.equal((await box.listParts('bkt', 'plain', plain.uploadId)).storageClass, 'STANDARD')
      const one = await box.uploadPart('bkt', 'big', uploadId, 1, bytes(10))
      const two = await box.uploadPart('bkt', 'big', uploadId, 2, bytes(5))
      await box.completeMultipartUpload('bkt', 'big', uploadId, [{ partNumber: 1, etag: one.etag }, { partNumber: 2, etag: two.etag }])
      t.equal((await box.headObject('bkt', 'big')).storageClass, 'DEEP_ARCHIVE')
      t.equal((await readAll((await box.getObject('bkt', 'big')).body)).length, 15, 'served whole')
    })

    t.test('a copy is STANDARD unless it asks: never its source\'s class, under either directive', async t => {
      const box = await backend.open(t)
      await box.createBucket('bkt')
      await box.putObject('bkt', 'cold', 'x', { storageClass: 'GLACIER', metadata: { m: '1' } })
      await box.copyObject('bkt', 'cold', 'bkt', 'copy')
      t.equal((await box.headObject('bkt', 'copy')).storageClass, 'STANDARD', 'COPY, no class: STANDARD')
      await box.copyObject('bkt', 'cold', 'bkt', 'replaced', { metadataDirective: 'REPLACE' })
      t.equal((await box.headObject('bkt', 'replaced')).storageClass, 'STANDARD', 'REPLACE, no class: STANDARD')
      await box.copyObject('bkt', 'cold', 'bkt', 'ia', { storageClass: 'STANDARD_IA' })
      const ia = await box.headObject('bkt', 'ia')
      t.equal(ia.storageClass, 'STANDARD_IA', 'COPY with a class')
      t.same(ia.metadata, { m: '1' }, 'the metadata still copied')
      await box.copyObject('bkt', 'cold', 'bkt', 'ir', { storageClass: 'GLACIER_IR', metadataDirective: 'REPLACE', metadata: { n: '2' } })
      t.match(await box.headObject('bkt', 'ir'), { storageClass: 'GLACIER_IR', metadata: { n: '2' } }, 'REPLACE with a class')
    })

    t.test('a copy onto itself that changes only the class is legal; one that changes nothing is not', async t => {
      const box = await backend.open(t)
      await box.createBucket('bkt')
      const put = await box.putObject('bkt', 'k', 'payload', { metadata: { keep: 'me' }, contentType: 'text/x-test' })
      const illegal = { code: 'InvalidRequest', message: /copy an object to itself without changing the object's metadata, storage class/ }
      await t.rejects(box.copyObject('bkt', 'k', 'bkt', 'k'), illegal, 'nothing asked')
      await t.rejects(box.copyObject('bkt', 'k', 'bkt', 'k', { storageClass: 'STANDARD' }), illegal, 'STANDARD onto STANDARD')
      const copied = await box.copyObject('bkt', 'k', 'bkt', 'k', { storageClass: 'GLACIER' })
      t.equal(copied.etag, put.etag, 'same bytes, same ETag')
      const info = await box.headObject('bkt', 'k')
      t.match(info, { storageClass: 'GLACIER', metadata: { keep: 'me' }, contentType: 'text/x-test' }, 'the class changed, the rest kept')
      await t.rejects(box.copyObject('bkt', 'k', 'bkt', 'k', { storageClass: 'GLACIER' }), illegal, 'GLACIER onto GLACIER')
      // As RGW compares them: the class the copy would get (STANDARD, none being asked) differs from the source's.
      await box.copyObject('bkt', 'k', 'bkt', 'k')
      t.equal((await box.headObject('bkt', 'k')).storageClass, 'STANDARD', 'back to STANDARD by a plain self-copy')
      t.equal((await readAll((await box.getObject('bkt', 'k')).body)).toString(), 'payload')
      await t.rejects(box.copyObject('bkt', 'gone', 'bkt', 'gone', { storageClass: 'GLACIER' }), { code: 'NoSuchKey' })
    })

    t.test('an encrypted copy (bytes sealed again) takes the class asked for too', async t => {
      const box = await backend.open(t)
      await box.createBucket('bkt')
      await box.putBucketEncryption('bkt', { algorithm: 'AES256' })
      await box.putObject('bkt', 'k', 'secret', { storageClass: 'ONEZONE_IA' })
      t.equal((await box.headObject('bkt', 'k')).storageClass, 'ONEZONE_IA')
      await box.copyObject('bkt', 'k', 'bkt', 'k', { storageClass: 'INTELLIGENT_TIERING', serverSideEncryption: 'AES256' })
      t.match(await box.headObject('bkt', 'k'), { storageClass: 'INTELLIGENT_TIERING', serverSideEncryption: 'AES256' })
      await box.copyObject('bkt', 'k', 'bkt', 'other')
      t.equal((await box.headObject('bkt', 'other')).storageClass, 'STANDARD')
    })

    t.test('each version keeps its own class', async t => {
      const box = await backend.open(t)
      await box.createBucket('bkt')
      await box.putBucketVersioning('bkt', 'Enabled')
      const old = await box.putObject('bkt', 'k', 'v1', { storageClass: 'REDUCED_REDUNDANCY' })
      await box.putObject('bkt', 'k', 'v2')
      t.equal((await box.headObject('bkt', 'k')).storageClass, 'STANDARD')
      t.equal((await box.headObject('bkt', 'k', { versionId: old.versionId! })).storageClass, 'REDUCED_REDUNDANCY')
      t.same((await box.listObjectVersions('bkt')).versions.map(v => [v.isLatest, v.storageClass]), [[true, 'STANDARD'], [false, 'REDUCED_REDUNDANCY']])
      // Restoring an old version by copy is S3's way; the copy is STANDARD unless asked.
      await box.copyObject('bkt', 'k', 'bkt', 'k', { sourceVersionId: old.versionId!, storageClass: 'SNOW' })
      t.equal((await box.headObject('bkt', 'k')).storageClass, 'SNOW')
    })

    t.test('a scoped view passes the class through, with no more rights needed', async t => {
      const box = await backend.open(t)
      await box.createBucket('bkt')
      const key = await box.keys.create({ name: 'w', grants: [{ bucket: 'bkt', permission: 'readwrite' }] })
      const view = box.as(key.accessKeyId)
      await view.putObject('bkt', 'k', 'x', { storageClass: 'EXPRESS_ONEZONE' })
      t.equal((await view.headObject('bkt', 'k')).storageClass, 'EXPRESS_ONEZONE')
      await view.copyObject('bkt', 'k', 'bkt', 'k', { storageClass: 'OUTPOSTS' })
      t.equal((await view.headObject('bkt', 'k')).storageClass, 'OUTPOSTS')
    })
  })
}

t.test('the class survives closing and reopening the store', async t => {
  const db = new MemoryLevel()
  t.teardown(async () => { await db.close() })
  const first = await Spacebox.open({ db, masterKey: Buffer.alloc(32) })
  await first.createBucket('bkt')
  await first.putObject('bkt', 'k', 'x', { storageClass: 'GLACIER' })
  const { uploadId } = await first.createMultipartUpload('bkt', 'u', { storageClass: 'STANDARD_IA' })
  await first.close()
  const box = await Spacebox.open({ db, masterKey: Buffer.alloc(32) })
  t.teardown(async () => { await box.close() })
  t.equal((await box.headObject('bkt', 'k')).storageClass, 'GLACIER')
  t.equal((await box.listParts('bkt', 'u', uploadId)).storageClass, 'STANDARD_IA')
})
