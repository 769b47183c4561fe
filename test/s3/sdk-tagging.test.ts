// Tagging over the wire: the AWS SDK v3 for every call (x-amz-tagging on put, copy and multipart,
// x-amz-tagging-count on reads, the ?tagging calls on objects, versions and buckets, errors as S3
// answers them), lib-storage's Upload with tags, and raw requests for what the SDK hides: the XML
// itself, the digests S3 requires, the header's URL-query form, hostile bodies.
import t, { type Test } from 'tap'
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketTaggingCommand,
  DeleteObjectCommand, DeleteObjectTaggingCommand, GetBucketTaggingCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand,
  PutBucketTaggingCommand, PutBucketVersioningCommand, PutObjectCommand, PutObjectTaggingCommand, UploadPartCommand, type S3Client, type Tag
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { serve, type Served } from './helpers.js'
import { checksum, pattern, rejects } from './sdk-helpers.js'
import { md5Base64, send, sendSigned, type Reply } from './wire.js'
import { parseTaggingHeader } from '../../lib/s3/tagging-xml.js'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'
const Bucket = 'bkt'

async function setup (t: Test, options: Parameters<typeof serve>[1] = {}): Promise<{ s: Served, c: S3Client }> {
  const s = await serve(t, options)
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket }))
  return { s, c }
}

async function tagsOf (c: S3Client, Key: string, VersionId?: string): Promise<Tag[] | undefined> {
  return (await c.send(new GetObjectTaggingCommand({ Bucket, Key, ...(VersionId === undefined ? {} : { VersionId }) }))).TagSet
}

/** A signed request with Content-MD5 over its body, as every SDK sends a Tagging document. */
async function signed (s: Served, method: string, path: string, body = '', headers: Record<string, string> = {}): Promise<Reply> {
  return await sendSigned(s.server.url, s.credentials, method, path, body === '' ? headers : { 'content-md5': md5Base64(body), ...headers }, body)
}

const tagging = (tags: Array<[string, string]>): string =>
  `<Tagging xmlns="${NS}"><TagSet>${tags.map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join('')}</TagSet></Tagging>`

t.test('PutObject with Tagging, then Get/Put/DeleteObjectTagging; GET and HEAD count the tags', async t => {
  const { c } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'data', Tagging: 'project=blue&note=two%20words&empty=' }))
  t.same(await tagsOf(c, 'k'), [{ Key: 'project', Value: 'blue' }, { Key: 'note', Value: 'two words' }, { Key: 'empty', Value: '' }], 'decoded from the URL-query form')
  t.equal((await c.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).TagCount, 3, 'HEAD: x-amz-tagging-count')
  const got = await c.send(new GetObjectCommand({ Bucket, Key: 'k' }))
  t.equal(got.TagCount, 3, 'GET too')
  t.equal(await got.Body?.transformToString(), 'data')
  const put = await c.send(new PutObjectTaggingCommand({ Bucket, Key: 'k', Tagging: { TagSet: [{ Key: 'only', Value: 'one' }] } }))
  t.equal(put.$metadata.httpStatusCode, 200)
  t.equal(put.VersionId, undefined, 'no version id in a bucket never versioned')
  t.same(await tagsOf(c, 'k'), [{ Key: 'only', Value: 'one' }], 'the set is replaced whole')
  const deleted = await c.send(new DeleteObjectTaggingCommand({ Bucket, Key: 'k' }))
  t.equal(deleted.$metadata.httpStatusCode, 204)
  t.same(await tagsOf(c, 'k'), [], 'an empty TagSet, not an error')
  t.equal((await c.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).TagCount, undefined, 'no count without tags')
  await c.send(new PutObjectCommand({ Bucket, Key: 'plus', Body: 'x', Tagging: 'a+b=c%2Bd&solo' }))
  t.same(await tagsOf(c, 'plus'), [{ Key: 'a b', Value: 'c+d' }, { Key: 'solo', Value: '' }], '+ is a space, %2B a plus; a name alone has an empty value')
})

