// Object and bucket tagging through the engine: S3's limits on both sides of each edge, tags given
// with puts, copies and multipart uploads, the ?tagging calls on versions and delete markers, who
// may read and write tags, and tags surviving a reopen.
import t from 'tap'
import { Spacebox, type ObjectVersion } from '../lib/index.js'
import { readAll, tempDir } from './helpers.js'

type Tap = Parameters<typeof tempDir>[0]

async function open (t: Tap, options: Parameters<typeof Spacebox.open>[0] = { memory: true }): Promise<Spacebox> {
  const box = await Spacebox.open(options)
  t.teardown(async () => { await box.close() })
  return box
}

async function text (box: Spacebox, bucket: string, key: string, versionId?: string): Promise<string> {
  return (await readAll((await box.getObject(bucket, key, versionId === undefined ? {} : { versionId })).body)).toString()
}

async function tagsOf (box: Pick<Spacebox, 'getObjectTagging'>, bucket: string, key: string, versionId?: string): Promise<Record<string, string>> {
  return (await box.getObjectTagging(bucket, key, versionId === undefined ? {} : { versionId })).tags
}

/** A test name safe in TAP output: characters outside printable ASCII as code points. */
const escape = (value: string): string => value.replace(/[^\x20-\x7e]/gu, c => `U+${(c.codePointAt(0) as number).toString(16).toUpperCase()}`)

const pairs = (n: number, prefix = 'k'): Array<[string, string]> => Array.from({ length: n }, (_, i) => [`${prefix}${i}`, `v${i}`])

t.test('putObjectTagging replaces the set, getObjectTagging reads it, deleteObjectTagging removes it; HEAD and GET count them', async t => {
  const box = await open(t)
  await box.createBucket('bkt')
  await box.putObject('bkt', 'k', 'hello')
  t.same(await box.getObjectTagging('bkt', 'k'), { tags: {} }, 'none yet: an empty set, no version id in a bucket never versioned')
  t.equal((await box.headObject('bkt', 'k')).tagCount, undefined, 'no count without tags')
  t.same(await box.putObjectTagging('bkt', 'k', { project: 'blue', team: '' }), {})
  t.same(await tagsOf(box, 'bkt', 'k'), { project: 'blue', team: '' }, 'an empty value is a value')
  t.equal((await box.headObject('bkt', 'k')).tagCount, 2)
  const got = await box.getObject('bkt', 'k')
  t.equal(got.info.tagCount, 2)
  t.equal((await readAll(got.body)).toString(), 'hello', 'the bytes are untouched')
  await box.putObjectTagging('bkt', 'k', [['b', '2'], ['a', '1'], ['C', '3']])
  t.same(Object.entries(await tagsOf(box, 'bkt', 'k')), [['b', '2'], ['a', '1'], ['C', '3']], 'the whole set is replaced, in the order given; keys are case-sensitive')
  await box.putObjectTagging('bkt', 'k', {})
  t.same(await tagsOf(box, 'bkt', 'k'), {}, 'an empty set removes them')
  t.equal((await box.headObject('bkt', 'k')).tagCount, undefined)
  await box.putObjectTagging('bkt', 'k', { a: '1' })
  t.same(await box.deleteObjectTagging('bkt', 'k'), {})
  t.same(await tagsOf(box, 'bkt', 'k'), {})
  t.same(await box.deleteObjectTagging('bkt', 'k'), {}, 'deleting no tags succeeds')
  const proto = await box.putObject('bkt', 'p', 'x', { tags: [['__proto__', 'v'], ['constructor', 'w']] })
  t.ok(proto.etag)
  const protoTags = await tagsOf(box, 'bkt', 'p')
  t.same(Object.keys(protoTags), ['__proto__', 'constructor'], 'such keys stay data')
  t.equal(Object.getPrototypeOf(protoTags), Object.prototype)
})

