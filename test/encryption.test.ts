import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { LocalKeyProvider, Spacebox, type PutObjectOptions } from '../lib/index.js'
import { openSublevels, segmentRange } from '../lib/schema/keys.js'
import { decodeHead } from '../lib/schema/records.js'
import { backends, bytes, md5hex, pieces, readAll, tempDir } from './helpers.js'

const MODES: Array<[string, PutObjectOptions, object]> = [
  ['plaintext', {}, {}],
  ['SSE-S3, own data key', { serverSideEncryption: 'AES256' }, { serverSideEncryption: 'AES256', bucketKeyEnabled: false }],
  ['SSE-KMS, own data key', { serverSideEncryption: 'aws:kms' }, { serverSideEncryption: 'aws:kms', masterKeyId: 'local-1', bucketKeyEnabled: false }],
  ['SSE-KMS, bucket key', { serverSideEncryption: 'aws:kms', bucketKeyEnabled: true }, { serverSideEncryption: 'aws:kms', bucketKeyEnabled: true }],
  ['SSE-C', { customerKey: { key: Buffer.alloc(32, 9) } }, { serverSideEncryption: 'AES256', customerKeyMD5: createHash('md5').update(Buffer.alloc(32, 9)).digest('base64') }]
]

for (const backend of backends) {
  t.test(`every encryption mode round-trips (${backend.name})`, async t => {
    const box = await backend.open(t, { chunkSize: 1000, inlineThreshold: 100, minPartSize: 1000 })
    await box.createBucket('enc')
    for (const [name, options, reported] of MODES) {
      const read = 'customerKey' in options ? { customerKey: options.customerKey! } : {}
      for (const size of [0, 50, 999, 1000, 3500]) {
        const data = bytes(size, size + 1)
        const put = await box.putObject('enc', `${name}/${size}`, pieces(data, 300), options)
        t.equal(put.etag, `"${md5hex(data)}"`, 'the ETag is the MD5 of the plaintext')
        t.match(put, reported)
        const { info, body } = await box.getObject('enc', `${name}/${size}`, read)
        t.ok((await readAll(body)).equals(data), `${name}, ${size} bytes`)
        t.match(info, reported, 'get reports the encryption')
        t.match(await box.headObject('enc', `${name}/${size}`, read), reported)
        if (size > 0) {
          const ranged = await box.getObject('enc', `${name}/${size}`, { ...read, range: `bytes=${Math.floor(size / 3)}-${size - 2}` })
          t.ok((await readAll(ranged.body)).equals(data.subarray(Math.floor(size / 3), size - 1)), `${name}, a range of ${size}`)
        }
      }
      const { uploadId, ...created } = await box.createMultipartUpload('enc', `${name}/mpu`, options)
      t.match(created, reported)
      const parts = [bytes(1500, 1), bytes(1200, 2), bytes(1000, 3)]
      const uploaded = []
      for (const [i, part] of parts.entries()) uploaded.push({ partNumber: i + 1, etag: (await box.uploadPart('enc', `${name}/mpu`, uploadId, i + 1, part, read)).etag })
      const copiedPart = await box.uploadPartCopy('enc', `${name}/mpu`, uploadId, 4, 'enc', `${name}/3500`, { ...read, ...('customerKey' in options ? { sourceCustomerKey: options.customerKey! } : {}), range: 'bytes=0-99' })
      uploaded.push({ partNumber: 4, etag: copiedPart.etag })
      t.match(await box.completeMultipartUpload('enc', `${name}/mpu`, uploadId, uploaded), reported)
      const whole = Buffer.concat([...parts, bytes(3500, 3501).subarray(0, 100)])
      t.ok((await readAll((await box.getObject('enc', `${name}/mpu`, read)).body)).equals(whole), `${name}: multipart`)
      t.ok((await readAll((await box.getObject('enc', `${name}/mpu`, { ...read, range: 'bytes=1400-2800' })).body)).equals(whole.subarray(1400, 2801)))

      const copy = await box.copyObject('enc', `${name}/3500`, 'enc', `${name}/copy`, { ...options, ...('customerKey' in options ? { sourceCustomerKey: options.customerKey! } : {}) })
      t.equal(copy.etag, `"${md5hex(bytes(3500, 3501))}"`)
      t.ok((await readAll((await box.getObject('enc', `${name}/copy`, read)).body)).equals(bytes(3500, 3501)), `${name}: copy`)
    }
  })
}

