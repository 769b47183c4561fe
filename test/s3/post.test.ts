import t, { type Test } from 'tap'
import { createHash, createHmac } from 'node:crypto'
import { request } from 'node:http'
import type { Spacebox } from '../../lib/index.js'
import { rssWatch, tempDir } from '../helpers.js'
import { serve } from './helpers.js'
import { BOUNDARY, element, encodePolicy, multipart, post, signV2, signV4, type Answer, type Part } from './post-forms.js'

const s = await serve(t)
const { box, credentials } = s
let buckets = 0

/** A new bucket for one test. */
async function bucket (): Promise<string> {
  const name = `forms-${++buckets}`
  await box.createBucket(name)
  return name
}

async function keysIn (store: Spacebox, name: string): Promise<string[]> {
  const keys: string[] = []
  for await (const o of store.listAll(name)) keys.push(o.key)
  return keys
}

async function read (name: string, key: string): Promise<string> {
  const { body } = await box.getObject(name, key)
  const pieces: Buffer[] = []
  for await (const piece of body) pieces.push(piece as Buffer)
  return Buffer.concat(pieces).toString('utf8')
}

/** POST a form to a bucket, path style. */
async function submit (name: string, parts: Part[], headers: Record<string, string> = {}): Promise<Answer> {
  return await post(`${s.server.url}/${name}`, multipart(parts), headers)
}

/** Assert an S3 error answer: status, code and (when given) message. */
function refused (t: Test, answer: Answer, status: number, code: string, message?: string): void {
  t.equal(answer.status, status, `status ${status}: ${answer.body}`)
  t.equal(element(answer.body, 'Code'), code)
  if (message !== undefined) t.equal(element(answer.body, 'Message'), message)
}

const file = (content: string | Buffer, filename = 'photo.jpg'): Part => ({ filename, type: 'image/jpeg', content })

// S3's variable for the uploaded file's name, written literally in forms.
// eslint-disable-next-line no-template-curly-in-string
const FILENAME = '${filename}'

t.test('a SigV4 form stores its file under its key, its fields becoming the object\'s headers', async t => {
  const name = await bucket()
  const fields: Array<[string, string]> = [
    ['key', 'uploads/cat.jpg'], ['Content-Type', 'image/jpeg'], ['Cache-Control', 'max-age=60'],
    ['Content-Disposition', 'inline'], ['x-amz-meta-uuid', '14365123651274'], ['x-amz-meta-tag', 'cats']
  ]
  const answer = await submit(name, [...fields, ...signV4(credentials, [
    { bucket: name }, ['starts-with', '$key', 'uploads/'], ['starts-with', '$Content-Type', 'image/'], { 'Cache-Control': 'max-age=60' },
    ['eq', '$Content-Disposition', 'inline'], { 'x-amz-meta-uuid': '14365123651274' }, ['starts-with', '$x-amz-meta-tag', '']
  ]), file('meow')])
  t.equal(answer.status, 204, answer.body)
  t.equal(answer.body, '')
  const md5 = createHash('md5').update('meow').digest('hex')
  t.equal(answer.headers.etag, `"${md5}"`)
  t.equal(answer.headers.location, `${s.server.url}/${name}/uploads%2Fcat.jpg`)
  const info = await box.headObject(name, 'uploads/cat.jpg')
  t.equal(info.contentType, 'image/jpeg')
  t.equal(info.cacheControl, 'max-age=60')
  t.equal(info.contentDisposition, 'inline')
  t.same(info.metadata, { uuid: '14365123651274', tag: 'cats' })
  t.equal(await read(name, 'uploads/cat.jpg'), 'meow')
})

t.test('a SigV2 form (AWSAccessKeyId, signature) stores its file', async t => {
  const name = await bucket()
  const answer = await submit(name, [['key', 'v2.txt'], ...signV2(credentials, [{ bucket: name }, { key: 'v2.txt' }]), file('two')])
  t.equal(answer.status, 204, answer.body)
  t.equal(await read(name, 'v2.txt'), 'two')
})

t.test('a form reaches its bucket virtual-hosted too, and Location says so', async t => {
  const name = await bucket()
  const host = `${name}.localhost:${s.server.port}`
  const body = multipart([['key', 'vh.txt'], ...signV4(credentials, [{ bucket: name }, { key: 'vh.txt' }]), file('vh')])
  const answer = await post(`${s.server.url}/`, body, { host })
  t.equal(answer.status, 204, answer.body)
  t.equal(answer.headers.location, `http://${host}/vh.txt`)
  t.equal(await read(name, 'vh.txt'), 'vh')
})

