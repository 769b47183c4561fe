import t from 'tap'
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { objectPath, presignUrl } from '../../lib/s3/index.js'
import { serve } from './helpers.js'

const BUCKET = 'links'
/** Keys S3 clients get wrong: spaces, unicode, `+`, a literal `%2F`, `~`, a trailing `/`, reserved characters. */
const KEYS = [
  'plain.txt',
  'with space.txt',
  'dir/ünïcødé ✓ 文字.bin',
  'a+b+c',
  'a%2Fb',
  '100%',
  '~tilde~/x~y',
  'folder/',
  'double//slash',
  "!'()*[]&$@=;:,?#^`{}|\\\"<>.txt"
]

/** The <Code> and <Message> of an S3 error body. */
async function s3Error (res: Response): Promise<{ code: string | undefined, message: string | undefined }> {
  const text = await res.text()
  return { code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1], message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1] }
}

t.test('presignUrl', async t => {
  const s = await serve(t)
  const admin = s.client()
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }))
  for (const [i, Key] of KEYS.entries()) await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: `body ${i}: ${Key}` }))
  // The console's case: a link signed with a chosen key, its secret taken from the engine.
  const reader = await s.box.keys.create({ name: 'reader', grants: [{ bucket: BUCKET, permission: 'read' }] })
  const { secret } = s.box.keys.secretOf(reader.accessKeyId)
  const sign = (url: string, extra: { method?: string, expiresIn?: number, now?: Date } = {}): string =>
    presignUrl({ method: 'GET', url, accessKeyId: reader.accessKeyId, secretAccessKey: secret, region: 'us-east-1', expiresIn: 300, ...extra })

  t.test('a real server accepts the URLs it makes, for awkward keys', async t => {
    for (const [i, key] of KEYS.entries()) {
      const res = await fetch(sign(s.server.url + objectPath(BUCKET, key)))
      t.equal(res.status, 200, `GET ${JSON.stringify(key)}`)
      t.equal(await res.text(), `body ${i}: ${key}`, `the body of ${JSON.stringify(key)}, not another object's`)
    }
  })

  t.test('a path written another way is re-encoded as S3 signs it', async t => {
    // encodeURIComponent leaves !'()* as they are; a raw path has spaces and unicode; both are the same key.
    const viaComponent = `${s.server.url}/${BUCKET}/${KEYS[9]!.split('/').map(encodeURIComponent).join('/')}`
    t.equal(sign(viaComponent), sign(s.server.url + objectPath(BUCKET, KEYS[9]!)), 'the same URL as objectPath gives')
    t.equal((await fetch(sign(viaComponent))).status, 200)
    const raw = await fetch(sign(`${s.server.url}/${BUCKET}/dir/ünïcødé ✓ 文字.bin`))
    t.equal(raw.status, 200)
    t.equal(await raw.text(), `body 2: ${KEYS[2]!}`)
    const bare = await fetch(sign(`${s.server.url}/${BUCKET}/100%`))
    t.equal(await bare.text(), 'body 5: 100%', 'a % that starts no escape is a %')
  })

  t.test('query parameters are signed and kept; HEAD signs HEAD', async t => {
    const url = sign(`${s.server.url}${objectPath(BUCKET, 'plain.txt')}?response-content-disposition=${encodeURIComponent('attachment; filename="p q.txt"')}`)
    const res = await fetch(url)
    t.equal(res.status, 200)
    t.equal(res.headers.get('content-disposition'), 'attachment; filename="p q.txt"')
    await res.arrayBuffer()
    const head = await fetch(sign(s.server.url + objectPath(BUCKET, 'plain.txt'), { method: 'HEAD' }), { method: 'HEAD' })
    t.equal(head.status, 200)
    const wrongMethod = await fetch(sign(s.server.url + objectPath(BUCKET, 'plain.txt')), { method: 'HEAD' })
    t.equal(wrongMethod.status, 403, 'a GET link is no HEAD link')
  })

  t.test('a link lives up to 7 days; an expired one is refused', async t => {
    const week = await fetch(sign(s.server.url + objectPath(BUCKET, 'plain.txt'), { expiresIn: 604_800 }))
    t.equal(week.status, 200, 'the longest lifetime is accepted')
    await week.arrayBuffer()
    const url = sign(s.server.url + objectPath(BUCKET, 'plain.txt'), { expiresIn: 60, now: new Date(Date.now() - 120_000) })
    const res = await fetch(url)
    t.equal(res.status, 403)
    t.same(await s3Error(res), { code: 'AccessDenied', message: 'Request has expired' })
  })

  t.test('a tampered link is refused with SignatureDoesNotMatch', async t => {
    const url = sign(s.server.url + objectPath(BUCKET, 'plain.txt'))
    const tampered = [
      url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`),
      url.replace('/plain.txt?', '/a%2Bb%2Bc?'),
      url.replace('X-Amz-Expires=300', 'X-Amz-Expires=3000'),
      `${url}&response-content-type=text%2Fhtml`
    ]
    for (const link of tampered) {
      const res = await fetch(link)
      t.equal(res.status, 403, link)
      t.equal((await s3Error(res)).code, 'SignatureDoesNotMatch')
    }
    const other = await s.box.keys.create({ name: 'other', grants: [{ bucket: BUCKET, permission: 'read' }] })
    const swapped = url.replace(encodeURIComponent(reader.accessKeyId + '/'), encodeURIComponent(other.accessKeyId + '/'))
    t.not(swapped, url)
    t.equal((await s3Error(await fetch(swapped))).code, 'SignatureDoesNotMatch', 'another key\'s id on the same signature')
  })

  t.test('the key\'s grants still apply', async t => {
    await admin.send(new CreateBucketCommand({ Bucket: 'elsewhere' }))
    await admin.send(new PutObjectCommand({ Bucket: 'elsewhere', Key: 'x', Body: 'x' }))
    const res = await fetch(sign(s.server.url + objectPath('elsewhere', 'x')))
    t.equal(res.status, 403)
    t.equal((await s3Error(res)).code, 'AccessDenied')
  })

  t.test('the same URL as @aws-sdk/s3-request-presigner getSignedUrl, given the parameters the SDK adds', async t => {
    const now = new Date('2030-03-04T05:06:07.890Z')
    const credentials = { accessKeyId: reader.accessKeyId, secretAccessKey: secret }
    const sdk = new S3Client({ endpoint: s.server.url, region: 'us-east-1', forcePathStyle: true, credentials })
    const plain = new S3Client({ endpoint: s.server.url, region: 'us-east-1', forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' })
    t.teardown(() => { sdk.destroy(); plain.destroy() })
    for (const key of KEYS) {
      const path = s.server.url + objectPath(BUCKET, key)
      const theirs = await getSignedUrl(sdk, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 900, signingDate: now })
      // The SDK adds x-id=GetObject (its operation marker) and x-amz-checksum-mode=ENABLED (response
      // checksums), both signed; with them in the URL, the output is the SDK's to the character.
      t.equal(sign(`${path}?x-id=GetObject&x-amz-checksum-mode=ENABLED`, { expiresIn: 900, now }), theirs, JSON.stringify(key))
      const withoutChecksums = await getSignedUrl(plain, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 900, signingDate: now })
      t.equal(sign(`${path}?x-id=GetObject`, { expiresIn: 900, now }), withoutChecksums)
      const head = await getSignedUrl(plain, new HeadObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 900, signingDate: now })
      t.equal(sign(path, { method: 'HEAD', expiresIn: 900, now }), head, 'HEAD: the SDK adds nothing, the URLs are the same')
    }
    // Without the SDK's markers: the same parameters less those two, the same order, its own signature.
    const ours = new URL(sign(s.server.url + objectPath(BUCKET, KEYS[2]!), { expiresIn: 900, now }))
    const theirs = new URL(await getSignedUrl(sdk, new GetObjectCommand({ Bucket: BUCKET, Key: KEYS[2] }), { expiresIn: 900, signingDate: now }))
    t.equal(ours.pathname, theirs.pathname)
    const names = (u: URL): string[] => [...u.searchParams.keys()]
    t.same(names(ours), names(theirs).filter(name => name !== 'x-id' && name !== 'x-amz-checksum-mode'))
    for (const name of names(ours)) if (name !== 'X-Amz-Signature') t.equal(ours.searchParams.get(name), theirs.searchParams.get(name), name)
  })

  t.test('bad arguments are programmer errors', async t => {
    const url = s.server.url + objectPath(BUCKET, 'plain.txt')
    for (const expiresIn of [0, -1, 604_801, 1.5, Number.NaN]) t.throws(() => sign(url, { expiresIn }), RangeError, `expiresIn ${expiresIn}`)
    for (const bad of ['ftp://h/b/k', 'h/b/k', `${url}#frag`, 'http://user:pw@h/b/k', sign(url)]) t.throws(() => sign(bad), TypeError, bad)
    t.throws(() => sign(url, { method: 'get' }), TypeError)
    t.throws(() => sign(url, { now: new Date(Number.NaN) }), TypeError)
    t.throws(() => presignUrl({ method: 'GET', url, accessKeyId: 'a/b', secretAccessKey: 's', region: 'r', expiresIn: 1 }), TypeError)
    t.throws(() => presignUrl({ method: 'GET', url, accessKeyId: 'a', secretAccessKey: '', region: 'r', expiresIn: 1 }), TypeError)
    t.throws(() => presignUrl({ method: 'GET', url, accessKeyId: 'a', secretAccessKey: 's', region: '', expiresIn: 1 }), TypeError)
    t.equal(objectPath('b', 'a b/c+d%/é/'), '/b/a%20b/c%2Bd%25/%C3%A9/')
  })
})
