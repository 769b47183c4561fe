import t from 'tap'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { mirror, Spacebox, storeEndpoint, type MirrorEndpoint, type MirrorEvent, type ObjectInfo } from '../lib/index.js'
import { Faults, s3Endpoint, type S3ClientError } from '../lib/s3/index.js'
import { bytes, readAll, tempDir } from './helpers.js'
import { serve } from './s3/helpers.js'

type Tap = Parameters<typeof tempDir>[0]

async function store (t: Tap): Promise<Spacebox> {
  const box = await Spacebox.open({ location: await tempDir(t) })
  t.teardown(async () => { await box.close() })
  return box
}

/** A bucket with what a copy must keep: headers, metadata, checksums, classes, odd keys, an empty object and a multipart one. */
async function fill (box: Spacebox, bucket = 'photos'): Promise<void> {
  await box.createBucket(bucket)
  await box.putObject(bucket, 'a/one.txt', 'one', {
    contentType: 'text/plain; charset=utf-8',
    cacheControl: 'max-age=60',
    contentDisposition: 'attachment; filename="one.txt"',
    contentEncoding: 'identity',
    contentLanguage: 'en',
    expires: 'Wed, 21 Oct 2037 07:28:00 GMT',
    metadata: { colour: 'blue', greeting: 'grüße' },
    checksumAlgorithm: 'CRC32C',
    storageClass: 'REDUCED_REDUNDANCY'
  })
  await box.putObject(bucket, 'a/empty', '')
  await box.putObject(bucket, 'b/ key with spaces+plus%25 & <xml>.bin', bytes(70_000, 3), { checksumAlgorithm: 'SHA256' })
  await box.putObject(bucket, 'b/ünï/çødé 🙂.jpg', bytes(300_000, 4), { contentType: 'image/jpeg' })
  const upload = await box.createMultipartUpload(bucket, 'big/parts.bin', { contentType: 'application/x-parts', metadata: { made: 'in parts' } })
  const parts = []
  for (const [i, size] of [5 * 1024 * 1024, 5 * 1024 * 1024 + 17, 1234].entries()) {
    parts.push({ partNumber: i + 1, etag: (await box.uploadPart(bucket, 'big/parts.bin', upload.uploadId, i + 1, bytes(size, 10 + i))).etag })
  }
  await box.completeMultipartUpload(bucket, 'big/parts.bin', upload.uploadId, parts)
}

/** What a copy must keep of an object, and its bytes' digest. */
async function describe (box: Spacebox, bucket: string, key: string, versionId?: string): Promise<Record<string, unknown>> {
  const { info, body } = await box.getObject(bucket, key, versionId === undefined ? {} : { versionId })
  const data = await readAll(body)
  return { ...kept(info), bytes: data.length > 150 ? createHash('sha256').update(data).digest('hex') : data.toString('base64') }
}

function kept (info: ObjectInfo): Record<string, unknown> {
  const { key, size, etag, contentType, contentEncoding, contentDisposition, contentLanguage, cacheControl, expires, metadata, checksums, storageClass, partsCount } = info
  return { key, size, etag, contentType, contentEncoding, contentDisposition, contentLanguage, cacheControl, expires, metadata, checksums, storageClass, partsCount }
}

async function contents (box: Spacebox, bucket: string): Promise<Array<Record<string, unknown>>> {
  const out = []
  for await (const o of box.listAll(bucket)) out.push(await describe(box, bucket, o.key))
  return out
}

function endpointOf (served: Awaited<ReturnType<typeof serve>>): MirrorEndpoint {
  return s3Endpoint({ endpoint: served.server.url, ...served.credentials })
}