t.test('success_action_status: 200 and 204 answer empty, 201 the PostResponse XML, anything else 204', async t => {
  const name = await bucket()
  const form = (key: string, status: string): Part[] => [
    ['key', key], ['success_action_status', status], ...signV4(credentials, [{ bucket: name }, ['starts-with', '$key', ''], ['starts-with', '$success_action_status', '']]), file(key)
  ]
  const ok = await submit(name, form('a', '200'))
  t.equal(ok.status, 200)
  t.equal(ok.body, '')
  const created = await submit(name, form('b/c d', '201'))
  t.equal(created.status, 201)
  t.match(created.headers['content-type'], /xml/)
  t.match(created.body, /^<\?xml[^>]*>\n<PostResponse>/)
  t.equal(element(created.body, 'Bucket'), name)
  t.equal(element(created.body, 'Key'), 'b/c d')
  t.equal(element(created.body, 'Location'), `${s.server.url}/${name}/b%2Fc%20d`)
  t.equal(element(created.body, 'ETag'), `"${createHash('md5').update('b/c d').digest('hex')}"`)
  t.equal((await submit(name, form('c', '404'))).status, 204)
  t.equal((await submit(name, form('d', '204'))).status, 204)
  t.same(await keysIn(box, name), ['a', 'b/c d', 'c', 'd'])
})

t.test('success_action_redirect answers 303 to the URL with bucket, key and etag added; one S3 cannot follow is ignored', async t => {
  const name = await bucket()
  const form = (key: string, redirect: string): Part[] => [
    ['key', key], ['success_action_redirect', redirect], ...signV4(credentials, [{ bucket: name }, ['starts-with', '$key', ''], ['starts-with', '$success_action_redirect', '']]), file('x')
  ]
  const etag = encodeURIComponent(`"${createHash('md5').update('x').digest('hex')}"`)
  const plain = await submit(name, form('a b.txt', 'https://example.com/done'))
  t.equal(plain.status, 303)
  t.equal(plain.headers.location, `https://example.com/done?bucket=${name}&key=a%20b.txt&etag=${etag}`)
  const withQuery = await submit(name, form('c', 'http://example.com/done?from=form#top'))
  t.equal(withQuery.headers.location, `http://example.com/done?from=form&bucket=${name}&key=c&etag=${etag}#top`)
  t.equal((await submit(name, form('d', 'not a url'))).status, 204)
  t.equal((await submit(name, form('e', 'javascript:alert(1)'))).status, 204)
  // The legacy field name works the same way.
  const legacy = await submit(name, [['key', 'f'], ['redirect', 'https://example.com/'], ...signV4(credentials, [{ bucket: name }, { key: 'f' }, { redirect: 'https://example.com/' }]), file('x')])
  t.equal(legacy.status, 303)
  t.same(await keysIn(box, name), ['a b.txt', 'c', 'd', 'e', 'f'])
})