t.test('missing buckets, keys and bad arguments', async t => {
  const box = await open(t)
  await box.createBucket('bkt')
  await t.rejects(box.getObjectTagging('nope', 'k'), { code: 'NoSuchBucket' })
  await t.rejects(box.putObjectTagging('nope', 'k', { a: 'b' }), { code: 'NoSuchBucket' })
  await t.rejects(box.getObjectTagging('bkt', 'k'), { code: 'NoSuchKey' })
  await t.rejects(box.putObjectTagging('bkt', 'k', { a: 'b' }), { code: 'NoSuchKey' })
  await t.rejects(box.deleteObjectTagging('bkt', 'k'), { code: 'NoSuchKey' })
  await box.putObject('bkt', 'k', 'x')
  for (const bad of [null, 'a=b', 7, [['a']], [['a', 1]], [{ key: 'a', value: 'b' }], { a: 1 }, { a: undefined }]) {
    await t.rejects(box.putObjectTagging('bkt', 'k', bad as never), TypeError, `tags ${JSON.stringify(bad)}`)
    await t.rejects(box.putObject('bkt', 'k2', 'x', { tags: bad as never }), TypeError, `put with tags ${JSON.stringify(bad)}`)
  }
  await t.rejects(box.putObjectTagging('bkt', 'k', undefined as never), TypeError, 'tags are required')
  await t.rejects(box.putBucketTagging('bkt', undefined as never), TypeError)
  await t.rejects(box.headObject('bkt', 'k2'), { code: 'NoSuchKey' }, 'a put refused for its tags stores nothing')
  t.same(await tagsOf(box, 'bkt', 'k'), {}, 'a refused set changes nothing')
})

t.test('object tag limits: 10 tags, keys of 1 to 128 and values of 0 to 256 UTF-16 code units, on both sides of each edge', async t => {
  const box = await open(t)
  await box.createBucket('bkt')
  await box.putObject('bkt', 'k', 'x')
  const put = async (tags: Array<[string, string]> | Record<string, string>): Promise<unknown> => await box.putObjectTagging('bkt', 'k', tags)
  await put(pairs(10))
  t.equal(Object.keys(await tagsOf(box, 'bkt', 'k')).length, 10, '10 tags')
  await t.rejects(put(pairs(11)), { code: 'BadRequest', message: 'Object tags cannot be greater than 10' }, '11 tags')
  await t.rejects(box.putObject('bkt', 'n', 'x', { tags: pairs(11) }), { code: 'BadRequest' }, '11 tags on a put')
  await put([['k'.repeat(128), 'v'.repeat(256)]])
  t.same(await tagsOf(box, 'bkt', 'k'), { ['k'.repeat(128)]: 'v'.repeat(256) }, 'a 128-unit key and a 256-unit value')
  await t.rejects(put([['k'.repeat(129), 'v']]), { code: 'InvalidTag', message: 'The TagKey you have provided is invalid', detail: { tagKey: 'k'.repeat(129) } }, 'a 129-unit key')
  await t.rejects(put([['k', 'v'.repeat(257)]]), { code: 'InvalidTag', message: 'The TagValue you have provided is invalid', detail: { tagKey: 'k', tagValue: 'v'.repeat(257) } }, 'a 257-unit value')
  await t.rejects(put([['', 'v']]), { code: 'InvalidTag', message: 'The TagKey you have provided is invalid' }, 'an empty key')
  // A letter outside the BMP is two UTF-16 code units: S3 counts those.
  const astral = '\u{1D400}'
  await put([[astral.repeat(64), astral.repeat(128)]])
  t.same(Object.values(await tagsOf(box, 'bkt', 'k')), [astral.repeat(128)], '64 astral letters are 128 units, 128 of them 256')
  await t.rejects(put([[astral.repeat(64) + 'a', 'v']]), { code: 'InvalidTag' }, '129 units of key')
  await t.rejects(put([['k', astral.repeat(128) + 'a']]), { code: 'InvalidTag' }, '257 units of value')
  t.same(Object.values(await tagsOf(box, 'bkt', 'k')), [astral.repeat(128)], 'refusals changed nothing')
})

