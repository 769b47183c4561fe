import t, { type Test } from 'tap'
import { createHash, createHmac, randomInt } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import type { HttpRequest, SourceData } from '@smithy/types'
import { S3Error } from '../../lib/s3/errors.js'
import {
  canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUri, chunkStringToSign, hmacHex, isPresignedV4, parseAmzDate,
  parseAuthorizationV4, signingKey, stringToSign, trailerStringToSign, uriEncode, verifyV4, type SignedRequest
} from '../../lib/s3/sigv4.js'

// The AWS documentation examples' key, secret and clock.
const AKID = 'AKIAIOSFODNN7EXAMPLE'
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const T0 = Date.UTC(2013, 4, 24)
const AMZ_DATE = '20130524T000000Z'
const SCOPE = '20130524/us-east-1/s3/aws4_request'
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const MIN = 60_000

const secretOf = (id: string): string => {
  if (id !== AKID) throw new Error(`unknown key ${id}`)
  return SECRET
}

/** A SignedRequest as node:http would present `method url` with these raw headers. */
function request (method: string, url: string, headers: Array<[string, string]>, now = T0): SignedRequest {
  const q = url.indexOf('?')
  const lower: Record<string, string> = {}
  for (const [name, value] of headers) {
    const key = name.toLowerCase()
    lower[key] = lower[key] === undefined ? value : `${lower[key]}, ${value}`
  }
  return { method, rawPath: q === -1 ? url : url.slice(0, q), rawQuery: q === -1 ? '' : url.slice(q + 1), rawHeaders: headers.flat(), headers: lower, now }
}

function authorization (signed: string, signature: string, scope = SCOPE, akid = AKID): [string, string] {
  return ['Authorization', `AWS4-HMAC-SHA256 Credential=${akid}/${scope}, SignedHeaders=${signed}, Signature=${signature}`]
}

/** `headers` plus an Authorization header carrying `signature`. */
function signedRequest (headers: Array<[string, string]>, method: string, url: string, signed: string, signature: string, now = T0): SignedRequest {
  return request(method, url, [...headers, authorization(signed, signature)], now)
}

/** Asserts `fn` throws an S3Error with `code` (and `message`), and returns it. */
function rejects (t: Test, fn: () => unknown, code: string, message?: string, label = code): S3Error | undefined {
  try {
    fn()
  } catch (err) {
    t.ok(err instanceof S3Error, `${label}: an S3Error`)
    t.equal((err as S3Error).code, code, label)
    if (message !== undefined) t.equal((err as S3Error).message, message, label)
    return err as S3Error
  }
  t.fail(`${label}: no error`)
  return undefined
}

const GET_RANGE: Array<[string, string]> = [
  ['Host', 'examplebucket.s3.amazonaws.com'],
  ['Range', 'bytes=0-9'],
  ['x-amz-content-sha256', EMPTY],
  ['x-amz-date', AMZ_DATE]
]

t.test('uriEncode() encodes UTF-8 bytes with uppercase hex and keeps only unreserved characters', async t => {
  t.equal(uriEncode('AZaz09-_.~', true), 'AZaz09-_.~')
  t.equal(uriEncode('a b/c', false), 'a%20b/c')
  t.equal(uriEncode('a b/c', true), 'a%20b%2Fc')
  t.equal(uriEncode("+*!'()$&=?#%", true), '%2B%2A%21%27%28%29%24%26%3D%3F%23%25')
  t.equal(uriEncode('é中😀', true), '%C3%A9%E4%B8%AD%F0%9F%98%80')
})

t.test('canonicalUri() re-encodes the decoded path once, with the raw path as fallback', async t => {
  t.same(canonicalUri(''), ['/'])
  t.same(canonicalUri('/'), ['/'])
  t.same(canonicalUri('/test$file.text'), ['/test%24file.text', '/test$file.text'])
  t.same(canonicalUri('/test%24file.text'), ['/test%24file.text'])
  t.same(canonicalUri('/b/%c3%a9'), ['/b/%C3%A9'], 'lowercase escapes are not a fallback reason')
  t.same(canonicalUri('/b/a%2Bb+c'), ['/b/a%2Bb%2Bc', '/b/a%2Bb+c'], "'+' in a path is not a space")
  t.same(canonicalUri('/b/a//../c'), ['/b/a//../c'], 'no dot-segment or slash normalisation')
  t.same(canonicalUri('/b/50%'), ['/b/50%'], 'a malformed escape leaves the raw path')
  t.same(canonicalUri('/b/%zz'), ['/b/%zz'])
})