t.test('eq conditions, in both forms: met, the upload is stored; not met, 403 naming the condition and nothing stored', async t => {
  const name = await bucket()
  const conditions = [{ bucket: name }, { key: 'k' }, ['eq', '$x-amz-meta-color', 'blue']]
  t.equal((await submit(name, [['key', 'k'], ['x-amz-meta-color', 'blue'], ...signV4(credentials, conditions), file('ok')])).status, 204)
  await box.deleteObject(name, 'k')
  refused(t, await submit(name, [['key', 'k'], ['x-amz-meta-color', 'red'], ...signV4(credentials, conditions), file('no')]),
    403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$x-amz-meta-color", "blue"]')
  refused(t, await submit(name, [['key', 'other'], ['x-amz-meta-color', 'blue'], ...signV4(credentials, conditions), file('no')]),
    403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "k"]')
  // A condition on a field the form lacks fails as well.
  refused(t, await submit(name, [['key', 'k'], ...signV4(credentials, conditions), file('no')]), 403, 'AccessDenied')
  t.same(await keysIn(box, name), [])
})

t.test('starts-with: a prefix holds or fails, "" allows anything, a Content-Type list is checked entry by entry', async t => {
  const name = await bucket()
  const form = (key: string, type: string): Part[] => [
    ['key', key], ['Content-Type', type], ...signV4(credentials, [{ bucket: name }, ['starts-with', '$key', 'user/eric/'], ['starts-with', '$Content-Type', 'image/']]), file('x')
  ]
  t.equal((await submit(name, form('user/eric/a.png', 'image/png'))).status, 204)
  t.equal((await submit(name, form('user/eric/b', 'image/png, image/gif'))).status, 204)
  refused(t, await submit(name, form('user/bob/a.png', 'image/png')), 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/eric/"]')
  refused(t, await submit(name, form('user/eric/c', 'image/png,text/html')), 403, 'AccessDenied')
  const anything = [{ bucket: name }, ['starts-with', '$key', ''], ['starts-with', '$x-amz-meta-note', '']]
  t.equal((await submit(name, [['key', 'free/any'], ['x-amz-meta-note', 'whatever'], ...signV4(credentials, anything), file('x')])).status, 204)
  t.same(await keysIn(box, name), ['free/any', 'user/eric/a.png', 'user/eric/b'])
})

t.test('condition operators and field names are case-insensitive, values are not', async t => {
  const name = await bucket()
  const policy = [{ bUcKeT: name }, ['StArTs-WiTh', '$KeY', 'foo'], { AcL: 'private' }, ['EQ', '$CoNtEnT-TyPe', 'text/plain']]
  t.equal((await submit(name, [['kEy', 'foo.txt'], ['aCl', 'private'], ['content-type', 'text/plain'], ...signV4(credentials, policy), file('x')])).status, 204)
  refused(t, await submit(name, [['key', 'FOO.txt'], ['acl', 'private'], ['Content-Type', 'text/plain'], ...signV4(credentials, policy), file('x')]), 403, 'AccessDenied')
  t.same(await keysIn(box, name), ['foo.txt'])
})

t.test('content-length-range is enforced as the file streams: min and max pass, one byte outside stores nothing', async t => {
  const name = await bucket()
  await box.putObject(name, 'sized', 'before')
  const form = (content: string): Part[] => [['key', 'sized'], ...signV4(credentials, [{ bucket: name }, { key: 'sized' }, ['content-length-range', 3, 5]]), file(content)]
  refused(t, await submit(name, form('12')), 400, 'EntityTooSmall')
  const large = await submit(name, form('123456'))
  refused(t, large, 400, 'EntityTooLarge')
  t.equal(element(large.body, 'MaxSizeAllowed'), '5')
  t.equal(await read(name, 'sized'), 'before', 'a refused upload leaves the object it would have replaced')
  t.equal((await submit(name, form('123'))).status, 204)
  t.equal((await submit(name, form('12345'))).status, 204)
  t.equal(await read(name, 'sized'), '12345')
  // Several ranges: the narrowest holds; a string of digits counts as a number.
  const narrow = [{ bucket: name }, { key: 'n' }, ['content-length-range', 0, 100], ['content-length-range', '2', '4']]
  refused(t, await submit(name, [['key', 'n'], ...signV4(credentials, narrow), file('12345')]), 400, 'EntityTooLarge')
  t.equal((await submit(name, [['key', 'n'], ...signV4(credentials, narrow), file('1234')])).status, 204)
})

t.test('a large file past the maximum is refused before it has all arrived', async t => {
  const name = await bucket()
  const head = multipart([['key', 'huge'], ...signV4(credentials, [{ bucket: name }, { key: 'huge' }, ['content-length-range', 0, 1024 * 1024]])]).subarray(0, -`--${BOUNDARY}--\r\n`.length)
  let sent = 0
  const body = (async function * () {
    yield Buffer.concat([head, Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="huge"\r\n\r\n`)])
    const piece = Buffer.alloc(64 * 1024, 7)
    // 1 GiB, were it all sent.
    for (let i = 0; i < 16384; i++) {
      sent += piece.length
      yield piece
    }
  })()
  const answer = await post(`${s.server.url}/${name}`, body, { 'transfer-encoding': 'chunked' })
  refused(t, answer, 400, 'EntityTooLarge')
  t.ok(sent < 512 * 1024 * 1024, `refused after ${(sent / 1024 / 1024).toFixed(0)} MiB of 1024`)
  t.same(await keysIn(box, name), [])
})

t.test('every field must be named by a condition, but for the exempt ones; fields after the file are ignored', async t => {
  const name = await bucket()
  const policy = [{ bucket: name }, { key: 'k' }]
  refused(t, await submit(name, [['key', 'k'], ['x-amz-meta-Extra', '1'], ...signV4(credentials, policy), file('x')]),
    403, 'AccessDenied', 'Invalid according to Policy: Extra input fields: x-amz-meta-Extra')
  refused(t, await submit(name, [['key', 'k'], ['Content-Type', 'text/html'], ...signV4(credentials, policy), file('x')]),
    403, 'AccessDenied', 'Invalid according to Policy: Extra input fields: Content-Type')
  t.same(await keysIn(box, name), [])
  // x-ignore-*, and the signature fields, need none; what follows the file is not read as a field.
  const answer = await submit(name, [['key', 'k'], ['x-ignore-submit', 'Upload'], ...signV4(credentials, policy), file('x'), ['x-amz-meta-late', 'ignored'], ['key', 'elsewhere']])
  t.equal(answer.status, 204, answer.body)
  t.same((await box.headObject(name, 'k')).metadata, {})
  t.same(await keysIn(box, name), ['k'])
})

t.test('the bucket must be named by a condition, and must be the one addressed', async t => {
  const name = await bucket()
  const other = await bucket()
  refused(t, await submit(name, [['key', 'k'], ...signV4(credentials, [{ key: 'k' }]), file('x')]),
    403, 'AccessDenied', 'Invalid according to Policy: Extra input fields: bucket')
  // Signed for one bucket, sent to another (a `bucket` field does not change which).
  refused(t, await submit(other, [['key', 'k'], ['bucket', name], ...signV4(credentials, [{ bucket: name }, { key: 'k' }]), file('x')]),
    403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "${name}"]`)
  t.same(await keysIn(box, name), [])
  t.same(await keysIn(box, other), [])
})

t.test('an expired policy is refused by the server\'s clock, not the client\'s', async t => {
  const name = await bucket()
  const policy = [{ bucket: name }, { key: 'k' }]
  refused(t, await submit(name, [['key', 'k'], ...signV4(credentials, policy, { expiration: new Date(Date.now() - 1000) }), file('x')]),
    403, 'AccessDenied', 'Invalid according to Policy: Policy expired.')
  const later = await serve(t, { server: { clock: () => Date.now() + 2 * 3600_000 } })
  await later.box.createBucket(name)
  const body = multipart([['key', 'k'], ...signV4(later.credentials, policy), file('x')])
  refused(t, await post(`${later.server.url}/${name}`, body), 403, 'AccessDenied', 'Invalid according to Policy: Policy expired.')
  t.same(await keysIn(later.box, name), [])
  t.same(await keysIn(box, name), [])
})

t.test('a signature that does not match, or a key that does not exist, stores nothing', async t => {
  const name = await bucket()
  const policy = [{ bucket: name }, { key: 'k' }]
  const wrong = { ...credentials, secretAccessKey: 'not-the-secret' }
  refused(t, await submit(name, [['key', 'k'], ...signV4(wrong, policy), file('x')]), 403, 'SignatureDoesNotMatch')
  refused(t, await submit(name, [['key', 'k'], ...signV2(wrong, policy), file('x')]), 403, 'SignatureDoesNotMatch')
  refused(t, await submit(name, [['key', 'k'], ...signV4({ ...credentials, accessKeyId: 'AKNOSUCHKEY' }, policy), file('x')]), 403, 'InvalidAccessKeyId')
  // A policy swapped for another, under the first one's signature.
  const signed = signV4(credentials, policy)
  const swapped = signed.map(([n, v]): [string, string] => n === 'policy' ? [n, encodePolicy({ expiration: '2099-01-01T00:00:00Z', conditions: [['starts-with', '$key', ''], ['starts-with', '$bucket', '']] })] : [n, v])
  const answer = await submit(name, [['key', 'k'], ...swapped, file('x')])
  refused(t, answer, 403, 'SignatureDoesNotMatch')
  t.equal(element(answer.body, 'StringToSign'), swapped.find(([n]) => n === 'policy')![1], 'the string to sign is the policy')
  t.same(await keysIn(box, name), [])
})

t.test('missing fields: key, file, a signature field; a policy nobody signed', async t => {
  const name = await bucket()
  const policy = [{ bucket: name }, ['starts-with', '$key', '']]
  const noKey = await submit(name, [...signV4(credentials, policy), file('x')])
  refused(t, noKey, 400, 'InvalidArgument', 'Bucket POST must contain a field named \'key\'.  If it is specified, please check the order of the fields.')
  t.equal(element(noKey.body, 'ArgumentName'), 'key')
  // A key after the file comes too late.
  refused(t, await submit(name, [...signV4(credentials, policy), file('x'), ['key', 'late']]), 400, 'InvalidArgument')
  refused(t, await submit(name, [['key', 'k'], ...signV4(credentials, policy)]), 400, 'IncorrectNumberOfFilesInPostRequest', 'POST requires exactly one file upload per request.')
  const unsigned = await submit(name, [['key', 'k'], ...signV4(credentials, policy).filter(([n]) => n !== 'x-amz-signature'), file('x')])
  refused(t, unsigned, 400, 'InvalidArgument')
  t.equal(element(unsigned.body, 'ArgumentName'), 'X-Amz-Signature')
  const v2 = await submit(name, [['key', 'k'], ...signV2(credentials, policy).filter(([n]) => n !== 'signature'), file('x')])
  t.equal(element(v2.body, 'ArgumentName'), 'Signature')
  refused(t, await submit(name, [['key', 'k'], ['policy', encodePolicy({ expiration: '2099-01-01T00:00:00Z', conditions: [] })], file('x')]), 403, 'AccessDenied')
  t.same(await keysIn(box, name), [])
})

t.test('a policy that is not a policy: 400 InvalidPolicyDocument, once it is signed', async t => {
  const name = await bucket()
  // Signed as it is, so that only its content can be wrong.
  const signedPolicy = (doc: unknown): Part[] => {
    const policy = typeof doc === 'string' ? doc : encodePolicy(doc)
    const signature = createHmac('sha1', credentials.secretAccessKey).update(policy).digest('base64')
    return [['key', 'k'], ['AWSAccessKeyId', credentials.accessKeyId], ['policy', policy], ['signature', signature], file('x')]
  }
  const cases: Array<[string, unknown]> = [
    ['not base64', '%%%'],
    ['not JSON', Buffer.from('{not json').toString('base64')],
    ['no expiration', { conditions: [] }],
    ['EXPIRATION is not expiration', { EXPIRATION: '2099-01-01T00:00:00Z', conditions: [] }],
    ['no conditions', { expiration: '2099-01-01T00:00:00Z' }],
    ['a field S3 does not have', { expiration: '2099-01-01T00:00:00Z', conditions: [], extra: 1 }],
    ['an expiration that is no date', { expiration: '2099-01-01 00:00:00+00:00', conditions: [] }],
    ['conditions not a list', { expiration: '2099-01-01T00:00:00Z', conditions: {} }],
    ['an empty condition', { expiration: '2099-01-01T00:00:00Z', conditions: [{}] }],
    ['two properties in one', { expiration: '2099-01-01T00:00:00Z', conditions: [{ a: '1', b: '2' }] }],
    ['an unknown operation', { expiration: '2099-01-01T00:00:00Z', conditions: [['ends-with', '$key', 'x']] }],
    ['a short range', { expiration: '2099-01-01T00:00:00Z', conditions: [['content-length-range', 0]] }],
    ['a negative range', { expiration: '2099-01-01T00:00:00Z', conditions: [['content-length-range', -1, 0]] }],
    ['a condition that is a number', { expiration: '2099-01-01T00:00:00Z', conditions: [7] }]
  ]
  for (const [what, doc] of cases) {
    const answer = await submit(name, signedPolicy(doc))
    t.equal(answer.status, 400, `${what}: ${answer.body}`)
    t.equal(element(answer.body, 'Code'), 'InvalidPolicyDocument', what)
  }
  t.same(await keysIn(box, name), [])
})

t.test('repeated fields are one field of comma-joined values; a repeated key is refused', async t => {
  const name = await bucket()
  const policy = [{ bucket: name }, { key: 'k' }, { 'x-amz-meta-tag': 'Ninja,Stallman' }]
  const answer = await submit(name, [['key', 'k'], ['x-amz-meta-tag', 'Ninja'], ['x-amz-meta-tag', 'Stallman'], ...signV4(credentials, policy), file('x')])
  t.equal(answer.status, 204, answer.body)
  t.same((await box.headObject(name, 'k')).metadata, { tag: 'Ninja,Stallman' })
  refused(t, await submit(name, [['key', 'k'], ['x-amz-meta-tag', 'Ninja'], ...signV4(credentials, policy), file('x')]), 403, 'AccessDenied')
  refused(t, await submit(name, [['key', 'k2'], ['key', 'k3'], ...signV4(credentials, [{ bucket: name }, ['starts-with', '$key', '']]), file('x')]), 400, 'InvalidArgument')
  t.same(await keysIn(box, name), ['k'])
})

t.test(`${FILENAME} takes only the name of the file: no folder a browser sends can move the key out of its prefix`, async t => {
  const name = await bucket()
  const policy = [{ bucket: name }, ['starts-with', '$key', 'uploads/'], ['starts-with', '$x-amz-meta-original', '']]
  const upload = async (filename: string): Promise<Answer> =>
    await submit(name, [['key', `uploads/${FILENAME}`], ['x-amz-meta-original', FILENAME], ...signV4(credentials, policy), file('x', filename)])
  const cases: Array<[string, string]> = [
    ['cat.jpg', 'uploads/cat.jpg'],
    ['../../etc/passwd', 'uploads/passwd'],
    ['C:\\Documents and Settings\\eve\\dog.png', 'uploads/dog.png'],
    ['..\\..\\windows\\win.ini', 'uploads/win.ini'],
    ['/absolute/path.txt', 'uploads/path.txt'],
    ['..', 'uploads/..'],
    [`$&$1 ${FILENAME}.txt`, `uploads/$&$1 ${FILENAME}.txt`],
    ['ünï cödé.txt', 'uploads/ünï cödé.txt']
  ]
  for (const [filename, key] of cases) {
    const answer = await upload(filename)
    t.equal(answer.status, 204, `${filename}: ${answer.body}`)
    t.equal((await box.headObject(name, key)).metadata.original, key.slice('uploads/'.length), `${filename} is stored as ${key}`)
  }
  t.ok((await keysIn(box, name)).every(key => key.startsWith('uploads/')), 'every key is under uploads/')
  // A key that is only the file name, and no file name: S3 refuses the empty key.
  const empty = await submit(name, [['key', FILENAME], ...signV4(credentials, [{ bucket: name }, ['starts-with', '$key', '']]), { content: 'x' }])
  refused(t, empty, 400, 'InvalidArgument')
})

t.test('fields before the file are held to 20 KB; a hostile form costs no more than that', async t => {
  const name = await bucket()
  const policy = [{ bucket: name }, { key: 'k' }, ['starts-with', '$x-ignore-pad', '']]
  const padded = (size: number): Part[] => [['key', 'k'], ['x-ignore-pad', 'p'.repeat(size)], ...signV4(credentials, policy), file('x')]
  t.equal((await submit(name, padded(16 * 1024))).status, 204)
  const large = await submit(name, padded(20 * 1024))
  refused(t, large, 400, 'MaxPostPreDataLengthExceeded')
  t.equal(element(large.body, 'MaxPostPreDataLengthBytes'), '20480')
  // Ten thousand tiny fields, and one field whose value never ends.
  const many: Part[] = Array.from({ length: 10000 }, (_, i): [string, string] => [`x-ignore-${i}`, ''])
  refused(t, await submit(name, [['key', 'k'], ...many, file('x')]), 400, 'MaxPostPreDataLengthExceeded')
  const endless = (async function * () {
    yield Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\n`)
    for (let i = 0; i < 1000; i++) yield Buffer.alloc(64 * 1024, 0x61)
  })()
  refused(t, await post(`${s.server.url}/${name}`, endless, { 'transfer-encoding': 'chunked' }), 400, 'MaxPostPreDataLengthExceeded')
})

t.test('bodies that are not well-formed multipart/form-data', async t => {
  const name = await bucket()
  const good = multipart([['key', 'k'], ...signV4(credentials, [{ bucket: name }, { key: 'k' }]), file('x')])
  const cases: Array<[string, Buffer, Record<string, string>?]> = [
    ['cut short in a field', good.subarray(0, 300)],
    ['cut short in the file', good.subarray(0, good.length - 20)],
    ['no boundary at all', Buffer.from('key=k&file=x')],
    ['a part without Content-Disposition', Buffer.from(`--${BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${BOUNDARY}--\r\n`)],
    ['a part that is not form-data', Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: attachment; name="key"\r\n\r\nx\r\n--${BOUNDARY}--\r\n`)],
    ['a content type without its boundary', good, { 'content-type': 'multipart/form-data' }]
  ]
  for (const [what, body, headers] of cases) {
    const answer = await post(`${s.server.url}/${name}`, body, headers)
    t.equal(answer.status, 400, `${what}: ${answer.body}`)
    t.equal(element(answer.body, 'Code'), 'MalformedPOSTRequest', what)
  }
  t.same(await keysIn(box, name), [])
})

t.test('an anonymous form (no policy) is judged by the anonymous view: refused on a private bucket, stored on a public-read-write one', async t => {
  const name = await bucket()
  refused(t, await submit(name, [['key', 'anon.txt'], file('x')]), 403, 'AccessDenied')
  t.same(await keysIn(box, name), [])
  await box.putBucketAcl(name, 'public-read-write')
  const answer = await submit(name, [['key', 'anon.txt'], ['Content-Type', 'text/plain'], ['success_action_status', '201'], file('anonymous')])
  t.equal(answer.status, 201, answer.body)
  t.equal(await read(name, 'anon.txt'), 'anonymous')
  // An anonymous writer cannot publish what it writes.
  refused(t, await submit(name, [['key', 'public.txt'], ['acl', 'public-read'], file('x')]), 403, 'AccessDenied')
  t.same(await keysIn(box, name), ['anon.txt'])
})

t.test('a form acts with its key\'s grants: the bucket, the prefix and the publish right', async t => {
  const name = await bucket()
  const other = await bucket()
  const writer = await s.keyed([{ bucket: name, permission: 'readwrite', prefix: 'in/' }])
  const publisher = await s.keyed([{ bucket: name, permission: 'readwrite', publish: true }])
  const form = (creds: typeof writer, key: string, acl?: string): Part[] => [
    ['key', key], ...(acl === undefined ? [] : [['acl', acl] as [string, string]]),
    ...signV4(creds, [['starts-with', '$bucket', ''], ['starts-with', '$key', ''], ['starts-with', '$acl', '']]), file('x')
  ]
  t.equal((await submit(name, form(writer, 'in/a'))).status, 204)
  refused(t, await submit(name, form(writer, 'out/a')), 403, 'AccessDenied')
  refused(t, await submit(other, form(writer, 'in/a')), 403, 'AccessDenied')
  refused(t, await submit(name, form(writer, 'in/public', 'public-read')), 403, 'AccessDenied')
  t.equal((await submit(name, form(publisher, 'public', 'public-read'))).status, 204)
  t.equal((await box.getObjectAcl(name, 'public')).acl, 'public-read')
  const anonymous = await box.anonymous().getObject(name, 'public')
  anonymous.body.destroy()
  t.equal((await submit(name, form(publisher, 'private', 'private'))).status, 204)
  refused(t, await submit(name, form(publisher, 'bad', 'everyone-read')), 400, 'InvalidArgument')
  refused(t, await submit(name, [['key', 'both'], ['acl', 'private'], ['x-amz-acl', 'public-read'], ...signV4(publisher, [['starts-with', '$bucket', ''], { key: 'both' }, { acl: 'private' }, { 'x-amz-acl': 'public-read' }]), file('x')]), 400, 'InvalidRequest')
  t.same(await keysIn(box, name), ['in/a', 'private', 'public'])
  t.same(await keysIn(box, other), [])
})

t.test('checksum, Content-MD5 and encryption fields act as their headers do', async t => {
  const name = await bucket()
  const content = 'checked'
  const sha256 = createHash('sha256').update(content).digest('base64')
  const md5 = createHash('md5').update(content).digest('base64')
  const policy = [{ bucket: name }, ['starts-with', '$key', ''], ['starts-with', '$x-amz-checksum-sha256', ''], ['starts-with', '$x-amz-checksum-crc32', ''],
    ['starts-with', '$Content-MD5', ''], ['starts-with', '$x-amz-server-side-encryption', ''], ['starts-with', '$x-amz-checksum-md4', '']]
  const answer = await submit(name, [['key', 'sum'], ['x-amz-checksum-sha256', sha256], ['Content-MD5', md5], ['x-amz-server-side-encryption', 'AES256'], ...signV4(credentials, policy), file(content)])
  t.equal(answer.status, 204, answer.body)
  t.equal(answer.headers['x-amz-checksum-sha256'], sha256)
  t.equal(answer.headers['x-amz-server-side-encryption'], 'AES256')
  t.equal((await box.headObject(name, 'sum')).serverSideEncryption, 'AES256')
  refused(t, await submit(name, [['key', 'bad'], ['x-amz-checksum-sha256', createHash('sha256').update('other').digest('base64')], ...signV4(credentials, policy), file(content)]), 400, 'BadDigest')
  refused(t, await submit(name, [['key', 'bad'], ['Content-MD5', createHash('md5').update('other').digest('base64')], ...signV4(credentials, policy), file(content)]), 400, 'BadDigest')
  refused(t, await submit(name, [['key', 'bad'], ['x-amz-checksum-sha256', sha256], ['x-amz-checksum-crc32', 'AAAAAA=='], ...signV4(credentials, policy), file(content)]), 400, 'InvalidRequest')
  refused(t, await submit(name, [['key', 'bad'], ['x-amz-checksum-md4', 'AAAA'], ...signV4(credentials, policy), file(content)]), 400, 'InvalidRequest')
  t.same(await keysIn(box, name), ['sum'])
})

t.test('a form\'s tagging field (a Tagging document) tags the object; a bad one stores nothing', async t => {
  const name = await bucket()
  const tagging = '<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>'
  const answer = await submit(name, [['key', 'k'], ['tagging', tagging], ...signV4(credentials, [{ bucket: name }, { key: 'k' }, { tagging }]), file('x')])
  t.equal(answer.status, 204, answer.body)
  t.same(await box.getObjectTagging(name, 'k'), { tags: { a: 'b' } })
  const bad = '<Tagging><TagSet><Tag><Key>a&amp;b</Key><Value>v</Value></Tag></TagSet></Tagging>'
  refused(t, await submit(name, [['key', 'bad'], ['tagging', bad], ...signV4(credentials, [{ bucket: name }, { key: 'bad' }, { tagging: bad }]), file('x')]), 400, 'InvalidTag')
  refused(t, await submit(name, [['key', 'bad'], ['tagging', 'a=b'], ...signV4(credentials, [{ bucket: name }, { key: 'bad' }, { tagging: 'a=b' }]), file('x')]), 400, 'MalformedXML')
  t.same(await keysIn(box, name), ['k'])
})

t.test('a POST to a bucket that is not a form: 412 when signed, DeleteObjects still works', async t => {
  const name = await bucket()
  await box.putBucketAcl(name, 'public-read-write')
  const answer = await post(`${s.server.url}/${name}`, Buffer.from('key=k'), { 'content-type': 'application/x-www-form-urlencoded' })
  refused(t, answer, 412, 'PreconditionFailed')
  t.equal(element(answer.body, 'Condition'), 'Bucket POST must be of the enclosure-type multipart/form-data')
  await box.putObject(name, 'gone', 'x')
  const { DeleteObjectsCommand } = await import('@aws-sdk/client-s3')
  const deleted = await s.client().send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: [{ Key: 'gone' }] } }))
  t.same(deleted.Deleted?.map(d => d.Key), ['gone'])
})

t.test('Expect: 100-continue is answered, so a careful client sends its form', async t => {
  const name = await bucket()
  const body = multipart([['key', 'k'], ...signV4(credentials, [{ bucket: name }, { key: 'k' }]), file('continued')])
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${s.server.url}/${name}`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': String(body.length), expect: '100-continue' }
    }, res => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) })
    req.on('continue', () => req.end(body))
    req.on('error', reject)
  })
  t.equal(status, 204)
  t.equal(await read(name, 'k'), 'continued')
})

t.test('a client gone in the middle of its file leaves nothing stored, and is no server failure', async t => {
  const failures: unknown[] = []
  const own = await serve(t, { server: { onError: err => { failures.push(err) } } })
  await own.box.createBucket('cut')
  const head = multipart([['key', 'k'], ...signV4(own.credentials, [{ bucket: 'cut' }, { key: 'k' }])]).subarray(0, -`--${BOUNDARY}--\r\n`.length)
  const opening = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="k"\r\n\r\n`)
  await new Promise<void>(resolve => {
    const req = request(`${own.server.url}/cut`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': String(head.length + opening.length + 1024 * 1024) }
    })
    req.on('error', () => resolve())
    req.write(Buffer.concat([head, opening, Buffer.alloc(64 * 1024, 1)]), () => { setTimeout(() => req.destroy(), 100) })
  })
  await new Promise(resolve => setTimeout(resolve, 200))
  t.same(failures, [])
  t.same(await keysIn(own.box, 'cut'), [])
})