t.test('CopyObject: the source\'s tags by default, the request\'s with TaggingDirective REPLACE', async t => {
  const { c } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'x', Tagging: 'a=1&b=2' }))
  await c.send(new CopyObjectCommand({ Bucket, Key: 'copy', CopySource: `${Bucket}/src` }))
  t.same(await tagsOf(c, 'copy'), [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }], 'COPY by default')
  await c.send(new CopyObjectCommand({ Bucket, Key: 'ignored', CopySource: `${Bucket}/src`, Tagging: 'c=3', TaggingDirective: 'COPY' }))
  t.same(await tagsOf(c, 'ignored'), [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }], 'COPY ignores x-amz-tagging, as S3')
  await c.send(new CopyObjectCommand({ Bucket, Key: 'replaced', CopySource: `${Bucket}/src`, Tagging: 'c=3', TaggingDirective: 'REPLACE' }))
  t.same(await tagsOf(c, 'replaced'), [{ Key: 'c', Value: '3' }], 'REPLACE')
  await c.send(new CopyObjectCommand({ Bucket, Key: 'bare', CopySource: `${Bucket}/src`, TaggingDirective: 'REPLACE' }))
  t.same(await tagsOf(c, 'bare'), [], 'REPLACE without tags: none')
  const bad = await rejects(t, c.send(new CopyObjectCommand({ Bucket, Key: 'x', CopySource: `${Bucket}/src`, TaggingDirective: 'MOVE' as 'COPY' })), 'InvalidArgument', 400, 'an unknown directive')
  t.equal((bad as { ArgumentName?: string } | undefined)?.ArgumentName, 'x-amz-tagging-directive')
})

t.test('CreateMultipartUpload with Tagging: the completed object has them; lib-storage\'s Upload with tags too', async t => {
  const { s, c } = await setup(t, { open: { memory: true, minPartSize: 0 } })
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp', Tagging: 'stage=raw' }))
  const { ETag } = await c.send(new UploadPartCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'part' }))
  t.equal(await s.box.headObject(Bucket, 'mp').catch((err: { code: string }) => err.code), 'NoSuchKey', 'nothing before completion')
  await c.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } }))
  t.same(await tagsOf(c, 'mp'), [{ Key: 'stage', Value: 'raw' }])
  const body = pattern(6 * 1024 * 1024)
  await new Upload({ client: c, params: { Bucket, Key: 'big', Body: body }, partSize: 5 * 1024 * 1024, tags: [{ Key: 'by', Value: 'lib-storage' }] }).done()
  t.same(await tagsOf(c, 'big'), [{ Key: 'by', Value: 'lib-storage' }], 'a multipart Upload tags the object once complete')
  t.equal((await s.box.headObject(Bucket, 'big')).size, body.length)
  await new Upload({ client: c, params: { Bucket, Key: 'small', Body: 'x' }, tags: [{ Key: 'by', Value: 'one request' }] }).done()
  t.same(await tagsOf(c, 'small'), [{ Key: 'by', Value: 'one request' }], 'and a single-request one')
})