t.test('tag characters: letters, numbers and spaces of any script and _ . : / = + - @; nothing else', async t => {
  const box = await open(t)
  await box.createBucket('bkt')
  await box.putObject('bkt', 'k', 'x')
  const allowed = ['plain', 'MiXeD 123', 'a_b.c:d/e=f+g-h@i', 'é日本語Ελληνικά кириллица', '٣٤٥', 'nbsp\u00a0here', 'line\u2028sep', '']
  for (const value of allowed) {
    await box.putObjectTagging('bkt', 'k', [[value === '' ? 'empty' : value, value]])
    t.same(Object.values(await tagsOf(box, 'bkt', 'k')), [value], `allowed: ${escape(value)}`)
  }
  const refused = ['&', ',', ';', '!', '#', '$', '%', '*', '(', ')', '[', ']', '{', '}', '<', '>', '?', '\\', '|', '~', '^', '`', '\'', '"', '\t', '\n', '\r', '\0', '\u{1F600}', '\ud800']
  for (const c of refused) {
    await t.rejects(box.putObjectTagging('bkt', 'k', [[`a${c}b`, 'v']]), { code: 'InvalidTag', message: 'The TagKey you have provided is invalid' }, `key with ${escape(c)}`)
    await t.rejects(box.putObjectTagging('bkt', 'k', [['a', `v${c}`]]), { code: 'InvalidTag', message: 'The TagValue you have provided is invalid' }, `value with ${escape(c)}`)
  }
  t.same(await tagsOf(box, 'bkt', 'k'), { empty: '' }, 'no refused set was stored')
})

t.test('keys in the aws: namespace and repeated keys are InvalidTag', async t => {
  const box = await open(t)
  await box.createBucket('bkt')
  await box.putObject('bkt', 'k', 'x')
  for (const key of ['aws:cloudformation:stack-name', 'AWS:x', 'Aws:']) {
    await t.rejects(box.putObjectTagging('bkt', 'k', { [key]: 'v' }), { code: 'InvalidTag', message: 'Your TagKey cannot be prefixed with aws:', detail: { tagKey: key } }, key)
    await t.rejects(box.putBucketTagging('bkt', { [key]: 'v' }), { code: 'InvalidTag' }, `bucket: ${key}`)
  }
  await box.putObjectTagging('bkt', 'k', { aws: 'a', 'x-aws:': 'b', 'my:aws:c': 'c', awsome: 'd' })
  t.equal(Object.keys(await tagsOf(box, 'bkt', 'k')).length, 4, 'aws: elsewhere than at the start is any text')
  await t.rejects(box.putObjectTagging('bkt', 'k', [['a', '1'], ['b', '2'], ['a', '1']]), {
    code: 'InvalidTag', message: 'Cannot provide multiple Tags with the same key', detail: { tagKey: 'a' }
  }, 'a key given twice, even with the same value')
  await t.rejects(box.putBucketTagging('bkt', [['a', '1'], ['a', '2']]), { code: 'InvalidTag', message: 'Cannot provide multiple Tags with the same key' })
  await t.rejects(box.putObjectTagging('bkt', 'k', [...pairs(10), ['k0', 'again']]), { code: 'BadRequest' }, 'the count is checked before the tags')
})

