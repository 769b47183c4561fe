import t from 'tap'
import { createHash } from 'node:crypto'
import { MemoryLevel } from 'memory-level'
import { Spacebox, type SpaceboxError } from '../lib/index.js'
import { openSublevels } from '../lib/schema/keys.js'
import { backends, bytes, md5hex, pieces, readAll, rssWatch } from './helpers.js'

const MiB = 1024 * 1024

/** S3's multipart ETag computed independently: MD5 of the binary part MD5s, then -N. */
function multipartEtag (parts: Buffer[]): string {
  const md5 = createHash('md5')
  for (const part of parts) md5.update(createHash('md5').update(part).digest())
  return `"${md5.digest('hex')}-${parts.length}"`
}

for (const backend of backends) {
  t.test(`multipart uploads (${backend.name})`, async t => {
    t.test('S3\'s worked example: 5 MiB of a, then b; ETag and checksums as S3 gives them', async t => {
      const box = await backend.open(t)
      await box.createBucket('mpu')
      for (const [type, expected] of [['COMPOSITE', 'dYPmEQ==-2'], ['FULL_OBJECT', 'rBxv8Q==']] as const) {
        const upload = await box.createMultipartUpload('mpu', `example-${type}`, { checksumAlgorithm: 'CRC32', checksumType: type })
        t.equal(upload.checksumType, type)
        const p1 = await box.uploadPart('mpu', `example-${type}`, upload.uploadId, 1, Buffer.alloc(5 * MiB, 'a'))
        const p2 = await box.uploadPart('mpu', `example-${type}`, upload.uploadId, 2, 'b')
        t.equal(p1.etag, '"79b281060d337b9b2b84ccf390adcf74"')
        t.equal(p2.etag, '"92eb5ffee6ae2fec3ad71c777531578f"')
        t.same([p1.checksums, p2.checksums], [{ CRC32: 'r/zBbw==' }, { CRC32: 'cb7v+Q==' }])
        const done = await box.completeMultipartUpload('mpu', `example-${type}`, upload.uploadId, [{ partNumber: 1, etag: p1.etag }, { partNumber: 2, etag: p2.etag }])
        t.equal(done.etag, '"e5a8c5272b26fc10581a21089559b006-2"')
        t.same(done.checksums, { CRC32: expected }, type)
        t.equal(done.checksumType, type)
        t.equal(done.size, 5 * MiB + 1)
        const info = await box.headObject('mpu', `example-${type}`)
        t.equal(info.etag, done.etag)
        t.same(info.checksums, { CRC32: expected })
      }
    })

    t.test('CRC64NVME uploads get the full-object checksum of the whole byte stream', async t => {
      const box = await backend.open(t, { minPartSize: 0 })
      await box.createBucket('mpu')
      const upload = await box.createMultipartUpload('mpu', 'crc64', { checksumAlgorithm: 'CRC64NVME' })
      t.equal(upload.checksumType, 'FULL_OBJECT', 'the only type CRC64NVME has')
      const parts = [bytes(3000, 1), bytes(1, 2), bytes(7777, 3)]
      const uploaded = []
      for (const [i, part] of parts.entries()) uploaded.push({ partNumber: i + 1, etag: (await box.uploadPart('mpu', 'crc64', upload.uploadId, i + 1, part)).etag })
      const done = await box.completeMultipartUpload('mpu', 'crc64', upload.uploadId, uploaded)
      const direct = await box.putObject('mpu', 'direct', Buffer.concat(parts), { checksumAlgorithm: 'CRC64NVME' })
      t.same(done.checksums, direct.checksums)
      t.equal(done.checksumType, 'FULL_OBJECT')
      await t.rejects(box.createMultipartUpload('mpu', 'x', { checksumAlgorithm: 'CRC64NVME', checksumType: 'COMPOSITE' }), { code: 'InvalidRequest' })
    })

    t.test('parts out of order, one replaced, gaps in numbering; ranged reads across part boundaries', async t => {
      const box = await backend.open(t, { chunkSize: 1000, minPartSize: 3000 })
      await box.createBucket('mpu')
      const { uploadId } = await box.createMultipartUpload('mpu', 'movie.mp4', { metadata: { Title: 'x' }, cacheControl: 'no-store' })
      const p5 = bytes(1234, 5)
      const p3 = bytes(4000, 3)
      const p1old = bytes(3500, 100)
      const p1 = bytes(3001, 1)
      const e5 = await box.uploadPart('mpu', 'movie.mp4', uploadId, 5, pieces(p5, 100))
      const e3 = await box.uploadPart('mpu', 'movie.mp4', uploadId, 3, p3)
      await box.uploadPart('mpu', 'movie.mp4', uploadId, 1, p1old)
      const e1 = await box.uploadPart('mpu', 'movie.mp4', uploadId, 1, p1)
      const listed = await box.listParts('mpu', 'movie.mp4', uploadId)
      t.same(listed.parts.map(p => [p.partNumber, p.size, p.etag]), [[1, 3001, e1.etag], [3, 4000, e3.etag], [5, 1234, e5.etag]], 'the replaced part is gone')
      const done = await box.completeMultipartUpload('mpu', 'movie.mp4', uploadId, [
        { partNumber: 1, etag: e1.etag.slice(1, -1) }, { partNumber: 3, etag: e3.etag }, { partNumber: 5, etag: e5.etag }
      ])
      const whole = Buffer.concat([p1, p3, p5])
      t.equal(done.etag, multipartEtag([p1, p3, p5]))
      const { info, body } = await box.getObject('mpu', 'movie.mp4')
      t.ok((await readAll(body)).equals(whole))
      t.equal(info.contentType, 'video/mp4')
      t.equal(info.cacheControl, 'no-store')
      t.same(info.metadata, { title: 'x' })
      for (const [start, end] of [[0, 0], [2990, 3010], [3000, 7000], [3001, 7000], [7000, 7001], [0, 8234], [8230, 8234], [999, 1000], [2999, 8000]] as const) {
        const got = await box.getObject('mpu', 'movie.mp4', { range: `bytes=${start}-${end}` })
        t.ok((await readAll(got.body)).equals(whole.subarray(start, end + 1)), `bytes ${start}-${end}`)
      }
      await t.rejects(box.listParts('mpu', 'movie.mp4', uploadId), { code: 'NoSuchUpload' }, 'a completed upload is gone')
    })

    t.test('every error code of the multipart API', async t => {
      const box = await backend.open(t, { minPartSize: 100 })
      await box.createBucket('mpu')
      const { uploadId } = await box.createMultipartUpload('mpu', 'k')
      const a = await box.uploadPart('mpu', 'k', uploadId, 1, bytes(150, 1))
      const b = await box.uploadPart('mpu', 'k', uploadId, 2, bytes(50, 2))
      const c = await box.uploadPart('mpu', 'k', uploadId, 3, bytes(150, 3), { checksumAlgorithm: 'SHA256' })
      for (const bad of [0, 10_001, 1.5, -1, Number.NaN]) {
        await t.rejects(box.uploadPart('mpu', 'k', uploadId, bad, 'x'), { code: 'InvalidArgument' }, `part number ${bad}`)
      }
      await t.resolves(box.uploadPart('mpu', 'k', uploadId, 10_000, 'edge'))
      for (const id of ['nope', '0'.repeat(24), 42 as unknown as string]) {
        await t.rejects(box.uploadPart('mpu', 'k', id, 1, 'x'), { code: 'NoSuchUpload' })
        await t.rejects(box.listParts('mpu', 'k', id), { code: 'NoSuchUpload' })
        await t.rejects(box.abortMultipartUpload('mpu', 'k', id), { code: 'NoSuchUpload' })
        await t.rejects(box.completeMultipartUpload('mpu', 'k', id, [{ partNumber: 1, etag: a.etag }]), { code: 'NoSuchUpload' })
      }
      await t.rejects(box.uploadPart('mpu', 'other-key', uploadId, 1, 'x'), { code: 'NoSuchUpload' }, 'an upload id belongs to its key')
      await t.rejects(box.createMultipartUpload('nope', 'k'), { code: 'NoSuchBucket' })
      await t.rejects(box.uploadPart('mpu', 'k', uploadId, 4, 'x', { contentMD5: createHash('md5').update('y').digest('base64') }), { code: 'BadDigest' })
      await t.rejects(box.completeMultipartUpload('mpu', 'k', uploadId, []), { code: 'InvalidRequest' })
      await t.rejects(box.completeMultipartUpload('mpu', 'k', uploadId, [{ partNumber: 2, etag: b.etag }, { partNumber: 1, etag: a.etag }]), { code: 'InvalidPartOrder' })
      await t.rejects(box.completeMultipartUpload('mpu', 'k', uploadId, [{ partNumber: 1, etag: a.etag }, { partNumber: 1, etag: b.etag }]), { code: 'InvalidPart' }, 'a number listed twice: the later entry stands')
      await t.rejects(box.completeMultipartUpload('mpu', 'k', uploadId, [{ partNumber: 1, etag: a.etag }, { partNumber: 4, etag: a.etag }]), { code: 'InvalidPart' }, 'missing part')
      await t.rejects(box.completeMultipartUpload('mpu', 'k', uploadId, [{ partNumber: 1, etag: b.etag }]), { code: 'InvalidPart' }, 'wrong ETag')
      await t.rejects(box.completeMultipartUpload('mpu', 'k', uploadId, [{ partNumber: 3, etag: c.etag, checksums: { SHA256: 'AAAA' } }]), { code: 'InvalidPart' }, 'wrong checksum')
      await t.rejects(box.completeMultipartUpload('mpu', 'k', uploadId, [{ partNumber: 0, etag: a.etag }]), { code: 'InvalidArgument' })
      await t.rejects(box.completeMultipartUpload('mpu', 'k', uploadId, [{ partNumber: 2, etag: b.etag }, { partNumber: 3, etag: c.etag }]), { code: 'EntityTooSmall' })
      await t.rejects(box.completeMultipartUpload('mpu', 'k', uploadId, 'x' as never), TypeError)
      await t.rejects(box.createMultipartUpload('mpu', 'k', { checksumType: 'COMPOSITE' }), { code: 'InvalidRequest' })
      await t.rejects(box.createMultipartUpload('mpu', 'k', { checksumAlgorithm: 'SHA1', checksumType: 'FULL_OBJECT' }), { code: 'InvalidRequest' })
      await t.rejects(box.createMultipartUpload('mpu', 'k', { checksumAlgorithm: 'CRC32', checksumType: 'BOTH' as never }), { code: 'InvalidRequest' })
      await t.rejects(box.createMultipartUpload('mpu', 'k', { ifNoneMatch: '"x"' }), { code: 'InvalidArgument' })
      await t.rejects(box.headObject('mpu', 'k'), { code: 'NoSuchKey' }, 'failed completes make no object')
      const done = await box.completeMultipartUpload('mpu', 'k', uploadId, [{ partNumber: 1, etag: a.etag }, { partNumber: 3, etag: c.etag, checksums: { SHA256: c.checksums.SHA256 as string, CRC32: 'ignored' } }])
      t.equal(done.size, 300, 'a checksum the part never had is not held against it')
      t.same(done.checksums, {}, 'no object checksum without one declared at create')
    })

    t.test('create-time conditions and complete-time conditions are honoured', async t => {
      const box = await backend.open(t, { minPartSize: 0 })
      await box.createBucket('mpu')
      const guarded = await box.createMultipartUpload('mpu', 'once', { ifNoneMatch: '*' })
      const open = await box.createMultipartUpload('mpu', 'once')
      const g = await box.uploadPart('mpu', 'once', guarded.uploadId, 1, 'guarded')
      const o = await box.uploadPart('mpu', 'once', open.uploadId, 1, 'open')
      await box.completeMultipartUpload('mpu', 'once', open.uploadId, [{ partNumber: 1, etag: o.etag }])
      await t.rejects(box.completeMultipartUpload('mpu', 'once', guarded.uploadId, [{ partNumber: 1, etag: g.etag }]), { code: 'PreconditionFailed' })
      t.equal((await readAll((await box.getObject('mpu', 'once')).body)).toString(), 'open')
      const again = await box.createMultipartUpload('mpu', 'once')
      const a = await box.uploadPart('mpu', 'once', again.uploadId, 1, 'again')
      await t.rejects(box.completeMultipartUpload('mpu', 'once', again.uploadId, [{ partNumber: 1, etag: a.etag }], { ifNoneMatch: '*' }), { code: 'PreconditionFailed' })
      await t.rejects(box.completeMultipartUpload('mpu', 'once', again.uploadId, [{ partNumber: 1, etag: a.etag }], { ifMatch: '"other"' }), { code: 'PreconditionFailed' })
      const info = await box.headObject('mpu', 'once')
      await t.resolves(box.completeMultipartUpload('mpu', 'once', again.uploadId, [{ partNumber: 1, etag: a.etag }], { ifMatch: info.etag }))
    })

    t.test('uploadPartCopy takes a range or the whole of an object', async t => {
      const box = await backend.open(t, { chunkSize: 1000, minPartSize: 0 })
      await box.createBucket('mpu')
      const source = bytes(5000, 9)
      const put = await box.putObject('mpu', 'source', source)
      const { uploadId } = await box.createMultipartUpload('mpu', 'assembled', { checksumAlgorithm: 'CRC32C' })
      const c1 = await box.uploadPartCopy('mpu', 'assembled', uploadId, 1, 'mpu', 'source', { range: 'bytes=1000-2999', sourceIfMatch: put.etag })
      t.equal(c1.etag, `"${md5hex(source.subarray(1000, 3000))}"`)
      t.ok(c1.checksums.CRC32C, 'the upload\'s checksum is computed for copied parts too')
      const c2 = await box.uploadPartCopy('mpu', 'assembled', uploadId, 2, 'mpu', 'source')
      await t.rejects(box.uploadPartCopy('mpu', 'assembled', uploadId, 3, 'mpu', 'source', { range: 'bytes=0-5000' }), { code: 'InvalidRange' })
      await t.rejects(box.uploadPartCopy('mpu', 'assembled', uploadId, 3, 'mpu', 'source', { range: 'bytes=10-' }), { code: 'InvalidArgument' })
      await t.rejects(box.uploadPartCopy('mpu', 'assembled', uploadId, 3, 'mpu', 'source', { range: 'bytes=10-5' }), { code: 'InvalidArgument' })
      await t.rejects(box.uploadPartCopy('mpu', 'assembled', uploadId, 3, 'mpu', 'source', { sourceIfNoneMatch: put.etag }), { code: 'PreconditionFailed' })
      await t.rejects(box.uploadPartCopy('mpu', 'assembled', uploadId, 3, 'mpu', 'missing'), { code: 'NoSuchKey' })
      await t.rejects(box.uploadPartCopy('mpu', 'assembled', 'f'.repeat(24), 3, 'mpu', 'source'), { code: 'NoSuchUpload' })
      await box.completeMultipartUpload('mpu', 'assembled', uploadId, [{ partNumber: 1, etag: c1.etag }, { partNumber: 2, etag: c2.etag }])
      t.ok((await readAll((await box.getObject('mpu', 'assembled')).body)).equals(Buffer.concat([source.subarray(1000, 3000), source])))
      const copy = await box.copyObject('mpu', 'assembled', 'mpu', 'flat')
      t.equal(copy.etag, `"${md5hex(Buffer.concat([source.subarray(1000, 3000), source]))}"`, 'copying a multipart object gives a single-part ETag')
    })

    t.test('listParts and listMultipartUploads paginate with S3\'s markers', async t => {
      const box = await backend.open(t, { minPartSize: 0 })
      await box.createBucket('mpu')
      const { uploadId } = await box.createMultipartUpload('mpu', 'many')
      for (let n = 1; n <= 25; n++) await box.uploadPart('mpu', 'many', uploadId, n, `part ${n}`)
      const seen: number[] = []
      let marker = 0
      for (;;) {
        const page = await box.listParts('mpu', 'many', uploadId, { maxParts: 10, partNumberMarker: marker })
        seen.push(...page.parts.map(p => p.partNumber))
        if (!page.isTruncated) break
        marker = page.nextPartNumberMarker as number
      }
      t.same(seen, Array.from({ length: 25 }, (_, i) => i + 1))
      t.same((await box.listParts('mpu', 'many', uploadId, { maxParts: 0 })).parts, [])
      t.same((await box.listParts('mpu', 'many', uploadId, { partNumberMarker: 10_000 })).parts, [])
      await t.rejects(box.listParts('mpu', 'many', uploadId, { maxParts: -1 }), { code: 'InvalidArgument' })
      await t.rejects(box.listParts('mpu', 'many', uploadId, { partNumberMarker: -1 }), { code: 'InvalidArgument' })

      const ids = new Map<string, string[]>()
      for (const key of ['a/1', 'a/2', 'b', 'b', 'c/x/y', 'many']) {
        const { uploadId: id } = key === 'many' ? { uploadId } : await box.createMultipartUpload('mpu', key)
        ids.set(key, [...(ids.get(key) ?? []), id])
      }
      const all = await box.listMultipartUploads('mpu')
      t.same(all.uploads.map(u => [u.key, u.uploadId]), [
        ['a/1', ids.get('a/1')![0]], ['a/2', ids.get('a/2')![0]], ['b', ids.get('b')![0]], ['b', ids.get('b')![1]], ['c/x/y', ids.get('c/x/y')![0]], ['many', uploadId]
      ], 'by key, then by age')
      const rolled = await box.listMultipartUploads('mpu', { delimiter: '/' })
      t.same(rolled.commonPrefixes, ['a/', 'c/'])
      t.same(rolled.uploads.map(u => u.key), ['b', 'b', 'many'])
      t.same((await box.listMultipartUploads('mpu', { prefix: 'c/', delimiter: '/' })).commonPrefixes, ['c/x/'])
      const page1 = await box.listMultipartUploads('mpu', { maxUploads: 3 })
      t.equal(page1.isTruncated, true)
      t.equal(page1.nextKeyMarker, 'b')
      t.equal(page1.nextUploadIdMarker, ids.get('b')![0])
      const page2 = await box.listMultipartUploads('mpu', { keyMarker: page1.nextKeyMarker!, uploadIdMarker: page1.nextUploadIdMarker!, maxUploads: 3 })
      t.same(page2.uploads.map(u => u.key), ['b', 'c/x/y', 'many'])
      t.same((await box.listMultipartUploads('mpu', { keyMarker: 'b' })).uploads.map(u => u.key), ['c/x/y', 'many'], 'a key marker alone skips that key')
      t.same((await box.listMultipartUploads('mpu', { prefix: 'many' })).uploads.map(u => u.uploadId), [uploadId], 'minio-js finds its upload by prefix')
      const rolledPage = await box.listMultipartUploads('mpu', { delimiter: '/', maxUploads: 1 })
      t.same([rolledPage.commonPrefixes, rolledPage.nextKeyMarker, rolledPage.nextUploadIdMarker], [['a/'], 'a/', undefined])
      t.same((await box.listMultipartUploads('mpu', { delimiter: '/', keyMarker: 'a/' })).commonPrefixes, ['c/'])
      t.same((await box.listMultipartUploads('mpu', { maxUploads: 0 })).uploads, [])
      await t.rejects(box.listMultipartUploads('mpu', { maxUploads: 1.5 }), { code: 'InvalidArgument' })
      await t.rejects(box.listMultipartUploads('mpu', { keyMarker: 5 as never }), TypeError, 'a wrong type is a TypeError')
    })

    t.test('concurrent uploads to one key: the last complete wins, nothing torn; complete racing abort ends clean', async t => {
      const box = await backend.open(t, { chunkSize: 512, minPartSize: 1000 })
      await box.createBucket('mpu')
      const bodies: Buffer[][] = []
      const uploads = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
        const { uploadId } = await box.createMultipartUpload('mpu', 'k')
        const parts = [bytes(1500, i * 10 + 1), bytes(1200, i * 10 + 2), bytes(77, i * 10 + 3)]
        bodies[i] = parts
        const etags = await Promise.all(parts.map(async (part, n) => await box.uploadPart('mpu', 'k', uploadId, n + 1, pieces(part, 300))))
        return { uploadId, etags }
      }))
      const completions = await Promise.all(uploads.map(async ({ uploadId, etags }) =>
        await box.completeMultipartUpload('mpu', 'k', uploadId, etags.map((e, n) => ({ partNumber: n + 1, etag: e.etag })))))
      const got = await readAll((await box.getObject('mpu', 'k')).body)
      const winner = bodies.findIndex(parts => Buffer.concat(parts).equals(got))
      t.ok(winner >= 0, 'one upload\'s bytes, whole')
      t.equal((await box.headObject('mpu', 'k')).etag, completions[winner]?.etag)

      for (let round = 0; round < 10; round++) {
        const { uploadId } = await box.createMultipartUpload('mpu', `race${round}`)
        const part = await box.uploadPart('mpu', `race${round}`, uploadId, 1, 'only')
        const [complete, abort] = await Promise.allSettled([
          box.completeMultipartUpload('mpu', `race${round}`, uploadId, [{ partNumber: 1, etag: part.etag }]),
          box.abortMultipartUpload('mpu', `race${round}`, uploadId)
        ])
        t.ok((complete.status === 'fulfilled') !== (abort.status === 'fulfilled'), 'exactly one of complete and abort succeeds')
        const loser = (complete.status === 'rejected' ? complete : abort) as PromiseRejectedResult
        t.equal((loser.reason as SpaceboxError).code, 'NoSuchUpload')
        const exists = await box.headObject('mpu', `race${round}`).then(() => true, () => false)
        t.equal(exists, complete.status === 'fulfilled')
      }
      t.same((await box.listMultipartUploads('mpu')).uploads, [])
    })
  })
}

