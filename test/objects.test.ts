import t from 'tap'
import { Readable } from 'node:stream'
import { createHash } from 'node:crypto'
import { SpaceboxError } from '../lib/index.js'
import { backends, bytes, md5hex, pieces, readAll } from './helpers.js'

const ODD_KEYS = [
  'plain', 'dir/sub/file.txt', 'trailing/', '/leading', '..', '../up', 'a//b', 'with space', 'plus+sign', 'per%cent',
  '%2F', 'quote"s', 'amp&lt;', '<tag>', 'tab\tkey', 'new\nline', 'ünïcødé', '日本語/ファイル', '😀 emoji', '\u{10FFFF}',
  '007', '?query=1#hash', 'back\\slash', '*', 'x'.repeat(1024), 'é'.repeat(512)
]

for (const backend of backends) {
  t.test(`objects (${backend.name})`, async t => {
    t.test('putObject() then getObject() returns the bytes, ETag and headers', async t => {
      const box = await backend.open(t)
      await box.createBucket('docs')
      const put = await box.putObject('docs', 'hello.txt', 'hello')
      t.equal(put.etag, '"5d41402abc4b2a76b9719d911017c592"', 'ETag is the quoted hex MD5')
      t.equal(put.size, 5)
      const { info, body, range } = await box.getObject('docs', 'hello.txt')
      t.equal((await readAll(body)).toString(), 'hello')
      t.equal(range, undefined)
      t.equal(info.etag, put.etag)
      t.equal(info.size, 5)
      t.equal(info.contentType, 'text/plain', 'content type looked up from the extension')
      t.equal(info.storageClass, 'STANDARD')
      t.same(info.lastModified, put.lastModified)
      t.same(await box.headObject('docs', 'hello.txt'), info)
    })

    t.test('bodies may be Buffers, Uint8Arrays, strings, Readables and async iterables', async t => {
      const box = await backend.open(t, { chunkSize: 1024, inlineThreshold: 100 })
      await box.createBucket('docs')
      const data = bytes(5000)
      const forms: Array<[string, unknown]> = [
        ['buffer', data],
        ['uint8array', new Uint8Array(data)],
        ['readable', Readable.from(pieces(data, 333))],
        ['iterable', pieces(data, 4096)],
        ['strings', (async function * () { yield data.toString('latin1').slice(0, 0); yield * pieces(data, 700) })()]
      ]
      for (const [name, body] of forms) {
        const put = await box.putObject('docs', name, body as Buffer)
        t.equal(put.etag, `"${md5hex(data)}"`, name)
        t.ok((await readAll((await box.getObject('docs', name)).body)).equals(data), name)
      }
      await box.putObject('docs', 'text', 'héllo wörld')
      t.equal((await readAll((await box.getObject('docs', 'text')).body)).toString(), 'héllo wörld')
      const textStream = Readable.from(['ab', 'cd'], { objectMode: true })
      await box.putObject('docs', 'text-stream', textStream)
      t.equal((await readAll((await box.getObject('docs', 'text-stream')).body)).toString(), 'abcd')
      await t.rejects(box.putObject('docs', 'bad', 42 as unknown as string), TypeError)
      await t.rejects(box.putObject('docs', 'bad', Readable.from([{ not: 'bytes' }])), TypeError)
      await t.rejects(box.headObject('docs', 'bad'), { code: 'NoSuchKey' }, 'a refused body stores nothing')
    })

    t.test('empty objects store and read back as zero bytes', async t => {
      const box = await backend.open(t)
      await box.createBucket('docs')
      const put = await box.putObject('docs', 'empty', Buffer.alloc(0))
      t.equal(put.etag, '"d41d8cd98f00b204e9800998ecf8427e"')
      const { info, body } = await box.getObject('docs', 'empty')
      t.equal(info.size, 0)
      t.equal((await readAll(body)).length, 0)
      await box.putObject('docs', 'empty-stream', Readable.from([]))
      t.equal((await box.headObject('docs', 'empty-stream')).size, 0)
    })

    t.test('objects on both sides of the inline threshold and chunk boundaries round-trip', async t => {
      const box = await backend.open(t, { chunkSize: 1024, inlineThreshold: 512 })
      await box.createBucket('docs')
      for (const size of [1, 511, 512, 513, 1023, 1024, 1025, 2048, 4097]) {
        const data = bytes(size, size)
        await box.putObject('docs', `k${size}`, pieces(data, 100))
        const { info, body } = await box.getObject('docs', `k${size}`)
        t.equal(info.size, size)
        t.equal(info.etag, `"${md5hex(data)}"`)
        t.ok((await readAll(body)).equals(data), `${size} bytes`)
      }
    })

    t.test('odd keys are stored and read back exactly', async t => {
      const box = await backend.open(t)
      await box.createBucket('keys')
      for (const key of ODD_KEYS) {
        await box.putObject('keys', key, key)
        t.equal((await readAll((await box.getObject('keys', key)).body)).toString(), key, JSON.stringify(key.slice(0, 20)))
      }
      for (const key of ODD_KEYS) t.equal((await box.headObject('keys', key)).key, key)
    })

    t.test('invalid keys are refused with KeyTooLongError or InvalidArgument', async t => {
      const box = await backend.open(t)
      await box.createBucket('keys')
      await t.rejects(box.putObject('keys', 'x'.repeat(1025), 'v'), { code: 'KeyTooLongError' })
      await t.rejects(box.putObject('keys', 'é'.repeat(513), 'v'), { code: 'KeyTooLongError' }, '1026 UTF-8 bytes')
      await t.rejects(box.putObject('keys', '', 'v'), { code: 'InvalidArgument' })
      await t.rejects(box.putObject('keys', '\ud800lone', 'v'), { code: 'InvalidArgument' })
      await t.rejects(box.putObject('keys', 'nul\0byte', 'v'), { code: 'InvalidArgument' })
      await t.rejects(box.getObject('keys', 'x'.repeat(1025)), { code: 'KeyTooLongError' })
      await t.rejects(box.putObject('keys', 7 as unknown as string, 'v'), { code: 'InvalidArgument' })
    })

    t.test('headers and user metadata are stored and returned', async t => {
      const box = await backend.open(t)
      await box.createBucket('docs')
      const expires = new Date('2030-01-01T00:00:00Z')
      await box.putObject('docs', 'page', '<p>hi</p>', {
        contentType: 'text/html; charset=utf-8',
        contentEncoding: 'identity',
        contentDisposition: 'attachment; filename="page.html"',
        contentLanguage: 'en-GB',
        cacheControl: 'max-age=60',
        expires,
        metadata: { Author: 'Ada', 'x-Trace': 'é ü' }
      })
      const info = await box.headObject('docs', 'page')
      t.equal(info.contentType, 'text/html; charset=utf-8')
      t.equal(info.contentEncoding, 'identity')
      t.equal(info.contentDisposition, 'attachment; filename="page.html"')
      t.equal(info.contentLanguage, 'en-GB')
      t.equal(info.cacheControl, 'max-age=60')
      t.equal(info.expires, expires.toUTCString())
      t.same(info.metadata, { author: 'Ada', 'x-trace': 'é ü' }, 'names lower-cased')
      await box.putObject('docs', 'exp', 'x', { expires: 'Thu, 01 Dec 1994 16:00:00 GMT' })
      t.equal((await box.headObject('docs', 'exp')).expires, 'Thu, 01 Dec 1994 16:00:00 GMT')
    })

    t.test('content types fall back to the extension, then application/octet-stream', async t => {
      const box = await backend.open(t)
      await box.createBucket('docs')
      const cases: Array<[string, string]> = [['a.json', 'application/json'], ['b.PNG', 'image/png'], ['c.tar.gz', 'application/gzip'],
        ['noext', 'application/octet-stream'], ['dir/', 'application/octet-stream'], ['.hidden', 'application/octet-stream']]
      for (const [key, type] of cases) {
        await box.putObject('docs', key, 'x')
        t.equal((await box.headObject('docs', key)).contentType, type, key)
      }
    })

    t.test('metadata over 2 KB rejects with MetadataTooLarge; bad names and values with InvalidArgument', async t => {
      const box = await backend.open(t)
      await box.createBucket('docs')
      await box.putObject('docs', 'edge', 'x', { metadata: { k: 'v'.repeat(2047) } })
      await t.rejects(box.putObject('docs', 'big', 'x', { metadata: { k: 'v'.repeat(2048) } }), { code: 'MetadataTooLarge' })
      await t.rejects(box.putObject('docs', 'big', 'x', { metadata: { k: 'é'.repeat(1024) } }), { code: 'MetadataTooLarge' }, 'counted in UTF-8 bytes')
      await t.rejects(box.putObject('docs', 'bad', 'x', { metadata: { 'bad name': 'v' } }), { code: 'InvalidArgument' })
      await t.rejects(box.putObject('docs', 'bad', 'x', { metadata: { name: 'line\r\nbreak' } }), { code: 'InvalidArgument' })
      await t.rejects(box.putObject('docs', 'bad', 'x', { contentType: 'text/plain\n' }), { code: 'InvalidArgument' })
      await t.rejects(box.putObject('docs', 'bad', 'x', { metadata: { n: 5 as unknown as string } }), { code: 'InvalidArgument' })
      await t.rejects(box.headObject('docs', 'big'), { code: 'NoSuchKey' })
      await t.rejects(box.headObject('docs', 'bad'), { code: 'NoSuchKey' })
    })

    t.test('Content-MD5 and checksums are verified, stored and returned', async t => {
      const box = await backend.open(t, { chunkSize: 1024, inlineThreshold: 256 })
      await box.createBucket('sums')
      const data = Buffer.from('123456789')
      const expected = { CRC32: 'y/Q5Jg==', CRC32C: '4waSgw==', CRC64NVME: 'rosUhgp5mIg=', SHA1: '98O8HYCOBHMq32eZZczDTKeuNEE=', SHA256: 'FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=' }
      const md5 = createHash('md5').update(data).digest('base64')
      const put = await box.putObject('sums', 'all', data, { contentMD5: md5, checksums: expected })
      t.same(put.checksums, expected)
      t.same((await box.headObject('sums', 'all')).checksums, expected)
      for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
        const r = await box.putObject('sums', `ask-${algorithm}`, data, { checksumAlgorithm: algorithm })
        t.same(r.checksums, { [algorithm]: expected[algorithm] }, `computes ${algorithm} when asked`)
      }
      const big = bytes(10_000)
      const crc = (await box.putObject('sums', 'big', pieces(big, 777), { checksumAlgorithm: 'CRC32C' })).checksums.CRC32C as string
      t.same((await box.putObject('sums', 'big2', big, { checksums: { CRC32C: crc } })).checksums, { CRC32C: crc }, 'streamed CRC32C equals one-shot CRC32C')
      await t.rejects(box.putObject('sums', 'bad', data, { contentMD5: createHash('md5').update('other').digest('base64') }), { code: 'BadDigest' })
      await t.rejects(box.putObject('sums', 'bad', data, { checksums: { CRC32: 'AAAAAA==' } }), { code: 'BadDigest' })
      await t.rejects(box.putObject('sums', 'bad', big, { checksums: { SHA256: expected.SHA256 } }), { code: 'BadDigest' }, 'chunked body with a wrong digest')
      await t.rejects(box.putObject('sums', 'bad', data, { contentMD5: 'not base64!' }), { code: 'InvalidDigest' })
      await t.rejects(box.putObject('sums', 'bad', data, { contentMD5: 'AAAA' }), { code: 'InvalidDigest' }, 'wrong length')
      await t.rejects(box.putObject('sums', 'bad', data, { checksums: { CRC32: 'AAAA' } }), { code: 'InvalidRequest' })
      await t.rejects(box.putObject('sums', 'bad', data, { checksums: { MD4: 'AAAAAA==' } as never }), { code: 'InvalidRequest' })
      await t.rejects(box.putObject('sums', 'bad', data, { checksumAlgorithm: 'MD4' as never }), { code: 'InvalidRequest' })
      await t.rejects(box.headObject('sums', 'bad'), { code: 'NoSuchKey' }, 'nothing stored by a failed put')
    })

    t.test('contentLength that the body does not match rejects with IncompleteBody and stores nothing', async t => {
      const box = await backend.open(t, { chunkSize: 1024, inlineThreshold: 0 })
      await box.createBucket('docs')
      await t.rejects(box.putObject('docs', 'short', bytes(3000), { contentLength: 4000 }), { code: 'IncompleteBody' })
      await t.rejects(box.putObject('docs', 'long', bytes(3000), { contentLength: 10 }), { code: 'IncompleteBody' })
      await t.rejects(box.headObject('docs', 'short'), { code: 'NoSuchKey' })
      t.equal((await box.putObject('docs', 'exact', bytes(3000), { contentLength: 3000 })).size, 3000)
    })

    t.test('objects above maxObjectSize reject with EntityTooLarge and leave nothing', async t => {
      const box = await backend.open(t, { chunkSize: 1024, maxObjectSize: 4096 })
      await box.createBucket('docs')
      t.equal((await box.putObject('docs', 'edge', bytes(4096))).size, 4096)
      await t.rejects(box.putObject('docs', 'over', pieces(bytes(10_000), 1000)), { code: 'EntityTooLarge' })
      await t.rejects(box.headObject('docs', 'over'), { code: 'NoSuchKey' })
      let read = false
      const watched = (async function * () { read = true; yield bytes(10) })()
      await t.rejects(box.putObject('docs', 'declared', watched, { contentLength: 4097 }), { code: 'EntityTooLarge', detail: { proposedSize: 4097 } })
      t.notOk(read, 'a declared length over the limit is refused before a byte is read')
    })

    t.test('a body stream that fails stores nothing and leaves the old object in place', async t => {
      const box = await backend.open(t, { chunkSize: 1024, inlineThreshold: 0 })
      await box.createBucket('docs')
      await box.putObject('docs', 'k', 'original')
      const failing = (async function * () { yield bytes(5000); throw new Error('client went away') })()
      await t.rejects(box.putObject('docs', 'k', failing), { message: 'client went away' })
      t.equal((await readAll((await box.getObject('docs', 'k')).body)).toString(), 'original')
    })

    t.test('putObject() overwrites; deleteObject() removes; deleting a missing key succeeds', async t => {
      const box = await backend.open(t, { chunkSize: 1024, inlineThreshold: 100 })
      await box.createBucket('docs')
      await box.putObject('docs', 'k', bytes(5000, 1))
      await box.putObject('docs', 'k', 'small now')
      t.equal((await readAll((await box.getObject('docs', 'k')).body)).toString(), 'small now')
      await box.putObject('docs', 'k', bytes(3000, 2))
      t.ok((await readAll((await box.getObject('docs', 'k')).body)).equals(bytes(3000, 2)))
      await box.deleteObject('docs', 'k')
      await t.rejects(box.getObject('docs', 'k'), { code: 'NoSuchKey', bucket: 'docs', key: 'k' })
      await t.resolves(box.deleteObject('docs', 'k'))
      await t.resolves(box.deleteObject('docs', 'never-existed'))
    })

    t.test('deleteObjects() reports a result per key, up to 1000 keys', async t => {
      const box = await backend.open(t)
      await box.createBucket('docs')
      for (const key of ['a', 'b', 'c']) await box.putObject('docs', key, key)
      const result = await box.deleteObjects('docs', ['a', 'c', 'missing', 'x'.repeat(1025)])
      t.same(result.deleted, [{ key: 'a' }, { key: 'c' }, { key: 'missing' }])
      t.equal(result.errors.length, 1)
      t.equal(result.errors[0]?.code, 'KeyTooLongError')
      await t.rejects(box.headObject('docs', 'a'), { code: 'NoSuchKey' })
      t.equal((await box.headObject('docs', 'b')).size, 1)
      t.same(await box.deleteObjects('docs', []), { deleted: [], errors: [] })
      await t.rejects(box.deleteObjects('docs', Array.from({ length: 1001 }, (_, i) => `k${i}`)), { code: 'InvalidArgument' })
      await t.rejects(box.deleteObjects('docs', 'a' as unknown as string[]), TypeError)
      const many = Array.from({ length: 1000 }, (_, i) => `k${i}`)
      t.equal((await box.deleteObjects('docs', many)).deleted.length, 1000)
    })

    t.test('errors are SpaceboxErrors with a code, the bucket and the key', async t => {
      const box = await backend.open(t)
      await box.createBucket('docs')
      const err = await box.getObject('docs', 'nope').catch((e: unknown) => e)
      t.ok(err instanceof SpaceboxError)
      t.match(err, { name: 'SpaceboxError', code: 'NoSuchKey', bucket: 'docs', key: 'nope' })
    })
  })
}