t.test('store → spacebox server → store: every object as it was, and a second run copies nothing', async t => {
  const source = await store(t)
  await fill(source)
  const middle = await serve(t, { open: { location: await tempDir(t) } })
  const events: MirrorEvent[] = []
  const out = await source.mirrorTo(endpointOf(middle), { onEvent: e => { if (e.type !== 'data') events.push(e) } })
  t.same({ copied: out.copied, unchanged: out.unchanged, failed: out.failed, skipped: out.skipped }, { copied: 5, unchanged: 0, failed: [], skipped: [] })
  t.equal(out.bytes, 3 + 70_000 + 300_000 + 10 * 1024 * 1024 + 17 + 1234)
  t.same(events.find(e => e.type === 'plan'), { type: 'plan', bucket: 'photos', objects: 5, bytes: out.bytes })

  const back = await store(t)
  const home = await back.mirrorFrom(endpointOf(middle))
  t.equal(home.copied, 5)
  const expected = await contents(source, 'photos')
  t.same(await contents(middle.box, 'photos'), expected, 'the server holds the same objects, headers, metadata and checksums')
  t.same(await contents(back, 'photos'), expected, 'and so does the store copied back')
  t.equal((await back.headObject('photos', 'big/parts.bin')).etag, (await source.headObject('photos', 'big/parts.bin')).etag, 'the multipart ETag, part for part')
  const { range: part, body } = await back.getObject('photos', 'big/parts.bin', { partNumber: 2 })
  body.destroy()
  t.equal(part === undefined ? 0 : part.end - part.start + 1, 5 * 1024 * 1024 + 17, 'part 2 as it was')

  const again = await source.mirrorTo(endpointOf(middle))
  t.same({ copied: again.copied, unchanged: again.unchanged, bytes: again.bytes }, { copied: 0, unchanged: 5, bytes: 0 }, 'nothing changed, nothing copied')
})

t.test('only what changed is copied; --delete removes what the source no longer has; prefixes map', async t => {
  const source = await store(t)
  await fill(source)
  const target = await store(t)
  await source.mirrorTo(target)
  await source.putObject('photos', 'a/one.txt', 'changed')
  await source.deleteObject('photos', 'a/empty')
  await source.putObject('photos', 'a/new', 'new')

  const kept = await source.mirrorTo(target)
  t.same([kept.copied, kept.unchanged, kept.deleted], [2, 3, 0])
  t.ok(await target.headObject('photos', 'a/empty'), 'without delete, what the source lost stays')
  const pruned = await source.mirrorTo(target, { delete: true })
  t.same([pruned.copied, pruned.unchanged, pruned.deleted], [0, 5, 1])
  await t.rejects(target.headObject('photos', 'a/empty'), { code: 'NoSuchKey' })
  t.same(await contents(target, 'photos'), await contents(source, 'photos'))

  const moved = await source.mirrorTo(target, { bucket: 'photos', prefix: 'a/', targetBucket: 'archive', targetPrefix: 'old/a-' })
  t.equal(moved.copied, 2)
  t.same((await target.listObjectsV2('archive')).contents.map(o => o.key), ['old/a-new', 'old/a-one.txt'])
  t.equal((await target.headObject('archive', 'old/a-one.txt')).etag, (await source.headObject('photos', 'a/one.txt')).etag)
})

t.test('an interrupted mirror resumes: what arrived is left, the rest is copied, and no upload is left behind', async t => {
  const source = await store(t)
  await source.createBucket('many')
  for (let i = 0; i < 40; i++) await source.putObject('many', `k${String(i).padStart(2, '0')}`, bytes(10_000 + i, i))
  const target = await store(t)
  const stop = new AbortController()
  let copied = 0
  await t.rejects(source.mirrorTo(target, {
    concurrency: 2,
    signal: stop.signal,
    onEvent: e => { if (e.type === 'copied' && ++copied === 15) stop.abort() }
  }), { name: 'AbortError' })
  const arrived = (await target.listObjectsV2('many')).keyCount
  t.ok(arrived >= 15 && arrived < 40, `cut part way (${arrived} of 40)`)
  const resumed = await source.mirrorTo(target)
  t.equal(resumed.unchanged, arrived)
  t.equal(resumed.copied, 40 - arrived)
  t.same(await contents(target, 'many'), await contents(source, 'many'))
  t.same((await target.listMultipartUploads('many')).uploads, [])
})

t.test('versions: every version and delete marker in order, into a versioned bucket; a second run adds only the new', async t => {
  const source = await store(t)
  await source.createBucket('docs')
  await source.putBucketVersioning('docs', 'Enabled')
  await source.putObject('docs', 'report', 'v1')
  await source.putObject('docs', 'report', 'version two', { metadata: { rev: '2' } })
  await source.deleteObject('docs', 'report')
  await source.putObject('docs', 'report', 'v3')
  await source.putObject('docs', 'gone', 'soon')
  await source.deleteObject('docs', 'gone')
  const middle = await serve(t, { open: { location: await tempDir(t) } })
  const out = await source.mirrorTo(endpointOf(middle), { versions: true })
  t.same([out.copied, out.failed.length], [6, 0])
  const shape = async (box: Spacebox): Promise<unknown[]> => {
    const out = []
    for await (const v of box.listAllVersions('docs')) {
      out.push(v.deleteMarker ? [v.key, 'marker', v.isLatest] : [v.key, v.etag, v.size, v.isLatest, (await box.headObject('docs', v.key, { versionId: v.versionId })).metadata])
    }
    return out
  }
  const expected = await shape(source)
  t.same(await shape(middle.box), expected, 'the same history, newest first')
  t.equal((await middle.box.getBucketVersioning('docs')).status, 'Enabled')

  await source.putObject('docs', 'report', 'v4')
  const back = await store(t)
  await back.mirrorFrom(endpointOf(middle), { versions: true })
  const again = await source.mirrorTo(endpointOf(middle), { versions: true })
  t.same([again.copied, again.unchanged], [1, 6], 'the one new version')
  await back.mirrorFrom(endpointOf(middle), { versions: true })
  t.same(await shape(back), await shape(source), 'and back, in two runs, the same history')
})