// These look inside the store, through a database the test keeps a handle on.
t.test('uploads stay out of listings, and abort leaves nothing', async t => {
  const db = new MemoryLevel()
  t.teardown(async () => { await db.close() })
  const box = await Spacebox.open({ db, chunkSize: 100, masterKey: Buffer.alloc(32) })
  t.teardown(async () => { await box.close() })
  const sub = openSublevels(db)
  await box.createBucket('mpu')
  const { uploadId } = await box.createMultipartUpload('mpu', 'k')
  await box.uploadPart('mpu', 'k', uploadId, 1, bytes(1000))
  await box.uploadPart('mpu', 'k', uploadId, 2, bytes(450))
  t.same((await box.listObjectsV2('mpu')).contents, [], 'not listed as an object')
  await t.rejects(box.headObject('mpu', 'k'), { code: 'NoSuchKey' })
  t.equal((await sub.chunks.keys().all()).length, 15)
  await box.abortMultipartUpload('mpu', 'k', uploadId)
  t.same(await sub.chunks.keys().all(), [], 'no chunk left')
  t.same(await sub.parts.keys().all(), [], 'no part record left')
  t.same(await sub.uploads.keys().all(), [], 'no upload record left')
  t.same(await sub.pending.keys().all(), [])
  await t.rejects(box.uploadPart('mpu', 'k', uploadId, 3, 'x'), { code: 'NoSuchUpload' })
  await box.deleteBucket('mpu')
})