t.test('bucket keys: one provider call for many objects; own keys: one call per object', async t => {
  const location = await tempDir(t)
  let box = await Spacebox.open({ location, chunkSize: 1000 })
  await box.createBucket('own')
  await box.createBucket('shared')
  await box.putBucketEncryption('own', { algorithm: 'AES256' })
  await box.putBucketEncryption('shared', { algorithm: 'aws:kms', bucketKeyEnabled: true })
  const base = box.stats()
  for (let i = 0; i < 50; i++) await box.putObject('own', `k${i}`, bytes(1500, i))
  t.equal(box.stats().generateDataKey - base.generateDataKey, 50, 'own data keys: 50 objects, 50 calls')
  const mid = box.stats()
  for (let i = 0; i < 50; i++) await box.putObject('shared', `k${i}`, bytes(1500, i))
  t.equal(box.stats().generateDataKey - mid.generateDataKey, 1, 'a bucket key: 50 objects, 1 call')
  const reads = box.stats()
  for (let i = 0; i < 50; i++) await readAll((await box.getObject('own', `k${i}`)).body)
  t.equal(box.stats().decrypt - reads.decrypt, 50, 'reading own-key objects: a call each')
  const shared = box.stats()
  for (let i = 0; i < 50; i++) await readAll((await box.getObject('shared', `k${i}`)).body)
  t.equal(box.stats().decrypt - shared.decrypt, 0, 'reading bucket-key objects: the unwrapped bucket key is cached')
  await box.close()
  box = await Spacebox.open({ location })
  const cold = box.stats()
  for (let i = 0; i < 50; i++) t.ok((await readAll((await box.getObject('shared', `k${i}`)).body)).equals(bytes(1500, i)))
  t.equal(box.stats().decrypt - cold.decrypt, 1, 'after a restart: one call unwraps the bucket key again')
  await box.close()
})

t.test('bucket keys expire and rotate; older objects stay readable', async t => {
  let now = Date.UTC(2026, 0, 1)
  const box = await Spacebox.open({ memory: true, clock: () => now, bucketKeyTtl: 3600_000 })
  t.teardown(async () => { await box.close() })
  await box.createBucket('rot')
  await box.putBucketEncryption('rot', { algorithm: 'aws:kms', bucketKeyEnabled: true })
  const start = box.stats().generateDataKey
  await box.putObject('rot', 'a', 'first key')
  now += 3599_000
  await box.putObject('rot', 'b', 'still the first key')
  t.equal(box.stats().generateDataKey - start, 1)
  now += 2000
  await box.putObject('rot', 'c', 'expired: a second key')
  t.equal(box.stats().generateDataKey - start, 2)
  await box.rotateBucketKey('rot')
  await box.putObject('rot', 'd', 'rotated: a third key')
  t.equal(box.stats().generateDataKey - start, 3)
  for (const [key, text] of [['a', 'first key'], ['b', 'still the first key'], ['c', 'expired: a second key'], ['d', 'rotated: a third key']]) {
    t.equal((await readAll((await box.getObject('rot', key!)).body)).toString(), text)
  }
  await t.rejects(box.rotateBucketKey('nope'), { code: 'NoSuchBucket' })
})

t.test('bucket encryption settings: defaults for new objects only; the request may choose otherwise', async t => {
  const box = await backends[0]!.open(t)
  await box.createBucket('cfg')
  await t.rejects(box.getBucketEncryption('cfg'), { code: 'ServerSideEncryptionConfigurationNotFoundError' })
  await box.putObject('cfg', 'before', 'x')
  await box.putBucketEncryption('cfg', { algorithm: 'aws:kms', masterKeyId: 'local-1', bucketKeyEnabled: true })
  t.same(await box.getBucketEncryption('cfg'), { algorithm: 'aws:kms', masterKeyId: 'local-1', bucketKeyEnabled: true })
  t.equal((await box.headObject('cfg', 'before')).serverSideEncryption, undefined, 'an existing object keeps its (lack of) encryption')
  t.match(await box.putObject('cfg', 'after', 'x'), { serverSideEncryption: 'aws:kms', bucketKeyEnabled: true })
  t.match(await box.putObject('cfg', 'own', 'x', { serverSideEncryption: 'AES256', bucketKeyEnabled: false }), { serverSideEncryption: 'AES256', bucketKeyEnabled: false })
  t.same(await box.getBucketEncryption('cfg'), { algorithm: 'aws:kms', masterKeyId: 'local-1', bucketKeyEnabled: true }, 'a per-object choice leaves the bucket\'s')
  await box.copyObject('cfg', 'before', 'cfg', 'before', { serverSideEncryption: 'AES256' })
  t.match(await box.headObject('cfg', 'before'), { serverSideEncryption: 'AES256' }, 'a copy in place re-encrypts')
  await box.deleteBucketEncryption('cfg')
  await t.rejects(box.getBucketEncryption('cfg'), { code: 'ServerSideEncryptionConfigurationNotFoundError' })
  t.equal((await box.putObject('cfg', 'later', 'x')).serverSideEncryption, undefined)
  t.equal((await readAll((await box.getObject('cfg', 'after')).body)).toString(), 'x', 'objects outlive the setting that encrypted them')
  await t.rejects(box.putBucketEncryption('cfg', { algorithm: 'DES' as never }), { code: 'InvalidArgument' })
  await t.rejects(box.putBucketEncryption('cfg', { algorithm: 'AES256', masterKeyId: 'local-1' }), { code: 'InvalidArgument' })
  await t.rejects(box.putObject('cfg', 'bad', 'x', { serverSideEncryption: 'DES' as never }), { code: 'InvalidArgument' })
  await t.rejects(box.putObject('cfg', 'bad', 'x', { serverSideEncryption: 'AES256', masterKeyId: 'local-1' }), { code: 'InvalidArgument' })
  await t.rejects(box.putObject('cfg', 'bad', 'x', { serverSideEncryption: 'aws:kms', masterKeyId: 'no-such-key' }), { code: 'InvalidMasterKey' })
  await t.rejects(box.putBucketEncryption('nope', { algorithm: 'AES256' }), { code: 'NoSuchBucket' })
})