t.test('versions: ?tagging with versionId answers x-amz-version-id; delete markers answer as S3', async t => {
  const { s, c } = await setup(t)
  await c.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }))
  const v1 = (await c.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'one', Tagging: 'v=1' }))).VersionId!
  const v2 = (await c.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'two' }))).VersionId!
  const put = await c.send(new PutObjectTaggingCommand({ Bucket, Key: 'k', VersionId: v1, Tagging: { TagSet: [{ Key: 'v', Value: 'first' }] } }))
  t.equal(put.VersionId, v1)
  const got = await c.send(new GetObjectTaggingCommand({ Bucket, Key: 'k', VersionId: v1 }))
  t.equal(got.VersionId, v1)
  t.same(got.TagSet, [{ Key: 'v', Value: 'first' }])
  t.equal((await c.send(new GetObjectTaggingCommand({ Bucket, Key: 'k' }))).VersionId, v2, 'the current version, named')
  t.equal((await c.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: v1 }))).TagCount, 1)
  t.equal((await c.send(new DeleteObjectTaggingCommand({ Bucket, Key: 'k', VersionId: v1 }))).VersionId, v1)
  const marker = (await c.send(new DeleteObjectCommand({ Bucket, Key: 'k' }))).VersionId!
  await rejects(t, c.send(new GetObjectTaggingCommand({ Bucket, Key: 'k' })), 'NoSuchKey', 404, 'current version a delete marker')
  await rejects(t, c.send(new PutObjectTaggingCommand({ Bucket, Key: 'k', Tagging: { TagSet: [] } })), 'NoSuchKey', 404, 'PUT on it')
  await rejects(t, c.send(new GetObjectTaggingCommand({ Bucket, Key: 'k', VersionId: marker })), 'MethodNotAllowed', 405, 'the marker by id')
  const raw = await signed(s, 'PUT', `/${Bucket}/k?tagging&versionId=${marker}`, tagging([['a', 'b']]))
  t.equal(raw.status, 405)
  t.equal(raw.headers['x-amz-delete-marker'], 'true')
  t.equal(raw.headers['x-amz-version-id'], marker)
  t.equal(raw.headers.allow, 'DELETE')
  t.match(raw.text, '<Method>PUT</Method><ResourceType>DeleteMarker</ResourceType>')
  await rejects(t, c.send(new GetObjectTaggingCommand({ Bucket, Key: 'k', VersionId: 'f'.repeat(24) + 'abcdefgh' })), 'NoSuchVersion', 404)
  await rejects(t, c.send(new GetObjectTaggingCommand({ Bucket, Key: 'k', VersionId: 'bad' })), 'InvalidArgument', 400)
})

t.test('bucket tagging: NoSuchTagSet, then Put, Get and Delete; over 50 is BadRequest', async t => {
  const { c } = await setup(t)
  const none = await rejects(t, c.send(new GetBucketTaggingCommand({ Bucket })), 'NoSuchTagSet', 404)
  t.equal((none as { message?: string } | undefined)?.message, 'The TagSet does not exist')
  const put = await c.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [{ Key: 'team', Value: 'storage' }, { Key: 'cost', Value: '42' }] } }))
  t.equal(put.$metadata.httpStatusCode, 204)
  t.same((await c.send(new GetBucketTaggingCommand({ Bucket }))).TagSet, [{ Key: 'team', Value: 'storage' }, { Key: 'cost', Value: '42' }])
  const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }))
  const over = await rejects(t, c.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: many } })), 'BadRequest', 400, '51 tags')
  t.equal((over as { message?: string } | undefined)?.message, 'Bucket tag count cannot be greater than 50')
  await c.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: many.slice(0, 50) } }))
  t.equal((await c.send(new GetBucketTaggingCommand({ Bucket }))).TagSet?.length, 50)
  t.equal((await c.send(new DeleteBucketTaggingCommand({ Bucket }))).$metadata.httpStatusCode, 204)
  await rejects(t, c.send(new GetBucketTaggingCommand({ Bucket })), 'NoSuchTagSet', 404, 'after the delete')
  await rejects(t, c.send(new GetBucketTaggingCommand({ Bucket: 'nope' })), 'NoSuchBucket', 404)
})