t.test('tags given with a put, a multipart upload (at completion) and a copy', async t => {
  const box = await open(t, { memory: true, minPartSize: 0 })
  await box.createBucket('bkt')
  await box.createBucket('other')
  await box.putObject('bkt', 'src', 'source', { tags: { colour: 'red', size: 'L' } })
  t.same(await tagsOf(box, 'bkt', 'src'), { colour: 'red', size: 'L' })
  await box.putObject('bkt', 'src2', 'again')
  t.same(await tagsOf(box, 'bkt', 'src2'), {}, 'a put without tags has none')
  await box.putObject('bkt', 'src2', 'again', { tags: {} })
  t.equal((await box.headObject('bkt', 'src2')).tagCount, undefined, 'an empty set is none')

  const { uploadId } = await box.createMultipartUpload('bkt', 'mp', { tags: [['stage', 'raw']] })
  const { etag } = await box.uploadPart('bkt', 'mp', uploadId, 1, 'part')
  await box.completeMultipartUpload('bkt', 'mp', uploadId, [{ partNumber: 1, etag }])
  t.same(await tagsOf(box, 'bkt', 'mp'), { stage: 'raw' }, 'the upload\'s tags are the object\'s once complete')
  await t.rejects(box.createMultipartUpload('bkt', 'mp2', { tags: { 'aws:x': 'y' } }), { code: 'InvalidTag' }, 'checked when the upload starts')
  t.same((await box.listMultipartUploads('bkt')).uploads, [], 'no upload was started')

  await box.copyObject('bkt', 'src', 'other', 'copied')
  t.same(await tagsOf(box, 'other', 'copied'), { colour: 'red', size: 'L' }, 'COPY, the default: the source\'s tags')
  await box.copyObject('bkt', 'src', 'other', 'copied', { taggingDirective: 'COPY', metadataDirective: 'REPLACE', contentType: 'text/x' })
  t.same(await tagsOf(box, 'other', 'copied'), { colour: 'red', size: 'L' }, 'the metadata directive does not touch tags')
  await box.copyObject('bkt', 'src', 'other', 'replaced', { taggingDirective: 'REPLACE', tags: { colour: 'blue' } })
  t.same(await tagsOf(box, 'other', 'replaced'), { colour: 'blue' }, 'REPLACE: the given tags')
  await box.copyObject('bkt', 'src', 'other', 'bare', { taggingDirective: 'REPLACE' })
  t.same(await tagsOf(box, 'other', 'bare'), {}, 'REPLACE without tags: none')
  await box.copyObject('bkt', 'src', 'bkt', 'src', { metadataDirective: 'REPLACE', taggingDirective: 'REPLACE', tags: { colour: 'green' } })
  t.same(await tagsOf(box, 'bkt', 'src'), { colour: 'green' }, 'a copy onto itself that replaces metadata may replace tags too')
  await t.rejects(box.copyObject('bkt', 'src', 'other', 'x', { tags: { a: 'b' } }), TypeError, 'tags under COPY would be ignored: refused')
  await t.rejects(box.copyObject('bkt', 'src', 'other', 'x', { taggingDirective: 'MOVE' as 'COPY' }), { code: 'InvalidArgument', detail: { argumentName: 'x-amz-tagging-directive' } })
  await t.rejects(box.copyObject('bkt', 'src', 'other', 'x', { taggingDirective: 'REPLACE', tags: pairs(11) }), { code: 'BadRequest' })
  await t.rejects(box.headObject('other', 'x'), { code: 'NoSuchKey' }, 'refused copies wrote nothing')

  const encrypted = await box.createBucket('sealed')
  t.ok(encrypted)
  await box.putBucketEncryption('sealed', { algorithm: 'AES256' })
  await box.copyObject('bkt', 'src', 'sealed', 'copy')
  t.same(await tagsOf(box, 'sealed', 'copy'), { colour: 'green' }, 'a copy that re-encrypts keeps the tags too')
  await box.copyObject('bkt', 'mp', 'other', 'from-multipart')
  t.same(await tagsOf(box, 'other', 'from-multipart'), { stage: 'raw' }, 'and a copy of a multipart object')
})