t.test('canonicalQuery() form-decodes, re-encodes with %2F, sorts by name then value', async t => {
  t.equal(canonicalQuery(''), '')
  t.equal(canonicalQuery('lifecycle'), 'lifecycle=')
  t.equal(canonicalQuery('prefix=J&max-keys=2'), 'max-keys=2&prefix=J')
  t.equal(canonicalQuery('b=2&a=1&a=0&&'), 'a=0&a=1&b=2')
  t.equal(canonicalQuery('prefix=a+b%2Fc/d&x=%7e'), 'prefix=a%20b%2Fc%2Fd&x=~')
  t.equal(canonicalQuery('k=50%&j=%zz'), 'j=%25zz&k=50%25', 'malformed escapes stay literal')
  t.equal(canonicalQuery('v=a=b'), 'v=a%3Db', 'split at the first =')
  t.equal(canonicalQuery('X-Amz-Signature=abc&X-Amz-Date=1', 'X-Amz-Signature'), 'X-Amz-Date=1')
  t.equal(canonicalQuery('Z=1&a=1&_=1'), 'Z=1&_=1&a=1', 'byte order: uppercase before _ before lowercase')
})

t.test('canonicalHeaders() joins duplicates with "," and collapses runs of spaces', async t => {
  const raw = ['Host', 'h', 'X-Amz-Meta-A', '  one   two\t three ', 'x-amz-meta-a', 'four', 'X-Other', 'x']
  t.equal(canonicalHeaders(raw, ['host', 'x-amz-meta-a']), 'host:h\nx-amz-meta-a:one two three,four\n')
  t.equal(canonicalHeaders(raw, ['host', 'x-missing']), 'host:h\nx-missing:\n', 'an absent signed header is empty')
})