t.test('encrypted objects are copied only when asked; SSE-C ones are listed, never dropped in silence', async t => {
  const source = await store(t)
  await source.createBucket('secret')
  await source.putBucketEncryption('secret', { algorithm: 'AES256' })
  await source.putObject('secret', 'sealed', 'sealed bytes')
  const customerKey = { key: bytes(32, 9) }
  await source.putObject('secret', 'customer', 'theirs', { customerKey })
  const target = await store(t)
  const plain = await source.mirrorTo(target)
  t.same(plain.skipped.map(s => [s.key, s.reason]).sort(), [['customer', 'sse-c'], ['sealed', 'encrypted']])
  t.equal(plain.copied, 0)
  await target.putBucketEncryption('secret', { algorithm: 'AES256' })
  const asked = await source.mirrorTo(target, { decrypt: true })
  t.same([asked.copied, asked.skipped.map(s => s.key)], [1, ['customer']])
  const copy = await target.getObject('secret', 'sealed')
  t.equal((await readAll(copy.body)).toString(), 'sealed bytes')
  t.equal(copy.info.serverSideEncryption, 'AES256', 'encrypted again under the target bucket\'s settings')
})

t.test('a failure of one object is reported and the rest go on; a key without the grant is refused', async t => {
  const source = await store(t)
  await fill(source)
  const middle = await serve(t)
  const reader = await middle.keyed([{ bucket: 'photos', permission: 'read' }])
  await middle.box.createBucket('photos')
  const out = await source.mirrorTo(s3Endpoint({ endpoint: middle.server.url, accessKeyId: reader.accessKeyId, secretAccessKey: reader.secretAccessKey }))
  t.equal(out.copied, 0)
  t.equal(out.failed.length, 5)
  t.same([...new Set(out.failed.map(f => f.code))], ['AccessDenied'])
  t.equal((await middle.box.listObjectsV2('photos')).keyCount, 0, 'nothing written')
  const wrong = s3Endpoint({ endpoint: middle.server.url, accessKeyId: middle.credentials.accessKeyId, secretAccessKey: 'not the secret' })
  const refused = await wrong.listBuckets().catch((err: S3ClientError) => err)
  t.match(refused, { code: 'SignatureDoesNotMatch', statusCode: 403 })
  t.throws(() => s3Endpoint({ endpoint: 'ftp://x', accessKeyId: 'a', secretAccessKey: 'b' }), TypeError)
  await t.rejects(source.mirrorTo(middle.box, { concurrency: 0 }), RangeError)
})

t.test('store → s3rver → store', async t => {
  const require = createRequire(import.meta.url)
  const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run: () => Promise<{ port: number }>, close: () => Promise<void> }
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: await tempDir(t) })
  const { port } = await s3rver.run()
  t.teardown(async () => { await s3rver.close() })
  const endpoint = s3Endpoint({ endpoint: `http://127.0.0.1:${port}`, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' })
  const source = await store(t)
  await fill(source)
  const out = await source.mirrorTo(endpoint)
  t.same([out.copied, out.failed], [5, []])
  const back = await store(t)
  const home = await back.mirrorFrom(endpoint)
  t.same([home.copied, home.failed], [5, []])
  const expected = await contents(source, 'photos')
  const got = await contents(back, 'photos')
  // s3rver keeps no storage class or checksum, and makes a multipart object's ETag the MD5 of its
  // bytes (not S3's MD5 of the parts' MD5s); everything else comes back as it was.
  const strip = (list: Array<Record<string, unknown>>): unknown[] => list.map(({ storageClass, checksums, ...rest }) =>
    rest.key === 'big/parts.bin' ? { ...rest, etag: undefined } : rest)
  t.same(strip(got), strip(expected))
  const again = await source.mirrorTo(endpoint)
  t.same([again.copied, again.unchanged], [1, 4], 'only the multipart object, whose ETag s3rver makes otherwise, is copied again')
})