t.test('completing frees unlisted parts and the replaced object, and copies no chunk', async t => {
  const db = new MemoryLevel()
  t.teardown(async () => { await db.close() })
  const box = await Spacebox.open({ db, chunkSize: 100, minPartSize: 0, masterKey: Buffer.alloc(32) })
  t.teardown(async () => { await box.close() })
  const sub = openSublevels(db)
  await box.createBucket('mpu')
  await box.putObject('mpu', 'k', bytes(1000))
  const { uploadId } = await box.createMultipartUpload('mpu', 'k')
  const p1 = await box.uploadPart('mpu', 'k', uploadId, 1, bytes(300))
  await box.uploadPart('mpu', 'k', uploadId, 2, bytes(300))
  const p3 = await box.uploadPart('mpu', 'k', uploadId, 3, bytes(300))
  const before = new Set(await sub.chunks.keys().all())
  t.equal(before.size, 10 + 9)
  await box.completeMultipartUpload('mpu', 'k', uploadId, [{ partNumber: 1, etag: p1.etag }, { partNumber: 3, etag: p3.etag }])
  const after = await sub.chunks.keys().all()
  t.equal(after.length, 6, 'only the listed parts\' chunks remain')
  t.ok(after.every(k => before.has(k)), 'the object points at the parts\' own chunks')
  t.same(await sub.parts.keys().all(), [])
})