t.test('the AWS example GET with Range: canonical request, string to sign, signature', async t => {
  const signed = ['host', 'range', 'x-amz-content-sha256', 'x-amz-date']
  const headers = canonicalHeaders(GET_RANGE.flat(), signed)
  const request = canonicalRequest('GET', '/test.txt', '', headers, signed, EMPTY)
  t.equal(request, [
    'GET', '/test.txt', '',
    'host:examplebucket.s3.amazonaws.com', 'range:bytes=0-9', `x-amz-content-sha256:${EMPTY}`, `x-amz-date:${AMZ_DATE}`, '',
    'host;range;x-amz-content-sha256;x-amz-date', EMPTY
  ].join('\n'))
  const toSign = stringToSign(AMZ_DATE, SCOPE, request)
  t.equal(toSign, `AWS4-HMAC-SHA256\n${AMZ_DATE}\n${SCOPE}\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972`)
  const key = signingKey(SECRET, '20130524', 'us-east-1', 's3')
  t.equal(hmacHex(key, toSign), 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41')

  const auth = verifyV4(signedRequest(GET_RANGE, 'GET', '/test.txt', 'host;range;x-amz-content-sha256;x-amz-date', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'), secretOf)
  t.match(auth, { accessKeyId: AKID, amzDate: AMZ_DATE, scope: SCOPE, region: 'us-east-1', payloadHash: EMPTY, presigned: false })
  t.equal(auth.key.toString('hex'), key.toString('hex'))
  t.notOk('expires' in auth)
})

t.test('the AWS example PUT /test$file.text verifies as sent and strictly encoded', async t => {
  const headers: Array<[string, string]> = [
    ['Date', 'Fri, 24 May 2013 00:00:00 GMT'],
    ['Host', 'examplebucket.s3.amazonaws.com'],
    ['x-amz-content-sha256', createHash('sha256').update('Welcome to Amazon S3.').digest('hex')],
    ['x-amz-date', AMZ_DATE],
    ['x-amz-storage-class', 'REDUCED_REDUNDANCY']
  ]
  t.equal(headers[2]![1], '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072')
  const sig = '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd'
  const signed = 'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class'
  for (const url of ['/test$file.text', '/test%24file.text']) {
    t.equal(verifyV4(signedRequest(headers, 'PUT', url, signed, sig), secretOf).signature, sig, url)
  }
})

t.test('the AWS examples GET ?lifecycle and GET ?max-keys=2&prefix=J verify', async t => {
  const headers = GET_RANGE.filter(([name]) => name !== 'Range')
  const signed = 'host;x-amz-content-sha256;x-amz-date'
  t.ok(verifyV4(signedRequest(headers, 'GET', '/?lifecycle', signed, 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'), secretOf))
  t.ok(verifyV4(signedRequest(headers, 'GET', '/?max-keys=2&prefix=J', signed, '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'), secretOf))
  t.ok(verifyV4(signedRequest(headers, 'GET', '/?prefix=J&max-keys=2', signed, '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'), secretOf), 'in any order')
})

const PRESIGNED = '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
  '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404'
const HOST: Array<[string, string]> = [['Host', 'examplebucket.s3.amazonaws.com']]

t.test('the AWS example presigned GET verifies until it expires', async t => {
  t.ok(isPresignedV4(PRESIGNED.split('?')[1]!))
  t.notOk(isPresignedV4('prefix=X-Amz-Algorithm'))
  const auth = verifyV4(request('GET', PRESIGNED, HOST), secretOf)
  t.match(auth, { accessKeyId: AKID, presigned: true, payloadHash: 'UNSIGNED-PAYLOAD', expires: T0 + 86400_000, region: 'us-east-1' })
  t.ok(verifyV4(request('GET', PRESIGNED, HOST, T0 + 6 * 86400_000 / 7), secretOf), 'long after 15 minutes')
  t.ok(verifyV4(request('GET', PRESIGNED, HOST, T0 + 86400_000), secretOf), 'up to the last millisecond')
  const expired = rejects(t, () => verifyV4(request('GET', PRESIGNED, HOST, T0 + 86400_001), secretOf), 'AccessDenied', 'Request has expired')
  t.match(expired?.extras, { 'X-Amz-Expires': 86400 })
  t.ok(verifyV4(request('GET', PRESIGNED, HOST, T0 - 14 * MIN), secretOf), 'a little before its date')
  rejects(t, () => verifyV4(request('GET', PRESIGNED, HOST, T0 - 16 * MIN), secretOf), 'AccessDenied', 'Request is not valid yet')
  rejects(t, () => verifyV4(request('GET', PRESIGNED.replace('test.txt', 'test2.txt'), HOST), secretOf), 'SignatureDoesNotMatch')
  rejects(t, () => verifyV4(request('GET', PRESIGNED, [['Host', 'other.s3.amazonaws.com']]), secretOf), 'SignatureDoesNotMatch')
})

t.test('presigned parameters are validated before the signature', async t => {
  const week = 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds'
  for (const bad of ['604801', '0', 'abc', '']) {
    rejects(t, () => verifyV4(request('GET', PRESIGNED.replace('X-Amz-Expires=86400', `X-Amz-Expires=${bad}`), HOST), secretOf), 'AuthorizationQueryParametersError', week)
  }
  // A negative lifetime has run out: S3 answers that it expired.
  rejects(t, () => verifyV4(request('GET', PRESIGNED.replace('X-Amz-Expires=86400', 'X-Amz-Expires=-1'), HOST), secretOf), 'AccessDenied', 'Request has expired')
  rejects(t, () => verifyV4(request('GET', PRESIGNED.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1'), HOST), secretOf), 'AuthorizationQueryParametersError')
  rejects(t, () => verifyV4(request('GET', PRESIGNED.replace('&X-Amz-SignedHeaders=host', ''), HOST), secretOf), 'AuthorizationQueryParametersError')
  rejects(t, () => verifyV4(request('GET', PRESIGNED.replace('%2Fs3%2F', '%2Fec2%2F'), HOST), secretOf), 'AuthorizationQueryParametersError')
  rejects(t, () => verifyV4(request('GET', PRESIGNED.replace('X-Amz-Date=20130524T000000Z', 'X-Amz-Date=20130525T000000Z'), HOST), secretOf), 'AuthorizationQueryParametersError')
  rejects(t, () => verifyV4(request('GET', PRESIGNED.replace('X-Amz-Date=20130524T000000Z', 'X-Amz-Date=2013-05-24'), HOST), secretOf), 'AuthorizationQueryParametersError')
  rejects(t, () => verifyV4(request('GET', PRESIGNED, [...HOST, authorization('host', EMPTY)]), secretOf), 'InvalidArgument')
})

const CHUNKED: Array<[string, string]> = [
  ['Content-Encoding', 'aws-chunked'],
  ['Content-Length', '66824'],
  ['Host', 's3.amazonaws.com'],
  ['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'],
  ['x-amz-date', AMZ_DATE],
  ['x-amz-decoded-content-length', '66560'],
  ['x-amz-storage-class', 'REDUCED_REDUNDANCY']
]
const TRAILING: Array<[string, string]> = [
  ...CHUNKED.filter(([name]) => name !== 'Content-Length' && name !== 'x-amz-content-sha256'),
  ['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'],
  ['x-amz-trailer', 'x-amz-checksum-crc32c']
]
const a64k = createHash('sha256').update(Buffer.alloc(65536, 'a')).digest('hex')
const a1k = createHash('sha256').update(Buffer.alloc(1024, 'a')).digest('hex')

t.test('the AWS streaming example: seed, chunk and final signatures chain', async t => {
  const signed = 'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class'
  const auth = verifyV4(signedRequest(CHUNKED, 'PUT', '/examplebucket/chunkObject.txt', signed, '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9'), secretOf)
  t.equal(auth.payloadHash, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD')
  t.equal(a64k, 'bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a')
  t.equal(a1k, '2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a')
  const toSign = chunkStringToSign(auth.amzDate, auth.scope, auth.signature, a64k)
  t.equal(toSign, `AWS4-HMAC-SHA256-PAYLOAD\n${AMZ_DATE}\n${SCOPE}\n${auth.signature}\n${EMPTY}\n${a64k}`)
  const one = hmacHex(auth.key, toSign)
  t.equal(one, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648')
  const two = hmacHex(auth.key, chunkStringToSign(auth.amzDate, auth.scope, one, a1k))
  t.equal(two, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497')
  t.equal(hmacHex(auth.key, chunkStringToSign(auth.amzDate, auth.scope, two, EMPTY)), 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9')
})

t.test('the AWS streaming-trailer example: seed, chunks, final and trailer signatures', async t => {
  const signed = 'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer'
  const auth = verifyV4(signedRequest(TRAILING, 'PUT', '/examplebucket/chunkObject.txt', signed, '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e'), secretOf)
  const one = hmacHex(auth.key, chunkStringToSign(auth.amzDate, auth.scope, auth.signature, a64k))
  t.equal(one, 'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2')
  const two = hmacHex(auth.key, chunkStringToSign(auth.amzDate, auth.scope, one, a1k))
  t.equal(two, '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7')
  const final = hmacHex(auth.key, chunkStringToSign(auth.amzDate, auth.scope, two, EMPTY))
  t.equal(final, '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992')
  const trailers = createHash('sha256').update('x-amz-checksum-crc32c:sOO8/Q==\n').digest('hex')
  t.equal(trailers, '1e376db7e1a34a8ef1c4bcee131a2d60a1cb62503747488624e10995f448d774')
  const toSign = trailerStringToSign(auth.amzDate, auth.scope, final, trailers)
  t.equal(toSign, `AWS4-HMAC-SHA256-TRAILER\n${AMZ_DATE}\n${SCOPE}\n${final}\n${trailers}`)
  t.equal(hmacHex(auth.key, toSign), 'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435')
})

t.test('signingKey() is the documented HMAC chain and is cached', async t => {
  const h = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest()
  const expected = h(h(h(h('AWS4' + SECRET, '20130524'), 'us-east-1'), 's3'), 'aws4_request')
  const key = signingKey(SECRET, '20130524', 'us-east-1', 's3')
  t.same(key, expected)
  t.equal(signingKey(SECRET, '20130524', 'us-east-1', 's3'), key, 'the same Buffer the second time')
  t.not(signingKey(SECRET, '20130524', 'nyc3', 's3').toString('hex'), key.toString('hex'))
  for (let i = 0; i < 300; i++) signingKey(SECRET, '20130524', `r${i}`, 's3')
  t.same(signingKey(SECRET, '20130524', 'us-east-1', 's3'), expected, 'still right after eviction')
})

t.test('parseAuthorizationV4() takes both separators and refuses malformed headers', async t => {
  const sig = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'
  const expected = { accessKeyId: AKID, date: '20130524', region: 'us-east-1', service: 's3', scope: SCOPE, signedHeaders: ['host', 'x-amz-date'], signature: sig }
  t.same(parseAuthorizationV4(`AWS4-HMAC-SHA256 Credential=${AKID}/${SCOPE}, SignedHeaders=host;x-amz-date, Signature=${sig}`), expected)
  t.same(parseAuthorizationV4(`AWS4-HMAC-SHA256 Credential=${AKID}/${SCOPE},SignedHeaders=host;x-amz-date,Signature=${sig}`), expected, 's3cmd style')
  t.same(parseAuthorizationV4(`AWS4-HMAC-SHA256 Credential=${AKID}/${SCOPE},SignedHeaders=host;x-amz-date,Signature=${sig.toUpperCase()}`), expected)
  for (const bad of [
    `AWS4-HMAC-SHA1 Credential=${AKID}/${SCOPE}, SignedHeaders=host, Signature=${sig}`,
    `AWS ${AKID}:abc`,
    `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3, SignedHeaders=host, Signature=${sig}`,
    `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=${sig}`,
    `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=${sig}`,
    `AWS4-HMAC-SHA256 Credential=${AKID}/2013-05-24/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${sig}`,
    `AWS4-HMAC-SHA256 Credential=/${SCOPE}, SignedHeaders=host, Signature=${sig}`,
    `AWS4-HMAC-SHA256 Credential=${AKID}/${SCOPE}, Signature=${sig}`,
    `AWS4-HMAC-SHA256 Credential=${AKID}/${SCOPE}, SignedHeaders=host;;date, Signature=${sig}`,
    `AWS4-HMAC-SHA256 Credential=${AKID}/${SCOPE}, SignedHeaders=host, Signature=${sig.slice(1)}`,
    `AWS4-HMAC-SHA256 Credential=${AKID}/${SCOPE}, SignedHeaders=host`
  ]) rejects(t, () => parseAuthorizationV4(bad), 'AuthorizationHeaderMalformed')
})

// ---- Real signatures from the AWS SDK's signer ----

class Sha256 {
  private readonly hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>
  constructor (secret?: SourceData) {
    this.hash = secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', typeof secret === 'string' ? secret : ArrayBuffer.isView(secret) ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength) : Buffer.from(secret))
  }

  update (data: string | Uint8Array): void { this.hash.update(data) }
  async digest (): Promise<Uint8Array> { return this.hash.digest() }
  reset (): void {}
}

const signer = (secret = SECRET, region = 'us-east-1'): SignatureV4 =>
  new SignatureV4({ credentials: { accessKeyId: AKID, secretAccessKey: secret }, region, service: 's3', sha256: Sha256, uriEscapePath: false })

// How the JS SDK puts a key on the wire: encodeURIComponent per segment, plus !'()*.
const escape = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase())

function httpRequest (method: string, key: string, query: Record<string, string>, headers: Record<string, string>): HttpRequest {
  return {
    method,
    protocol: 'http:',
    hostname: 'localhost',
    port: 9000,
    path: '/bucket/' + key.split('/').map(escape).join('/'),
    query,
    headers: { host: 'localhost:9000', ...headers }
  }
}

/** The signed HttpRequest as node:http would hand it to the server. */
function received (req: HttpRequest, now: number): SignedRequest {
  const query = Object.entries(req.query ?? {}).map(([name, value]) => value === '' && name.length % 2 === 0 ? escape(name) : `${escape(name)}=${escape(String(value))}`)
  return request(req.method, req.path + (query.length > 0 ? '?' + query.join('&') : ''), Object.entries(req.headers), now)
}

const ODD_KEYS = ['a b', 'ünïcödé/中文/😀', 'a+b=c&d', 'a//b', '../x/./y/..', 'x/', "!'()*~", '%41%', '$test@file,;:.text', 'tab\there', 'q?#[]']

function randomText (alphabet: string[], max: number): string {
  let out = ''
  for (let i = randomInt(1, max); i > 0; i--) out += alphabet[randomInt(alphabet.length)]!
  return out
}
const PIECES = ['a', 'Z', '0', ' ', '+', '%', '/', '//', '..', '.', '~', '-', '_', '*', '=', '&', '?', '#', 'é', '中', '😀', '$', "'", '(', ':']

t.test('verifyV4() accepts requests signed by @smithy/signature-v4, including odd keys', async t => {
  const keys = [...ODD_KEYS, ...Array.from({ length: 40 }, () => randomText(PIECES, 20))]
  for (const key of keys) {
    const query: Record<string, string> = { 'x-id': 'PutObject', prefix: randomText(PIECES, 8), uploads: '', 'encoding-type': 'url' }
    const headers = { 'x-amz-meta-note': `  two  spaces ${randomText(['a', ' ', 'b'], 6)} `, 'content-type': 'text/plain', 'x-amz-content-sha256': EMPTY }
    const method = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'][randomInt(5)]!
    const signed = await signer().sign(httpRequest(method, key, query, headers), { signingDate: new Date(T0) })
    t.equal(verifyV4(received(signed, T0), secretOf).accessKeyId, AKID, JSON.stringify(key))
  }
})

t.test('verifyV4() refuses an SDK-signed request after any part is tampered with', async t => {
  for (const key of ODD_KEYS) {
    const signed = await signer().sign(httpRequest('PUT', key, { tagging: '', 'x-id': 'a b' }, { 'x-amz-meta-a': 'b', 'x-amz-content-sha256': EMPTY }), { signingDate: new Date(T0) })
    const good = received(signed, T0)
    t.ok(verifyV4(good, secretOf))
    const tampered: Array<[string, SignedRequest]> = [
      ['method', { ...good, method: 'POST' }],
      ['path', { ...good, rawPath: good.rawPath + 'x' }],
      ['query', { ...good, rawQuery: good.rawQuery.replace('x-id=a%20b', 'x-id=a%20c') }],
      ['extra query', { ...good, rawQuery: good.rawQuery + '&acl' }],
      ['header', received({ ...signed, headers: { ...signed.headers, 'x-amz-meta-a': 'c' } }, T0)],
      ['payload hash', received({ ...signed, headers: { ...signed.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, T0)],
      ['date', received({ ...signed, headers: { ...signed.headers, 'x-amz-date': '20130524T000001Z' } }, T0)],
      ['signature', received({ ...signed, headers: { ...signed.headers, authorization: signed.headers.authorization!.replace(/.$/, c => c === '0' ? '1' : '0') } }, T0)]
    ]
    for (const [part, req] of tampered) rejects(t, () => verifyV4(req, secretOf), 'SignatureDoesNotMatch', undefined, `${part} of ${JSON.stringify(key)}`)
  }
})

t.test('a wrong secret gives SignatureDoesNotMatch with AWS debugging extras', async t => {
  const signed = await signer('not the secret').sign(httpRequest('GET', 'k', {}, { 'x-amz-content-sha256': EMPTY }), { signingDate: new Date(T0) })
  const err = rejects(t, () => verifyV4(received(signed, T0), secretOf), 'SignatureDoesNotMatch')
  t.match(err?.extras, {
    AWSAccessKeyId: AKID,
    StringToSign: new RegExp(`^AWS4-HMAC-SHA256\n${AMZ_DATE}\n${SCOPE}\n[0-9a-f]{64}$`),
    CanonicalRequest: /^GET\n\/bucket\/k\n\n/,
    SignatureProvided: /^[0-9a-f]{64}$/
  })
})

t.test('the clock may be 15 minutes off either way, and is checked before the key lookup', async t => {
  for (const offset of [-14 * MIN, 14 * MIN, -15 * MIN, 15 * MIN]) {
    const signed = await signer().sign(httpRequest('GET', 'k', {}, { 'x-amz-content-sha256': EMPTY }), { signingDate: new Date(T0 + offset) })
    t.ok(verifyV4(received(signed, T0), secretOf), `${offset / MIN} minutes`)
  }
  for (const offset of [-16 * MIN, 16 * MIN]) {
    const signed = await signer().sign(httpRequest('GET', 'k', {}, { 'x-amz-content-sha256': EMPTY }), { signingDate: new Date(T0 + offset) })
    const err = rejects(t, () => verifyV4(received(signed, T0), () => { throw new Error('looked up') }), 'RequestTimeTooSkewed')
    t.match(err?.extras, { RequestTime: toAmz(T0 + offset), ServerTime: new Date(T0).toISOString(), MaxAllowedSkewMilliseconds: 900000 })
  }
})

const toAmz = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}/, '').replace(/[-:]/g, '')

t.test('the Date header stands in for x-amz-date, and one of them is required', async t => {
  const signed = await signer().sign(httpRequest('GET', 'k', {}, { 'x-amz-content-sha256': EMPTY }), { signingDate: new Date(T0) })
  const { 'x-amz-date': amzDate, ...rest } = signed.headers
  t.equal(amzDate, AMZ_DATE)
  // Re-sign by hand with the date carried in the Date header only.
  const headers: Array<[string, string]> = [['date', 'Fri, 24 May 2013 00:00:00 GMT'], ['host', 'localhost:9000'], ['x-amz-content-sha256', EMPTY]]
  const names = ['date', 'host', 'x-amz-content-sha256']
  const request1 = canonicalRequest('GET', '/bucket/k', '', canonicalHeaders(headers.flat(), names), names, EMPTY)
  const sig = hmacHex(signingKey(SECRET, '20130524', 'us-east-1', 's3'), stringToSign(AMZ_DATE, SCOPE, request1))
  t.ok(verifyV4(request('GET', '/bucket/k', [...headers, authorization(names.join(';'), sig)]), secretOf))
  const noDate = received({ ...signed, headers: rest }, T0)
  rejects(t, () => verifyV4(noDate, secretOf), 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header')
  rejects(t, () => verifyV4(received({ ...signed, headers: { ...signed.headers, 'x-amz-date': 'yesterday' } }, T0), secretOf), 'AccessDenied')
})

t.test('header auth requires x-amz-content-sha256 and a scope date matching the request date', async t => {
  const sig = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'
  const noHash = GET_RANGE.filter(([name]) => name !== 'x-amz-content-sha256')
  rejects(t, () => verifyV4(signedRequest(noHash, 'GET', '/test.txt', 'host;range;x-amz-date', sig), secretOf), 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256')
  const otherDay = request('GET', '/test.txt', [...GET_RANGE, authorization('host;range;x-amz-content-sha256;x-amz-date', sig, '20130523/us-east-1/s3/aws4_request')])
  rejects(t, () => verifyV4(otherDay, secretOf), 'AuthorizationHeaderMalformed', 'The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.')
  rejects(t, () => verifyV4(request('GET', '/test.txt', GET_RANGE), secretOf), 'AccessDenied')
})

t.test('errors from secretOf propagate unchanged', async t => {
  const err = new Error('NoSuchAccessKey')
  t.throws(() => verifyV4(signedRequest(GET_RANGE, 'GET', '/test.txt', 'host;range;x-amz-content-sha256;x-amz-date', EMPTY), () => { throw err }), err)
  t.throws(() => verifyV4(request('GET', PRESIGNED, HOST), () => { throw err }), err)
})

t.test('any region is accepted and derives its own key', async t => {
  for (const region of ['nyc3', 'us-west-2', 'auto']) {
    const signed = await signer(SECRET, region).sign(httpRequest('GET', 'k', {}, { 'x-amz-content-sha256': EMPTY }), { signingDate: new Date(T0) })
    t.equal(verifyV4(received(signed, T0), secretOf).region, region)
  }
})

t.test('duplicate signed headers are joined with "," as the client signed them', async t => {
  const names = ['host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-meta-dup']
  const headers: Array<[string, string]> = [['Host', 'h'], ['x-amz-content-sha256', EMPTY], ['X-Amz-Date', AMZ_DATE], ['X-Amz-Meta-Dup', 'a'], ['x-amz-meta-dup', ' b  c ']]
  const text = canonicalRequest('GET', '/k', '', `host:h\nx-amz-content-sha256:${EMPTY}\nx-amz-date:${AMZ_DATE}\nx-amz-meta-dup:a,b c\n`, names, EMPTY)
  const sig = hmacHex(signingKey(SECRET, '20130524', 'us-east-1', 's3'), stringToSign(AMZ_DATE, SCOPE, text))
  t.ok(verifyV4(request('GET', '/k', [...headers, authorization(names.join(';'), sig)]), secretOf))
  const separated = [...headers.slice(0, 3), ['x-amz-meta-dup', 'a, b c'] as [string, string], authorization(names.join(';'), sig)]
  rejects(t, () => verifyV4(request('GET', '/k', separated), secretOf), 'SignatureDoesNotMatch')
})

t.test('SDK presigned URLs verify, hoisted headers and odd keys included, and expire', async t => {
  for (const key of [...ODD_KEYS, randomText(PIECES, 20)]) {
    const unsigned = httpRequest('PUT', key, { 'x-id': 'PutObject' }, { 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' })
    const presigned = await signer().presign(unsigned, { signingDate: new Date(T0), expiresIn: 3600 })
    const auth = verifyV4(received(presigned, T0 + 1000), secretOf)
    t.match(auth, { presigned: true, expires: T0 + 3600_000, payloadHash: 'UNSIGNED-PAYLOAD' }, JSON.stringify(key))
    rejects(t, () => verifyV4(received(presigned, T0 + 3600_001), secretOf), 'AccessDenied', 'Request has expired')
    const tampered = received(presigned, T0)
    rejects(t, () => verifyV4({ ...tampered, rawQuery: tampered.rawQuery.replace('x-id=PutObject', 'x-id=GetObject') }, secretOf), 'SignatureDoesNotMatch')
  }
})

t.test('a client that signs its path as sent, without strict encoding, verifies through the fallback', async t => {
  const names = ['host', 'x-amz-content-sha256', 'x-amz-date']
  const headers: Array<[string, string]> = [['Host', 'h'], ['x-amz-content-sha256', EMPTY], ['x-amz-date', AMZ_DATE]]
  const text = canonicalRequest('GET', '/b/k(1)!', '', canonicalHeaders(headers.flat(), names), names, EMPTY)
  const sig = hmacHex(signingKey(SECRET, '20130524', 'us-east-1', 's3'), stringToSign(AMZ_DATE, SCOPE, text))
  t.ok(verifyV4(request('GET', '/b/k(1)!', [...headers, authorization(names.join(';'), sig)]), secretOf))
})

t.test('parseAmzDate() takes real ISO 8601 basic timestamps only', async t => {
  t.equal(parseAmzDate(AMZ_DATE), T0)
  t.equal(parseAmzDate('20130524t000000z'), T0)
  for (const bad of ['20130231T000000Z', '20131301T000000Z', '20130524T250000Z', '2013-05-24T00:00:00Z', '20130524T000000', '']) {
    t.equal(parseAmzDate(bad), undefined, bad)
  }
})