t.test('SSE-C: the right key reads, a wrong or missing key is refused', async t => {
  const box = await backends[0]!.open(t, { chunkSize: 1000 })
  await box.createBucket('ssec')
  const key = randomBytes(32)
  const md5 = createHash('md5').update(key).digest('base64')
  await box.putObject('ssec', 'secret', bytes(2500), { customerKey: { key: key.toString('base64'), md5 } })
  t.ok((await readAll((await box.getObject('ssec', 'secret', { customerKey: { key } })).body)).equals(bytes(2500)))
  await t.rejects(box.getObject('ssec', 'secret'), { code: 'InvalidRequest' })
  await t.rejects(box.headObject('ssec', 'secret'), { code: 'InvalidRequest' })
  await t.rejects(box.getObject('ssec', 'secret', { customerKey: { key: randomBytes(32) } }), { code: 'AccessDenied' })
  await t.rejects(box.copyObject('ssec', 'secret', 'ssec', 'copy'), { code: 'InvalidRequest' }, 'a copy needs the source key too')
  await t.rejects(box.putObject('ssec', 'bad', 'x', { customerKey: { key: randomBytes(16) } }), { code: 'InvalidArgument' })
  await t.rejects(box.putObject('ssec', 'bad', 'x', { customerKey: { key, md5: 'AAAAAAAAAAAAAAAAAAAAAA==' } }), { code: 'InvalidArgument' })
  await t.rejects(box.putObject('ssec', 'bad', 'x', { customerKey: { key }, serverSideEncryption: 'AES256' }), { code: 'InvalidArgument' })
  const { uploadId } = await box.createMultipartUpload('ssec', 'mpu', { customerKey: { key } })
  await t.rejects(box.uploadPart('ssec', 'mpu', uploadId, 1, 'x'), { code: 'InvalidRequest' }, 'every part needs the key')
})

t.test('stored files never hold the plaintext of an encrypted object', async t => {
  const location = await tempDir(t)
  const box = await Spacebox.open({ location, chunkSize: 4096 })
  await box.createBucket('scan')
  const marker = Buffer.from('PLAINTEXT-MARKER-'.repeat(64))
  await box.putObject('scan', 'inline', marker.subarray(0, 1000), { serverSideEncryption: 'AES256' })
  await box.putObject('scan', 'chunked', Buffer.concat(Array.from({ length: 10 }, () => marker)), { serverSideEncryption: 'aws:kms', bucketKeyEnabled: true })
  await box.putObject('scan', 'customer', marker, { customerKey: { key: randomBytes(32) } })
  await box.close()
  const needle = Buffer.from('PLAINTEXT-MARKER-PLAINTEXT')
  const files = [...await readdir(location), ...(await readdir(join(location, 'blobs'))).map(name => join('blobs', name))]
  t.ok(files.some(file => file.startsWith('blobs')), 'the chunked object is a segment file')
  for (const file of files) {
    if (file === 'blobs') continue
    if ((await readFile(join(location, file))).includes(needle)) t.fail(`${file} holds plaintext`)
  }
  t.pass('no plaintext in the store files')
})