t.test('over a flaky connection: requests without a body are retried; an object cut short fails alone, and the next run copies it', async t => {
  const faults = new Faults(7)
  const middle = await serve(t, { open: { location: await tempDir(t) }, server: { faults } })
  const source = await store(t)
  await source.createBucket('flaky')
  for (let i = 0; i < 6; i++) await source.putObject('flaky', `k${i}`, bytes(150_000, i))
  await source.mirrorTo(endpointOf(middle))
  faults.add({ operation: 'ListObjectsV2', error: 'SlowDown', times: 2 })
  faults.add({ operation: 'HeadObject', resetConnection: true, times: 1 })
  faults.add({ operation: 'GetObject', key: 'k2', truncateBody: true, times: 1 })
  faults.add({ operation: 'GetObject', key: 'k4', error: 'InternalError', times: 1 })
  const back = await store(t)
  const first = await back.mirrorFrom(endpointOf(middle))
  t.same(first.failed.map(f => f.key), ['k2'], 'the body cut short fails that object alone; the rest, retried, arrive')
  t.equal(first.copied, 5)
  await t.rejects(back.headObject('flaky', 'k2'), { code: 'NoSuchKey' }, 'nothing partial is stored')
  const second = await back.mirrorFrom(endpointOf(middle))
  t.same([second.copied, second.unchanged, second.failed], [1, 5, []])
  t.same(await contents(back, 'flaky'), await contents(source, 'flaky'))
})

t.test('an S3 endpoint signs with a session token and addresses buckets by host when asked', async t => {
  const middle = await serve(t)
  await middle.box.createBucket('hosted')
  await middle.box.putObject('hosted', 'a', 'by host')
  const seen: string[] = []
  const endpoint = s3Endpoint({ endpoint: middle.server.url.replace('127.0.0.1', 'localhost'), ...middle.credentials, virtualHosted: true })
  middle.server.server.on('request', (req: { headers: { host?: string } }) => { seen.push(req.headers.host ?? '') })
  const back = await store(t)
  const out = await back.mirrorFrom(endpoint, { bucket: 'hosted' })
  t.equal(out.copied, 1)
  t.ok(seen.length > 0 && seen.every(host => host.startsWith('hosted.localhost:')), 'every request to the bucket\'s own host')
  const sent: Array<{ token: string | undefined, authorization: string | undefined }> = []
  middle.server.server.on('request', (req: { headers: Record<string, string | undefined> }) => {
    sent.push({ token: req.headers['x-amz-security-token'], authorization: req.headers.authorization })
  })
  const withToken = s3Endpoint({ endpoint: middle.server.url, ...middle.credentials, sessionToken: 'a-token' })
  await withToken.listBuckets()
  t.equal(sent.at(-1)?.token, 'a-token', 'the session token is sent')
  t.match(sent.at(-1)?.authorization, /SignedHeaders=[^,]*x-amz-security-token/, 'and signed')
})

t.test('acl and tags: public files stay public and tags come along, when asked', async t => {
  const source = await store(t)
  await source.createBucket('site')
  await source.putObject('site', 'index.html', '<p>hi</p>', { acl: 'public-read', tags: { team: 'web', 'a b': 'c+d=e:f/g@h' } })
  await source.putObject('site', 'private.txt', 'mine', { tags: { team: 'ops' } })
  await source.putObject('site', 'members.txt', 'ours', { acl: 'authenticated-read' })
  const middle = await serve(t)
  await source.mirrorTo(endpointOf(middle))
  t.equal((await middle.box.getObjectAcl('site', 'index.html')).acl, 'private', 'not without acl')
  t.same((await middle.box.getObjectTagging('site', 'index.html')).tags, {}, 'nor tags without tags')

  const back = await store(t)
  await back.mirrorFrom(endpointOf(middle))
  await middle.box.deleteObject('site', 'index.html')
  await middle.box.deleteObject('site', 'private.txt')
  await middle.box.deleteObject('site', 'members.txt')
  const out = await source.mirrorTo(endpointOf(middle), { acl: true, tags: true })
  t.equal(out.copied, 3)
  t.same((await middle.box.publicAccess('site')).objects, (await source.publicAccess('site')).objects, 'the same objects are public (anyone, or any signed caller)')
  t.equal((await middle.box.getObjectAcl('site', 'members.txt')).acl, 'authenticated-read')
  t.same((await middle.box.getObjectTagging('site', 'index.html')).tags, { team: 'web', 'a b': 'c+d=e:f/g@h' })

  const home = await store(t)
  await home.mirrorFrom(endpointOf(middle), { acl: true, tags: true })
  for (const key of ['index.html', 'private.txt', 'members.txt']) {
    t.equal((await home.getObjectAcl('site', key)).acl, (await source.getObjectAcl('site', key)).acl, `${key}: the ACL, there and back`)
    t.same((await home.getObjectTagging('site', key)).tags, (await source.getObjectTagging('site', key)).tags, `${key}: the tags`)
  }
})