t.test('versions: tags belong to a version, which keeps its id, bytes and place when they change', async t => {
  const box = await open(t)
  await box.createBucket('ver')
  await box.putBucketVersioning('ver', 'Enabled')
  const v1 = (await box.putObject('ver', 'k', 'one', { tags: { n: '1' } })).versionId as string
  const v2 = (await box.putObject('ver', 'k', 'two')).versionId as string
  const listing = async (): Promise<string[]> => (await box.listObjectVersions('ver')).versions.map((v: ObjectVersion) => `${v.versionId} ${v.etag ?? ''} ${v.isLatest ? 'latest' : ''}`)
  const before = await listing()
  t.same(await box.getObjectTagging('ver', 'k'), { tags: {}, versionId: v2 }, 'the current version has none')
  t.same(await box.getObjectTagging('ver', 'k', { versionId: v1 }), { tags: { n: '1' }, versionId: v1 })
  t.same(await box.putObjectTagging('ver', 'k', { n: 'one' }, { versionId: v1 }), { versionId: v1 }, 'an older version, by id')
  t.same(await box.putObjectTagging('ver', 'k', { n: 'two' }), { versionId: v2 }, 'the current one')
  t.same(await tagsOf(box, 'ver', 'k', v1), { n: 'one' })
  t.same(await tagsOf(box, 'ver', 'k'), { n: 'two' })
  t.equal((await box.headObject('ver', 'k', { versionId: v1 })).tagCount, 1)
  t.same(await listing(), before, 'no version moved, none was added')
  t.equal(await text(box, 'ver', 'k', v1), 'one')
  t.equal(await text(box, 'ver', 'k'), 'two')
  t.same(await box.deleteObjectTagging('ver', 'k', { versionId: v1 }), { versionId: v1 })
  t.same(await tagsOf(box, 'ver', 'k', v1), {})
  t.same(await tagsOf(box, 'ver', 'k'), { n: 'two' }, 'the other version kept its own')

  await box.copyObject('ver', 'k', 'ver', 'restored', { sourceVersionId: v2 })
  t.same(await tagsOf(box, 'ver', 'restored'), { n: 'two' }, 'a copy takes the tags of the version it copies')
  await box.putObjectTagging('ver', 'k', { only: 'v1' }, { versionId: v1 })
  await box.copyObject('ver', 'k', 'ver', 'k', { sourceVersionId: v1 })
  t.same(await tagsOf(box, 'ver', 'k'), { only: 'v1' }, 'restoring a version by copy restores its tags')

  const marker = (await box.deleteObject('ver', 'k')).versionId as string
  for (const call of [() => box.getObjectTagging('ver', 'k'), () => box.putObjectTagging('ver', 'k', { a: 'b' }), () => box.deleteObjectTagging('ver', 'k')]) {
    await t.rejects(call(), { code: 'NoSuchKey' }, 'a key whose current version is a delete marker')
  }
  for (const call of [
    () => box.getObjectTagging('ver', 'k', { versionId: marker }),
    () => box.putObjectTagging('ver', 'k', { a: 'b' }, { versionId: marker }),
    () => box.deleteObjectTagging('ver', 'k', { versionId: marker })
  ]) {
    await t.rejects(call(), { code: 'MethodNotAllowed', detail: { deleteMarker: 'true', versionId: marker } }, 'a delete marker named by its id')
  }
  t.same(await tagsOf(box, 'ver', 'k', v2), { n: 'two' }, 'noncurrent versions stay reachable by id')
  const unknown = 'f'.repeat(24) + 'abcdefgh'
  await t.rejects(box.putObjectTagging('ver', 'k', { a: 'b' }, { versionId: unknown }), { code: 'NoSuchVersion' })
  await t.rejects(box.getObjectTagging('ver', 'k', { versionId: unknown }), { code: 'NoSuchVersion' })
  for (const versionId of ['', 'v1']) {
    await t.rejects(box.putObjectTagging('ver', 'k', { a: 'b' }, { versionId }), { code: 'InvalidArgument' }, `versionId ${JSON.stringify(versionId)}`)
    await t.rejects(box.getObjectTagging('ver', 'k', { versionId }), { code: 'InvalidArgument' })
    await t.rejects(box.deleteObjectTagging('ver', 'k', { versionId }), { code: 'InvalidArgument' })
  }
})

t.test('the null version: tags through versionId null, and a Suspended bucket\'s overwrite replaces them with the version', async t => {
  const box = await open(t)
  await box.createBucket('nul')
  await box.putObject('nul', 'k', 'old', { tags: { era: 'before' } })
  await box.putBucketVersioning('nul', 'Enabled')
  const v = (await box.putObject('nul', 'k', 'new')).versionId as string
  t.same(await box.getObjectTagging('nul', 'k', { versionId: 'null' }), { tags: { era: 'before' }, versionId: 'null' })
  t.same(await box.putObjectTagging('nul', 'k', { era: 'still' }, { versionId: 'null' }), { versionId: 'null' })
  t.same(await tagsOf(box, 'nul', 'k', 'null'), { era: 'still' })
  await box.putBucketVersioning('nul', 'Suspended')
  await box.putObject('nul', 'k', 'newest', { tags: { era: 'suspended' } })
  t.same(await box.getObjectTagging('nul', 'k'), { tags: { era: 'suspended' }, versionId: 'null' }, 'the new null version has its own tags')
  t.same(await tagsOf(box, 'nul', 'k', v), {}, 'the Enabled version is untouched')
})