t.test('the limits over the wire, with S3\'s codes and messages, and the tag at fault named', async t => {
  const { s, c } = await setup(t)
  await c.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }))
  const eleven = Array.from({ length: 11 }, (_, i): Tag => ({ Key: `k${i}`, Value: 'v' }))
  const over = await rejects(t, c.send(new PutObjectTaggingCommand({ Bucket, Key: 'k', Tagging: { TagSet: eleven } })), 'BadRequest', 400, '11 tags')
  t.equal((over as { message?: string } | undefined)?.message, 'Object tags cannot be greater than 10')
  await rejects(t, c.send(new PutObjectCommand({ Bucket, Key: 'n', Body: 'x', Tagging: eleven.map(tag => `${tag.Key!}=v`).join('&') })), 'BadRequest', 400, '11 tags on a put')
  const cases: Array<[Array<[string, string]>, string, string]> = [
    [[['k'.repeat(129), 'v']], 'The TagKey you have provided is invalid', `<TagKey>${'k'.repeat(129)}</TagKey>`],
    [[['k', 'v'.repeat(257)]], 'The TagValue you have provided is invalid', `<TagKey>k</TagKey><TagValue>${'v'.repeat(257)}</TagValue>`],
    [[['ke&amp;y', 'v']], 'The TagKey you have provided is invalid', '<TagKey>ke&amp;y</TagKey>'],
    [[['k', 'a,b']], 'The TagValue you have provided is invalid', '<TagKey>k</TagKey><TagValue>a,b</TagValue>'],
    [[['', 'v']], 'The TagKey you have provided is invalid', '<TagKey></TagKey>'],
    [[['aws:x', 'v']], 'Your TagKey cannot be prefixed with aws:', '<TagKey>aws:x</TagKey>'],
    [[['dup', '1'], ['dup', '2']], 'Cannot provide multiple Tags with the same key', '<TagKey>dup</TagKey>']
  ]
  for (const [tags, message, names] of cases) {
    const res = await signed(s, 'PUT', `/${Bucket}/k?tagging`, tagging(tags))
    t.equal(res.status, 400, message)
    t.equal(res.code, 'InvalidTag')
    t.match(res.text, `<Message>${message}</Message>${names}`, 'the message, then the tag at fault')
  }
  const sdk = await rejects(t, c.send(new PutObjectTaggingCommand({ Bucket, Key: 'k', Tagging: { TagSet: [{ Key: 'k', Value: 'semi;colon' }] } })), 'InvalidTag', 400, 'through the SDK')
  t.equal((sdk as { TagKey?: string } | undefined)?.TagKey, 'k')
  await c.send(new PutObjectTaggingCommand({ Bucket, Key: 'k', Tagging: { TagSet: [{ Key: 'k'.repeat(128), Value: 'é '.repeat(128) }] } }))
  t.same(await tagsOf(c, 'k'), [{ Key: 'k'.repeat(128), Value: 'é '.repeat(128) }], 'the longest key and value, non-ASCII letters and spaces')
})

t.test('x-amz-tagging: malformed forms are InvalidArgument naming the header; bad tags in it InvalidTag; nothing is stored', async t => {
  const { s } = await setup(t)
  const put = async (value: string, path = `/${Bucket}/k`, method = 'PUT'): Promise<Reply> => await signed(s, method, path, '', { 'x-amz-tagging': value })
  for (const value of ['=v', 'a=1&a=2', 'a=1&b=%zz', 'a=%C3', 'a=1&=2']) {
    const res = await put(value)
    t.equal(res.code, 'InvalidArgument', `PutObject ${value}`)
    t.match(res.text, '<Message>The header &apos;x-amz-tagging&apos; shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.</Message>')
    t.match(res.text, '<ArgumentName>x-amz-tagging</ArgumentName>')
    t.equal((await put(value, `/${Bucket}/k?uploads`, 'POST')).code, 'InvalidArgument', `CreateMultipartUpload ${value}`)
  }
  // Raw non-ASCII cannot be signed through this helper (node sends it as latin-1): the parser alone.
  t.throws(() => parseTaggingHeader('k=caf\u00e9'), { code: 'InvalidArgument' }, 'raw non-ASCII is not URL-encoded UTF-8')
  t.equal((await put('a=b%26c')).code, 'InvalidTag', 'an encoded & decodes to a character tags may not hold')
  t.equal((await put('aws%3Ax=1')).code, 'InvalidTag')
  t.equal((await s.box.listObjectsV2(Bucket)).keyCount, 0, 'no object stored')
  t.same((await s.box.listMultipartUploads(Bucket)).uploads, [], 'no upload begun')
  t.equal((await put('&&a=1&&')).status, 200, 'empty pairs are skipped')
  t.same(await s.box.getObjectTagging(Bucket, 'k'), { tags: { a: '1' } })
  t.equal((await put('caf%C3%A9=%E6%97%A5%E6%9C%AC')).status, 200, 'UTF-8, URL-encoded')
  t.same(await s.box.getObjectTagging(Bucket, 'k'), { tags: { café: '日本' } })
  const copy = await signed(s, 'PUT', `/${Bucket}/c`, '', { 'x-amz-copy-source': `/${Bucket}/k`, 'x-amz-tagging-directive': 'REPLACE', 'x-amz-tagging': 'x=1&x=2' })
  t.equal(copy.code, 'InvalidArgument', 'CopyObject with REPLACE reads the header')
  const ignored = await signed(s, 'PUT', `/${Bucket}/c`, '', { 'x-amz-copy-source': `/${Bucket}/k`, 'x-amz-tagging': 'x=1&x=2' })
  t.equal(ignored.status, 200, 'under COPY the header is not read at all')
})