t.test('tampering is detected: a flipped byte, swapped chunks, a dropped chunk', async t => {
  const db = new MemoryLevel()
  t.teardown(async () => { await db.close() })
  const box = await Spacebox.open({ db, masterKey: randomBytes(32), chunkSize: 1000 })
  t.teardown(async () => { await box.close() })
  const sub = openSublevels(db)
  await box.createBucket('tamper')
  const data = bytes(3500)
  const chunkKeys = async (key: string): Promise<string[]> => {
    const heads = await sub.objects.iterator().all()
    const head = heads.map(([, v]) => decodeHead(v).head).find(h => h.segments !== undefined && h.metadata.name === key)!
    return await sub.chunks.keys(segmentRange(head.segments![0]!.id)).all()
  }
  const expectDamage = async (key: string, label: string): Promise<void> => {
    const read = readAll((await box.getObject('tamper', key)).body).catch((err: { code?: string }) => err)
    t.match(await read, { code: 'InternalError' }, label)
  }
  for (const mode of [{ serverSideEncryption: 'AES256' }, { serverSideEncryption: 'aws:kms', bucketKeyEnabled: true }] as PutObjectOptions[]) {
    await box.putObject('tamper', 'flip', data, { ...mode, metadata: { name: 'flip' } })
    const [first] = await chunkKeys('flip')
    const sealed = Buffer.from((await sub.chunks.get(first!))!)
    sealed[40] = sealed[40]! ^ 1
    await sub.chunks.put(first!, sealed)
    await expectDamage('flip', 'a flipped byte')

    await box.putObject('tamper', 'swap', data, { ...mode, metadata: { name: 'swap' } })
    const [a, b] = await chunkKeys('swap')
    const [va, vb] = [await sub.chunks.get(a!), await sub.chunks.get(b!)]
    await sub.chunks.put(a!, vb!)
    await sub.chunks.put(b!, va!)
    await expectDamage('swap', 'swapped chunks')

    await box.putObject('tamper', 'drop', data, { ...mode, metadata: { name: 'drop' } })
    const keys = await chunkKeys('drop')
    await sub.chunks.del(keys[keys.length - 1]!)
    await expectDamage('drop', 'a dropped last chunk')
    const ranged = await box.getObject('tamper', 'drop', { range: 'bytes=0-99' })
    t.ok((await readAll(ranged.body)).equals(data.subarray(0, 100)), 'a range that avoids the damage still reads')
  }
})

t.test('rotating the master key re-wraps keys, so the old master key can be retired', async t => {
  const location = await tempDir(t)
  const old = randomBytes(32)
  const fresh = randomBytes(32)
  let box = await Spacebox.open({ location, keyProvider: new LocalKeyProvider({ old }), chunkSize: 1000, minPartSize: 0 })
  await box.createBucket('rot')
  await box.putObject('rot', 'own', bytes(2500), { serverSideEncryption: 'aws:kms' })
  await box.putObject('rot', 'shared', bytes(2500, 2), { serverSideEncryption: 'aws:kms', bucketKeyEnabled: true })
  await box.putObject('rot', 'plain', 'plain')
  const { uploadId } = await box.createMultipartUpload('rot', 'mpu', { serverSideEncryption: 'AES256' })
  const part = await box.uploadPart('rot', 'mpu', uploadId, 1, 'part one')
  const key = await box.keys.create({ name: 'k', grants: [] })
  await t.rejects(box.rotateMasterKey('fresh'), { code: 'InvalidMasterKey' }, 'the provider must hold the new key')
  const token = (await box.listObjectsV2('rot', { maxKeys: 1 })).nextContinuationToken as string
  await box.close()

  box = await Spacebox.open({ location, keyProvider: new LocalKeyProvider({ old, fresh }) })
  t.same(await box.rotateMasterKey(), { masterKeyId: 'fresh', keyring: 1, bucketKeys: 1, objectKeys: 2 })
  await box.close()

  box = await Spacebox.open({ location, keyProvider: new LocalKeyProvider({ fresh }) })
  t.ok((await readAll((await box.getObject('rot', 'own')).body)).equals(bytes(2500)), 'an object with its own key')
  t.ok((await readAll((await box.getObject('rot', 'shared')).body)).equals(bytes(2500, 2)), 'an object under a bucket key')
  t.equal((await box.headObject('rot', 'own')).masterKeyId, 'fresh')
  await box.completeMultipartUpload('rot', 'mpu', uploadId, [{ partNumber: 1, etag: part.etag }])
  t.equal((await readAll((await box.getObject('rot', 'mpu')).body)).toString(), 'part one', 'an upload in progress')
  t.doesNotThrow(() => box.withCredentials(key), 'access-key secrets')
  t.same((await box.listObjectsV2('rot', { continuationToken: token })).contents.map(c => c.key), ['plain', 'shared'], 'listing tokens, whose key derives from the keyring')
  await box.close()
  await t.rejects(Spacebox.open({ location, keyProvider: new LocalKeyProvider({ old }) }), { code: 'InvalidMasterKey' }, 'the old key no longer opens the store')
  const noEncrypt = new LocalKeyProvider({ fresh })
  const limited = await Spacebox.open({ location, keyProvider: { generateDataKey: noEncrypt.generateDataKey.bind(noEncrypt), decrypt: noEncrypt.decrypt.bind(noEncrypt) } })
  await t.rejects(limited.rotateMasterKey(), { code: 'InvalidRequest' })
  await limited.close()
})