t.test('bucket tagging: up to 50, NoSuchTagSet when none, an empty set removes them', async t => {
  const box = await open(t)
  await box.createBucket('bkt')
  await t.rejects(box.getBucketTagging('bkt'), { code: 'NoSuchTagSet', message: 'The TagSet does not exist', bucket: 'bkt' })
  await box.putBucketTagging('bkt', { team: 'storage', cost: '42' })
  t.same(await box.getBucketTagging('bkt'), { team: 'storage', cost: '42' })
  await box.putBucketTagging('bkt', pairs(50))
  t.equal(Object.keys(await box.getBucketTagging('bkt')).length, 50, '50 tags')
  await t.rejects(box.putBucketTagging('bkt', pairs(51)), { code: 'BadRequest', message: 'Bucket tag count cannot be greater than 50' })
  await t.rejects(box.putBucketTagging('bkt', { ['k'.repeat(129)]: 'v' }), { code: 'InvalidTag' })
  await t.rejects(box.putBucketTagging('bkt', { k: 'v'.repeat(257) }), { code: 'InvalidTag' })
  await t.rejects(box.putBucketTagging('bkt', { 'a&b': 'v' }), { code: 'InvalidTag', detail: { tagKey: 'a&b' } })
  t.equal(Object.keys(await box.getBucketTagging('bkt')).length, 50, 'refusals changed nothing')
  await box.putBucketTagging('bkt', [])
  await t.rejects(box.getBucketTagging('bkt'), { code: 'NoSuchTagSet' }, 'an empty set is none')
  await box.putBucketTagging('bkt', { a: 'b' })
  await box.deleteBucketTagging('bkt')
  await t.rejects(box.getBucketTagging('bkt'), { code: 'NoSuchTagSet' })
  await box.deleteBucketTagging('bkt')
  t.pass('deleting no tags succeeds')
  for (const call of [() => box.getBucketTagging('nope'), () => box.putBucketTagging('nope', { a: 'b' }), () => box.deleteBucketTagging('nope')] as Array<() => Promise<unknown>>) {
    await t.rejects(call(), { code: 'NoSuchBucket' })
  }
  await box.putObject('bkt', 'k', 'x', { tags: { a: 'b' } })
  await t.rejects(box.getBucketTagging('bkt'), { code: 'NoSuchTagSet' }, 'object tags are not the bucket\'s')
})

t.test('who may: object tags readable with read, writable with readwrite, in the key\'s prefix; bucket tags fullaccess', async t => {
  const box = await open(t)
  await box.createBucket('bkt')
  await box.putObject('bkt', 'docs/a', 'x', { tags: { a: '1' } })
  await box.putObject('bkt', 'other/a', 'x', { tags: { a: '1' } })
  const view = async (permission: 'read' | 'readwrite' | 'fullaccess', prefix?: string): Promise<ReturnType<Spacebox['as']>> => {
    const { accessKeyId } = await box.keys.create({ name: permission, grants: [{ bucket: 'bkt', permission, ...(prefix === undefined ? {} : { prefix }) }] })
    return box.as(accessKeyId)
  }
  const read = await view('read')
  t.same(await tagsOf(read, 'bkt', 'docs/a'), { a: '1' })
  t.equal((await read.headObject('bkt', 'docs/a')).tagCount, 1)
  await t.rejects(read.putObjectTagging('bkt', 'docs/a', { b: '2' }), { code: 'AccessDenied' })
  await t.rejects(read.deleteObjectTagging('bkt', 'docs/a'), { code: 'AccessDenied' })
  await t.rejects(read.getBucketTagging('bkt'), { code: 'AccessDenied' })

  const write = await view('readwrite', 'docs/')
  await write.putObjectTagging('bkt', 'docs/a', { b: '2' })
  await write.putObject('bkt', 'docs/new', 'x', { tags: { c: '3' } })
  t.same(await tagsOf(box, 'bkt', 'docs/new'), { c: '3' }, 'tags given with a write are part of it')
  await write.deleteObjectTagging('bkt', 'docs/new')
  await t.rejects(write.putObjectTagging('bkt', 'other/a', { b: '2' }), { code: 'AccessDenied' }, 'outside the prefix')
  await t.rejects(write.getObjectTagging('bkt', 'other/a'), { code: 'AccessDenied' })
  for (const call of [() => write.putBucketTagging('bkt', { a: 'b' }), () => write.getBucketTagging('bkt'), () => write.deleteBucketTagging('bkt')] as Array<() => Promise<unknown>>) {
    await t.rejects(call(), { code: 'AccessDenied' }, 'bucket tags are configuration')
  }
  t.same(await tagsOf(box, 'bkt', 'other/a'), { a: '1' }, 'refusals changed nothing')

  const full = await view('fullaccess')
  await full.putBucketTagging('bkt', { owner: 'me' })
  t.same(await full.getBucketTagging('bkt'), { owner: 'me' })
  await full.deleteBucketTagging('bkt')
})