t.test('the form parser reads the same parts however the body is cut into chunks', async t => {
  // A preamble, transport padding after a boundary, a file holding near-delimiters (the boundary
  // not after CRLF is content), an epilogue.
  const content = Buffer.from(`a\r\n--${BOUNDARY.slice(0, -1)}x\r\n-\r\n-x--${BOUNDARY}\r\n\r\nend\r\n`)
  const body = Buffer.concat([
    Buffer.from('preamble to ignore\r\n'),
    Buffer.from(`--${BOUNDARY}  \t\r\nContent-Disposition: form-data; name="Key"\r\n\r\nk\r\n`),
    Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="empty"\r\n\r\n\r\n`),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="C:\\dir\\a.txt"\r\nContent-Type: text/plain\r\n\r\n`),
    content,
    Buffer.from(`\r\n--${BOUNDARY}--\r\nepilogue`)
  ])
  const { FormReader } = await import('../../lib/s3/form.js')
  const parse = async (cut: number[]): Promise<string> => {
    const chunks = (async function * () {
      let at = 0
      for (let i = 0; at < body.length; i++) {
        const size = cut[i % cut.length]!
        yield body.subarray(at, at + size)
        at += size
      }
    })()
    const reader = new FormReader(chunks, BOUNDARY, 20 * 1024)
    const seen: string[] = []
    for (let part = await reader.next(); part !== undefined; part = await reader.next()) {
      if (part.name !== 'file') {
        seen.push(`${part.name}=${(await reader.value()).toString()}`)
        continue
      }
      const pieces: Buffer[] = []
      for await (const piece of reader.stream()) pieces.push(piece)
      seen.push(`file(${part.filename})=${Buffer.concat(pieces).toString('base64')}`)
    }
    await reader.drain()
    return seen.join('|')
  }
  const expected = `Key=k|empty=|file(C:\\dir\\a.txt)=${content.toString('base64')}`
  for (const cut of [[body.length], [1], [2], [3], [7, 1, 64], [BOUNDARY.length + 3], [5, 13, 1, 1, 40]]) {
    t.equal(await parse(cut), expected, `chunks of ${cut.join(', ')} bytes`)
  }
})