t.test('the Tagging document: byte for byte out; Content-MD5 or a checksum required in; malformed and hostile bodies refused', async t => {
  const { s } = await setup(t)
  await s.box.putObject(Bucket, 'k', 'x', { tags: [['b', 'two words'], ['a', '']] })
  const got = await signed(s, 'GET', `/${Bucket}/k?tagging`)
  t.equal(got.status, 200)
  t.equal(got.headers['content-type'], 'application/xml')
  t.equal(got.text, `<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="${NS}"><TagSet><Tag><Key>b</Key><Value>two words</Value></Tag><Tag><Key>a</Key><Value></Value></Tag></TagSet></Tagging>`)
  await s.box.putObject(Bucket, 'bare', 'x')
  t.equal((await signed(s, 'GET', `/${Bucket}/bare?tagging`)).text, `<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="${NS}"><TagSet/></Tagging>`, 'an empty TagSet')

  const body = tagging([['n', '1']])
  const noDigest = await sendSigned(s.server.url, s.credentials, 'PUT', `/${Bucket}/k?tagging`, {}, body)
  t.equal(noDigest.status, 400)
  t.equal(noDigest.code, 'InvalidRequest', 'neither Content-MD5 nor a checksum')
  t.equal((await sendSigned(s.server.url, s.credentials, 'PUT', `/${Bucket}?tagging`, {}, body)).code, 'InvalidRequest', 'on a bucket too')
  t.equal((await signed(s, 'PUT', `/${Bucket}/k?tagging`, body, { 'content-md5': md5Base64('other') })).code, 'BadDigest')
  const crc = await sendSigned(s.server.url, s.credentials, 'PUT', `/${Bucket}/k?tagging`, { 'x-amz-checksum-crc32': checksum('CRC32', Buffer.from(body)) }, body)
  t.equal(crc.status, 200, 'a CRC32 alone will do, as current SDKs send')
  t.same(await s.box.getObjectTagging(Bucket, 'k'), { tags: { n: '1' } })

  const pretty = `<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="${NS}">\n  <TagSet>\n    <Tag>\n      <Key> spaced key </Key>\n      <Value>v</Value>\n    </Tag>\n  </TagSet>\n</Tagging>\n`
  t.equal((await signed(s, 'PUT', `/${Bucket}/k?tagging`, pretty)).status, 200, 'layout whitespace is no content')
  t.same(await s.box.getObjectTagging(Bucket, 'k'), { tags: { ' spaced key ': 'v' } }, 'spaces inside a key are kept')
  const emptySet = await signed(s, 'PUT', `/${Bucket}/k?tagging`, `<Tagging xmlns="${NS}"><TagSet/></Tagging>`)
  t.equal(emptySet.status, 200)
  t.same(await s.box.getObjectTagging(Bucket, 'k'), { tags: {} }, 'an empty TagSet removes them')

  const malformed = [
    'not xml', '', `<Tagging xmlns="${NS}"></Tagging>`, '<Other><TagSet/></Other>',
    '<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>', '<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>',
    '<Tagging><TagSet><Tag><Key>k</Key><Key>j</Key><Value>v</Value></Tag></TagSet></Tagging>',
    '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value><Extra/></Tag></TagSet></Tagging>',
    '<Tagging><TagSet/><TagSet/></Tagging>', '<Tagging><TagSet><Tag><Key><b>k</b></Key><Value>v</Value></Tag></TagSet></Tagging>',
    '<!DOCTYPE x [<!ENTITY a "aaaa">]><Tagging><TagSet><Tag><Key>&a;</Key><Value>v</Value></Tag></TagSet></Tagging>'
  ]
  for (const doc of malformed) {
    const res = await signed(s, 'PUT', `/${Bucket}/k?tagging`, doc, doc === '' ? { 'content-md5': md5Base64('') } : {})
    t.equal(res.code, 'MalformedXML', `object: ${doc.slice(0, 60)}`)
    t.equal((await signed(s, 'PUT', `/${Bucket}?tagging`, doc, doc === '' ? { 'content-md5': md5Base64('') } : {})).code, 'MalformedXML', 'bucket')
  }
  const huge = `<Tagging><TagSet>${'<Tag><Key>k</Key><Value>v</Value></Tag>'.repeat(8000)}</TagSet></Tagging>`
  t.equal((await signed(s, 'PUT', `/${Bucket}/k?tagging`, huge)).code, 'MaxMessageLengthExceeded', 'a body past 256 KiB is not parsed')
  const many = `<Tagging><TagSet>${'<Tag><Key>k</Key><Value>v</Value></Tag>'.repeat(5000)}</TagSet></Tagging>`
  t.equal((await signed(s, 'PUT', `/${Bucket}/k?tagging`, many)).code, 'BadRequest', 'thousands of tags under the cap: refused by count')
  t.same(await s.box.getObjectTagging(Bucket, 'k'), { tags: {} }, 'nothing refused was stored')
  // The router's answer to any POST it does not serve; never another operation.
  t.equal((await signed(s, 'POST', `/${Bucket}/k?tagging`)).code, 'NotImplemented', 'POST ?tagging on an object')
  t.equal((await signed(s, 'POST', `/${Bucket}?tagging`)).code, 'NotImplemented', 'on a bucket')
  t.equal((await signed(s, 'HEAD', `/${Bucket}/k`)).status, 200, 'the object is still there')
})