t.test('SSE-C objects: skipped without their key; with it, read and written with it, so they stay SSE-C', async t => {
  const key = bytes(32, 40)
  const other = bytes(32, 41)
  const source = await store(t)
  await source.createBucket('locked')
  await source.putObject('locked', 'mine', 'under my key', { customerKey: { key }, metadata: { who: 'me' } })
  await source.putObject('locked', 'theirs', 'under their key', { customerKey: { key: other } })
  await source.putObject('locked', 'plain', 'no key at all')
  const upload = await source.createMultipartUpload('locked', 'parts', { customerKey: { key } })
  const parts = []
  for (const [i, size] of [5 * 1024 * 1024, 1000].entries()) {
    parts.push({ partNumber: i + 1, etag: (await source.uploadPart('locked', 'parts', upload.uploadId, i + 1, bytes(size, 50 + i), { customerKey: { key } })).etag })
  }
  await source.completeMultipartUpload('locked', 'parts', upload.uploadId, parts)
  const middle = await serve(t)
  const out = await source.mirrorTo(endpointOf(middle), { customerKey: key })
  t.same([out.copied, out.skipped.map(s => [s.key, s.reason]), out.failed], [3, [['theirs', 'sse-c']], []])
  await t.rejects(middle.box.headObject('locked', 'mine'), { code: 'InvalidRequest' }, 'still SSE-C on the target')
  const copy = await middle.box.getObject('locked', 'mine', { customerKey: { key } })
  t.same([(await readAll(copy.body)).toString(), copy.info.metadata], ['under my key', { who: 'me' }])
  t.equal((await middle.box.headObject('locked', 'parts', { customerKey: { key } })).etag, (await source.headObject('locked', 'parts', { customerKey: { key } })).etag)

  const back = await store(t)
  const home = await back.mirrorFrom(endpointOf(middle), { customerKey: key })
  t.equal(home.copied, 3)
  const parts2 = await back.getObject('locked', 'parts', { customerKey: { key } })
  t.equal(createHash('sha256').update(await readAll(parts2.body)).digest('hex'),
    createHash('sha256').update(Buffer.concat([bytes(5 * 1024 * 1024, 50), bytes(1000, 51)])).digest('hex'), 'the parts, there and back')
  await t.rejects(source.mirrorTo(middle.box, { customerKey: Buffer.alloc(16) }), TypeError)
})

t.test('a key\'s view as one side: the mirror is held to that key\'s grants', async t => {
  const source = await store(t)
  await source.createBucket('open')
  await source.createBucket('closed')
  await source.putObject('open', 'a', 'a')
  await source.putObject('closed', 'b', 'b')
  const key = await source.keys.create({ name: 'reader', grants: [{ bucket: 'open', permission: 'read' }] })
  const target = await store(t)
  const out = await mirror(storeEndpoint(source.as(key.accessKeyId)), storeEndpoint(target), { bucket: 'open' })
  t.equal(out.copied, 1)
  await t.rejects(mirror(storeEndpoint(source.as(key.accessKeyId)), storeEndpoint(target), { bucket: 'closed' }), { code: 'AccessDenied' })
  const back = await mirror(storeEndpoint(target), storeEndpoint(source.as(key.accessKeyId)), { bucket: 'open', targetBucket: 'open', prefix: '' })
  t.same([back.copied, back.unchanged], [0, 1], 'nothing to write back')
  await target.putObject('open', 'new', 'n')
  const refused = await mirror(storeEndpoint(target), storeEndpoint(source.as(key.accessKeyId)), { bucket: 'open' })
  t.same(refused.failed.map(f => [f.key, f.code]), [['new', 'AccessDenied']], 'a read key writes nothing')
})