t.test('a 256 MiB file streams into a disk store with flat memory', async t => {
  const disk = await serve(t, { open: { location: await tempDir(t) } })
  await disk.box.createBucket('big')
  const total = 256 * 1024 * 1024
  const head = multipart([['key', 'big.bin'], ...signV4(disk.credentials, [{ bucket: 'big' }, { key: 'big.bin' }, ['content-length-range', total, total]])])
    .subarray(0, -`--${BOUNDARY}--\r\n`.length)
  const opening = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  const closing = Buffer.from(`\r\n--${BOUNDARY}--\r\n`)
  const md5 = createHash('md5')
  const memory = rssWatch()
  const body = (async function * () {
    yield Buffer.concat([head, opening])
    const piece = Buffer.alloc(256 * 1024)
    for (let sent = 0, n = 0; sent < total; sent += piece.length, n++) {
      // Bytes that look like a boundary's start, so the parser's held-back tail is exercised.
      piece.fill(n % 2 === 0 ? 0x2d : 0x0d)
      piece.write(`\r\n--${BOUNDARY.slice(0, 10 + (n % 20))}`, piece.length - 40)
      md5.update(piece)
      memory.sample()
      yield piece
    }
    yield closing
  })()
  const length = head.length + opening.length + total + closing.length
  const answer = await post(`${disk.server.url}/big`, body, { 'content-length': String(length) })
  t.equal(answer.status, 204, answer.body)
  t.equal(answer.headers.etag, `"${md5.digest('hex')}"`, 'every byte arrived, none from the framing')
  t.equal((await disk.box.headObject('big', 'big.bin')).size, total)
  const growth = memory.growthMiB()
  t.ok(growth < 64, `RSS grew ${growth.toFixed(1)} MiB while 256 MiB went through`)
})