t.test('statuses and version headers of the raw calls', async t => {
  const { s } = await setup(t)
  await s.box.putObject(Bucket, 'k', 'x')
  const body = tagging([['a', 'b']])
  const putObject = await signed(s, 'PUT', `/${Bucket}/k?tagging`, body)
  t.equal(putObject.status, 200)
  t.equal(putObject.headers['x-amz-version-id'], undefined, 'no version header in a bucket never versioned')
  t.equal((await signed(s, 'DELETE', `/${Bucket}/k?tagging`)).status, 204)
  t.equal((await signed(s, 'PUT', `/${Bucket}?tagging`, body)).status, 204, 'PutBucketTagging is 204')
  const bucketGet = await signed(s, 'GET', `/${Bucket}?tagging`)
  t.equal(bucketGet.text, `<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="${NS}"><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`)
  t.equal((await signed(s, 'DELETE', `/${Bucket}?tagging`)).status, 204)
  const missing = await signed(s, 'GET', `/${Bucket}?tagging`)
  t.equal(missing.status, 404)
  t.equal(missing.code, 'NoSuchTagSet')
  t.equal((await s.box.listObjectsV2(Bucket)).keyCount, 1, 'DELETE ?tagging deleted neither the object nor the bucket')
  await s.box.putBucketVersioning(Bucket, 'Suspended')
  const nullVersion = await signed(s, 'GET', `/${Bucket}/k?tagging`)
  t.equal(nullVersion.headers['x-amz-version-id'], 'null', 'a bucket that was versioned names the null version')
})