t.test('a 200 MiB multipart upload checks out, ranges and all, with flat memory', async t => {
  const disk = backends.find(b => b.name === 'disk')!
  const box = await disk.open(t)
  await box.createBucket('big')
  const partSize = 8 * MiB
  const total = 200 * MiB + 12345
  const whole = createHash('md5')
  const memory = rssWatch()
  const { uploadId } = await box.createMultipartUpload('big', 'object')
  const parts = []
  for (let n = 1, sent = 0; sent < total; n++) {
    const size = Math.min(partSize, total - sent)
    const part = (async function * () {
      for (let i = 0; i < size; i += 64 * 1024) {
        const piece = Buffer.alloc(Math.min(64 * 1024, size - i), (n * 7 + i) & 0xff)
        whole.update(piece)
        memory.sample()
        yield piece
      }
    })()
    const { etag } = await box.uploadPart('big', 'object', uploadId, n, part)
    parts.push({ partNumber: n, etag })
    sent += size
  }
  const done = await box.completeMultipartUpload('big', 'object', uploadId, parts)
  t.equal(done.size, total)
  t.match(done.etag, /-26"$/)
  const read = createHash('md5')
  for await (const piece of (await box.getObject('big', 'object')).body) {
    read.update(piece as Buffer)
    memory.sample()
  }
  t.equal(read.digest('hex'), whole.digest('hex'))
  const range = await box.getObject('big', 'object', { range: `bytes=${partSize - 5}-${partSize + 4}` })
  t.same([...await readAll(range.body)], [...Buffer.alloc(5, (1 * 7 + partSize - 64 * 1024) & 0xff), ...Buffer.alloc(5, (2 * 7) & 0xff)], 'a range across the boundary of parts 1 and 2')
  const growth = memory.growthMiB()
  t.ok(growth < 64, `RSS grew ${growth.toFixed(1)} MiB`)
})