t.test('unsigned callers: no ACL lets them near tags; a policy may, naming the version actions for versions', async t => {
  const box = await open(t)
  await box.createBucket('pub', { acl: 'public-read-write' })
  await box.putBucketVersioning('pub', 'Enabled')
  const v = (await box.putObject('pub', 'k', 'x', { acl: 'public-read', tags: { a: '1' } })).versionId as string
  const anon = box.anonymous()
  t.equal((await anon.headObject('pub', 'k')).size, 1, 'the object\'s ACL lets anyone read it')
  await t.rejects(anon.getObjectTagging('pub', 'k'), { code: 'AccessDenied' }, 'but not its tags')
  await t.rejects(anon.putObjectTagging('pub', 'k', { b: '2' }), { code: 'AccessDenied' }, 'public-read-write lets anyone write objects, not tag them')
  await t.rejects(anon.deleteObjectTagging('pub', 'k'), { code: 'AccessDenied' })
  await t.rejects(anon.getBucketTagging('pub'), { code: 'AccessDenied' })
  await anon.putObject('pub', 'anon', 'x', { tags: { by: 'anyone' } })
  t.same(await tagsOf(box, 'pub', 'anon'), { by: 'anyone' }, 'a write it may make carries its tags')

  await box.putBucketPolicy('pub', JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObjectTagging', Resource: 'arn:aws:s3:::pub/*' }] }))
  t.same(await tagsOf(anon, 'pub', 'k'), { a: '1' }, 's3:GetObjectTagging for anyone')
  await t.rejects(anon.getObjectTagging('pub', 'k', { versionId: v }), { code: 'AccessDenied' }, 'a version needs s3:GetObjectVersionTagging')
  await box.putBucketPolicy('pub', JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObjectVersionTagging', Resource: 'arn:aws:s3:::pub/*' }] }))
  t.same(await tagsOf(anon, 'pub', 'k', v), { a: '1' })

  const { accessKeyId } = await box.keys.create({ name: 'rw', grants: [{ bucket: 'pub', permission: 'readwrite' }] })
  await box.putBucketPolicy('pub', JSON.stringify({ Statement: [{ Effect: 'Deny', Principal: { AWS: accessKeyId }, Action: 's3:PutObjectTagging', Resource: 'arn:aws:s3:::pub/*' }] }))
  const rw = box.as(accessKeyId)
  await t.rejects(rw.putObjectTagging('pub', 'k', { b: '2' }), { code: 'AccessDenied' }, 'a policy may deny a key the tagging call')
  await rw.putObjectTagging('pub', 'k', { b: '2' }, { versionId: v })
  t.same(await tagsOf(box, 'pub', 'k', v), { b: '2' }, 'which names s3:PutObjectVersionTagging, not denied here')
})

t.test('tags persist: objects, versions, buckets and uploads in progress survive a reopen', async t => {
  const location = await tempDir(t)
  let box = await Spacebox.open({ location, minPartSize: 0 })
  await box.createBucket('keep')
  await box.putBucketVersioning('keep', 'Enabled')
  await box.putBucketTagging('keep', { dept: 'ops' })
  const v1 = (await box.putObject('keep', 'k', 'one', { tags: { v: '1' } })).versionId as string
  await box.putObject('keep', 'k', 'two', { tags: { v: '2' } })
  await box.putObjectTagging('keep', 'k', { v: 'first' }, { versionId: v1 })
  const { uploadId } = await box.createMultipartUpload('keep', 'mp', { tags: { up: 'load' } })
  const { etag } = await box.uploadPart('keep', 'mp', uploadId, 1, 'part')
  await box.close()
  box = await Spacebox.open({ location, minPartSize: 0 })
  t.teardown(async () => { await box.close() })
  t.same(await box.getBucketTagging('keep'), { dept: 'ops' })
  t.same(await tagsOf(box, 'keep', 'k'), { v: '2' })
  t.same(await tagsOf(box, 'keep', 'k', v1), { v: 'first' })
  t.equal(await text(box, 'keep', 'k', v1), 'one')
  await box.completeMultipartUpload('keep', 'mp', uploadId, [{ partNumber: 1, etag }])
  t.same(await tagsOf(box, 'keep', 'mp'), { up: 'load' }, 'an upload started before the reopen completes with its tags')
})