t.test('x-amz-tagging-count goes to signed readers only; tags are not read through an ACL', async t => {
  const { s } = await setup(t)
  await s.box.putObject(Bucket, 'pub', 'public', { acl: 'public-read', tags: { a: '1', b: '2' } })
  const signedGet = await signed(s, 'GET', `/${Bucket}/pub`)
  t.equal(signedGet.headers['x-amz-tagging-count'], '2')
  t.equal((await signed(s, 'HEAD', `/${Bucket}/pub`)).headers['x-amz-tagging-count'], '2')
  const anonymous = await send(s.server.url, 'GET', `/${Bucket}/pub`)
  t.equal(anonymous.text, 'public', 'anyone may read the object')
  t.equal(anonymous.headers['x-amz-tagging-count'], undefined, 'but not learn of its tags')
  t.equal((await send(s.server.url, 'GET', `/${Bucket}/pub?tagging`)).status, 403, 'nor read them')
  t.equal((await send(s.server.url, 'PUT', `/${Bucket}/pub?tagging`, { 'content-md5': md5Base64(tagging([])) }, tagging([]))).status, 403)
  t.same(await s.box.getObjectTagging(Bucket, 'pub'), { tags: { a: '1', b: '2' } })
})

t.test('keys: a read key reads tags and may not change them; a readwrite key tags; bucket tags need fullaccess', async t => {
  const { s } = await setup(t)
  await s.box.putObject(Bucket, 'k', 'x', { tags: { a: '1' } })
  const reader = (await s.keyed([{ bucket: Bucket, permission: 'read' }])).client
  t.same(await tagsOf(reader, 'k'), [{ Key: 'a', Value: '1' }])
  t.equal((await reader.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).TagCount, 1)
  await rejects(t, reader.send(new PutObjectTaggingCommand({ Bucket, Key: 'k', Tagging: { TagSet: [] } })), 'AccessDenied', 403)
  await rejects(t, reader.send(new DeleteObjectTaggingCommand({ Bucket, Key: 'k' })), 'AccessDenied', 403)
  const writer = (await s.keyed([{ bucket: Bucket, permission: 'readwrite' }])).client
  await writer.send(new PutObjectTaggingCommand({ Bucket, Key: 'k', Tagging: { TagSet: [{ Key: 'b', Value: '2' }] } }))
  await writer.send(new PutObjectCommand({ Bucket, Key: 'n', Body: 'x', Tagging: 'c=3' }))
  t.same(await tagsOf(writer, 'n'), [{ Key: 'c', Value: '3' }])
  await rejects(t, writer.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } })), 'AccessDenied', 403)
  await rejects(t, writer.send(new GetBucketTaggingCommand({ Bucket })), 'AccessDenied', 403)
  await rejects(t, writer.send(new DeleteBucketTaggingCommand({ Bucket })), 'AccessDenied', 403)
})

t.test('the spaces profile: object tagging as Spaces has it, bucket tagging NotImplemented as Spaces answers', async t => {
  const { c } = await setup(t, { server: { profile: 'spaces' } })
  await c.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', Tagging: 'a=1' }))
  await c.send(new PutObjectTaggingCommand({ Bucket, Key: 'k', Tagging: { TagSet: [{ Key: 'b', Value: '2' }] } }))
  t.same(await tagsOf(c, 'k'), [{ Key: 'b', Value: '2' }])
  await c.send(new DeleteObjectTaggingCommand({ Bucket, Key: 'k' }))
  await rejects(t, c.send(new GetBucketTaggingCommand({ Bucket })), 'NotImplemented', 501)
  await rejects(t, c.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } })), 'NotImplemented', 501)
  await rejects(t, c.send(new DeleteBucketTaggingCommand({ Bucket })), 'NotImplemented', 501)
})
