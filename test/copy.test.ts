import t from 'tap'
import { backends, bytes, md5hex, readAll } from './helpers.js'

for (const backend of backends) {
  t.test(`copyObject (${backend.name})`, async t => {
    t.test('copies bytes, ETag, headers and metadata within and across buckets', async t => {
      const box = await backend.open(t, { chunkSize: 1024, inlineThreshold: 100 })
      await box.createBucket('src')
      await box.createBucket('dst')
      for (const [key, data] of [['small', Buffer.from('tiny')], ['chunked', bytes(5000)]] as const) {
        const put = await box.putObject('src', key, data, { contentType: 'text/x-test', cacheControl: 'no-cache', metadata: { a: '1' }, checksumAlgorithm: 'CRC32' })
        for (const [bucket, dstKey] of [['src', `${key}-copy`], ['dst', key]] as const) {
          const copy = await box.copyObject('src', key, bucket, dstKey)
          t.equal(copy.etag, put.etag, `${key} -> ${bucket}: ETag carried over`)
          t.same(copy.checksums, put.checksums)
          const { info, body } = await box.getObject(bucket, dstKey)
          t.ok((await readAll(body)).equals(data))
          t.equal(info.contentType, 'text/x-test')
          t.equal(info.cacheControl, 'no-cache')
          t.same(info.metadata, { a: '1' })
          t.ok(info.lastModified.getTime() >= put.lastModified.getTime())
        }
      }
      await box.deleteObject('src', 'chunked')
      t.ok((await readAll((await box.getObject('dst', 'chunked')).body)).equals(bytes(5000)), 'the copy is independent of its source')
    })

    t.test('REPLACE takes headers and metadata from the request; a self-copy needs it', async t => {
      const box = await backend.open(t)
      await box.createBucket('src')
      await box.putObject('src', 'doc.txt', 'text', { metadata: { old: 'yes' }, contentLanguage: 'en' })
      await t.rejects(box.copyObject('src', 'doc.txt', 'src', 'doc.txt'), { code: 'InvalidRequest' })
      await t.rejects(box.copyObject('src', 'doc.txt', 'src', 'doc.txt', { metadataDirective: 'COPY' }), { code: 'InvalidRequest' })
      await box.copyObject('src', 'doc.txt', 'src', 'doc.txt', { metadataDirective: 'REPLACE', metadata: { fresh: 'yes' } })
      const info = await box.headObject('src', 'doc.txt')
      t.same(info.metadata, { fresh: 'yes' })
      t.equal(info.contentLanguage, undefined)
      t.equal(info.contentType, 'text/plain', 'type looked up again for the destination key')
      t.equal((await readAll((await box.getObject('src', 'doc.txt')).body)).toString(), 'text')
      await box.copyObject('src', 'doc.txt', 'src', 'other', { metadata: { ignored: 'yes' } })
      t.same((await box.headObject('src', 'other')).metadata, { fresh: 'yes' }, 'COPY ignores request metadata')
      await t.rejects(box.copyObject('src', 'doc.txt', 'src', 'x', { metadataDirective: 'MERGE' as never }), { code: 'InvalidArgument' })
      await t.rejects(box.copyObject('src', 'doc.txt', 'src', 'x', { metadataDirective: 'REPLACE', metadata: { k: 'v'.repeat(3000) } }), { code: 'MetadataTooLarge' })
    })

    t.test('copy-source conditionals reject with PreconditionFailed', async t => {
      const box = await backend.open(t)
      await box.createBucket('src')
      const { etag, lastModified } = await box.putObject('src', 'k', 'v')
      const past = new Date(lastModified.getTime() - 60_000)
      const future = new Date(lastModified.getTime() + 60_000)
      await t.resolves(box.copyObject('src', 'k', 'src', 'a', { sourceIfMatch: etag }))
      await t.resolves(box.copyObject('src', 'k', 'src', 'b', { sourceIfNoneMatch: '"other"', sourceIfModifiedSince: past }))
      await t.resolves(box.copyObject('src', 'k', 'src', 'c', { sourceIfUnmodifiedSince: future }))
      await t.rejects(box.copyObject('src', 'k', 'src', 'd', { sourceIfMatch: '"other"' }), { code: 'PreconditionFailed' })
      await t.rejects(box.copyObject('src', 'k', 'src', 'd', { sourceIfNoneMatch: etag }), { code: 'PreconditionFailed' })
      await t.rejects(box.copyObject('src', 'k', 'src', 'd', { sourceIfModifiedSince: future }), { code: 'PreconditionFailed' })
      await t.rejects(box.copyObject('src', 'k', 'src', 'd', { sourceIfUnmodifiedSince: past }), { code: 'PreconditionFailed' })
      await t.rejects(box.headObject('src', 'd'), { code: 'NoSuchKey' })
    })

    t.test('destination write conditions and missing sources', async t => {
      const box = await backend.open(t, { chunkSize: 1024, inlineThreshold: 0 })
      await box.createBucket('src')
      await box.putObject('src', 'k', bytes(3000))
      await box.putObject('src', 'taken', 'x')
      await t.rejects(box.copyObject('src', 'k', 'src', 'taken', { ifNoneMatch: '*' }), { code: 'PreconditionFailed' })
      t.equal((await box.headObject('src', 'taken')).size, 1, 'destination untouched')
      await t.resolves(box.copyObject('src', 'k', 'src', 'free', { ifNoneMatch: '*' }))
      await t.rejects(box.copyObject('src', 'missing', 'src', 'x'), { code: 'NoSuchKey', key: 'missing' })
      await t.rejects(box.copyObject('nope', 'k', 'src', 'x'), { code: 'NoSuchBucket' })
      await t.rejects(box.copyObject('src', 'k', 'nope', 'x'), { code: 'NoSuchBucket' })
    })

    t.test('a source larger than maxObjectSize cannot be copied', async t => {
      const box = await backend.open(t, { chunkSize: 1024, maxObjectSize: 8192 })
      await box.createBucket('src')
      await box.putObject('src', 'k', bytes(8192))
      t.equal(md5hex(await readAll((await box.getObject('src', 'k')).body)), md5hex(bytes(8192)))
      await t.resolves(box.copyObject('src', 'k', 'src', 'ok'))
    })
  })
}
