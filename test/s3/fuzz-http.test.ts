// A seeded fuzz test of the adapter's request parsing and XML handling: random methods, paths
// (random bytes percent-encoded, or raw), query strings, headers and bodies (mutations of valid
// DeleteObjects, CompleteMultipartUpload, CreateBucketConfiguration and CORSConfiguration
// documents), most signed with a full-access key so they get past authentication. Every answer
// must be a well-formed S3 answer in bounded time, and the server must go on serving.
//
//   npx tap --disable-coverage test/s3/fuzz-http.test.ts                     # 2000 requests
//   SPACEBOX_LONG_TESTS=1 npx tap -t 0 --disable-coverage test/s3/fuzz-http.test.ts   # 20,000, new seed
//   SPACEBOX_FUZZ_SEED=<seed> [SPACEBOX_FUZZ_COUNT=<n>]: replay a seed
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { METHODS as METHODS_NODE_KNOWS } from 'node:http'
import { connect } from 'node:net'
import { XMLValidator } from 'fast-xml-parser'
import { Rng } from '../fixtures/crash-model.js'
import { serve, type Served } from './helpers.js'
import { hostOf, md5Base64, send, signV4, uriEncode, type Reply } from './wire.js'

const LONG = process.env.SPACEBOX_LONG_TESTS === '1'
const SEED = process.env.SPACEBOX_FUZZ_SEED ?? (LONG ? randomBytes(6).toString('hex') : 'spacebox-http-1')
const COUNT = Number(process.env.SPACEBOX_FUZZ_COUNT ?? (LONG ? 20_000 : 2000))
/** Longest any one answer may take. */
const MAX_MS = 5000

const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'PUT', 'PUT', 'PUT', 'POST', 'POST', 'DELETE', 'DELETE', 'OPTIONS', 'PATCH']
const SUBRESOURCES = ['uploads', 'uploadId', 'partNumber', 'delete', 'cors', 'list-type', 'prefix', 'delimiter', 'max-keys', 'marker', 'start-after',
  'continuation-token', 'encoding-type', 'fetch-owner', 'key-marker', 'upload-id-marker', 'max-uploads', 'max-parts', 'part-number-marker', 'location',
  'versioning', 'encryption', 'attributes', 'versionId', 'acl', 'tagging', 'policy', 'x-id', 'response-content-type', 'response-content-disposition',
  'response-expires', 'X-Amz-Expires', 'X-Amz-Signature', 'max-buckets', 'bucket-region']
const HEADERS = ['range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'content-md5', 'content-type', 'content-encoding',
  'x-amz-checksum-crc32', 'x-amz-checksum-sha256', 'x-amz-checksum-mode', 'x-amz-sdk-checksum-algorithm', 'x-amz-checksum-algorithm', 'x-amz-checksum-type',
  'x-amz-copy-source', 'x-amz-copy-source-range', 'x-amz-copy-source-if-match', 'x-amz-metadata-directive', 'x-amz-meta-fuzz', 'x-amz-storage-class',
  'x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-server-side-encryption-customer-key', 'x-amz-server-side-encryption-customer-key-md5', 'x-amz-object-attributes', 'x-amz-decoded-content-length',
  'x-amz-trailer', 'origin', 'access-control-request-method', 'cache-control', 'expires', 'content-disposition', 'x-amz-bucket-region']
const VALUES = ['', ' ', '*', '0', '-1', '1', '10000', '10001', '99999999999999999999', 'bytes=0-1', 'bytes=-0', 'bytes=5-2', 'true', 'null', 'url', 'ENABLED',
  'CRC32', 'SHA256', 'COMPOSITE', 'FULL_OBJECT', 'AES256', 'aws:kms', 'REPLACE', 'COPY', 'GLACIER', 'AAAAAA==', '"etag"', 'Wed, 21 Oct 2015 07:28:00 GMT',
  '/fuzz/obj', 'fuzz/obj', '/fuzz/%ZZ', 'x-amz-checksum-crc32', 'aws-chunked', 'http://example.com', 'ETag,Checksum,ObjectSize', '\u00e9\u00e8']

/** The one part of each upload the fuzzed requests may complete. */
const PART = 'part'
/** Valid documents, mutated below: DOCUMENTS[i] is the body of XML_TARGETS[i]. */
const DOCUMENTS = [
  '<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>false</Quiet><Object><Key>obj</Key></Object><Object><Key>a/b</Key><VersionId>null</VersionId></Object></Delete>',
  `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"${createHash('md5').update(PART).digest('hex')}"</ETag></Part></CompleteMultipartUpload>`,
  '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>',
  '<CORSConfiguration><CORSRule><ID>r</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>',
  '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>'
]
const FRAGMENTS = ['<', '>', '</', '/>', '&', '&amp;', '&lt;', '&#0;', '&#x1;', '&#xD800;', '&#1114112;', '&bogus;', '<![CDATA[x]]>', '<!-- c -->', '<?pi x?>', '<!DOCTYPE d>',
  '<!ENTITY e "x">', '"', "'", '=', ' a="1"', 'xmlns:p="u"', '<p:Key>k</p:Key>', '\u0000', '\u00ff', '\uFEFF', '\uD800', '<Object>', '</Object>', '<Key>', '</Key>',
  '<Part>', '<PartNumber>0</PartNumber>', '<PartNumber>10001</PartNumber>', '<MaxAgeSeconds>-1</MaxAgeSeconds>', '<AllowedMethod>FETCH</AllowedMethod>', '<Quiet>maybe</Quiet>']

interface Request {
  method: string
  path: string
  headers: Record<string, string>
  body: Buffer
  /** Signed, unsigned, or bytes on a bare socket (raw paths Node's client would refuse). */
  how: 'signed' | 'unsigned' | 'socket'
}

/** Random bytes, mostly from a small alphabet so keys and values collide with real ones now and then. */
function randomText (rng: Rng, max: number): string {
  const length = rng.logInt(0, max)
  let out = ''
  for (let i = 0; i < length; i++) {
    const r = rng.next()
    out += r < 0.6 ? rng.pick([...'abcxyz/._-~ 09']) : r < 0.8 ? String.fromCharCode(rng.int(0x20, 0x7e)) : r < 0.95 ? String.fromCharCode(rng.int(0, 0xff)) : String.fromCodePoint(rng.pick([rng.int(0x100, 0xd7ff), rng.int(0xe000, 0x10ffff)]))
  }
  return out
}

/** Percent-encode text, sometimes breaking the encoding on purpose. */
function encoded (rng: Rng, text: string): string {
  const r = rng.next()
  if (r < 0.75) return uriEncode(text, false)
  if (r < 0.85) return [...Buffer.from(text, 'latin1')].map(b => `%${b.toString(16).padStart(2, '0')}`).join('') // bytes that may not be UTF-8
  if (r < 0.95) return uriEncode(text, false) + rng.pick(['%', '%Z', '%ZZ', '%C3', '%C0%AF', '%ED%A0%80', '%FF', '%00'])
  return text.replace(/[^\x21-\x7e]/g, '') // raw, as printable as Node's client allows
}

function mutateXml (rng: Rng, doc: string): string {
  let out = doc
  for (let n = rng.int(0, 4); n > 0; n--) {
    const at = rng.int(0, out.length)
    switch (rng.int(0, 7)) {
      case 0: out = out.slice(0, at) + out.slice(Math.min(out.length, at + rng.logInt(1, 40))); break
      case 1: out = out.slice(0, at) + rng.pick(FRAGMENTS) + out.slice(at); break
      case 2: out = out.slice(0, at); break
      case 3: out = out.slice(0, at) + randomText(rng, 30) + out.slice(at); break
      case 4: { const from = rng.int(0, out.length); const piece = out.slice(from, from + rng.logInt(1, 200)); out = out.slice(0, at) + piece.repeat(rng.logInt(1, 50)) + out.slice(at); break }
      case 5: { const depth = rng.logInt(1, 5000); out = out.slice(0, at) + '<a>'.repeat(depth) + '</a>'.repeat(rng.chance(0.8) ? depth : 0) + out.slice(at); break }
      case 6: out = out.replace(/>([^<]*)</, () => `>${randomText(rng, 50).replace(/[<&]/g, '')}<`); break
      default: out = out.replaceAll(rng.pick(['Object', 'Key', 'Part', 'PartNumber', 'ETag', 'CORSRule', 'AllowedMethod', 'LocationConstraint']), rng.pick(['object', 'Obj', 'Key', 'X', '']))
    }
  }
  return out
}

/** A request of an operation that reads XML, with a mutated document, signed with its Content-MD5 (mostly). */
function xmlRequest (rng: Rng, uploads: string[]): Request {
  const targets = [['POST', '/fuzz?delete'], ['POST', `/fuzz/mpu?uploadId=${rng.pick(uploads)}`], ['PUT', `/fuzz-${rng.int(0, 9)}`], ['PUT', '/fuzz?cors'], ['PUT', '/other?encryption']] as const
  const which = rng.int(0, targets.length - 1)
  const [method, path] = targets[which]!
  const body = Buffer.from(mutateXml(rng, DOCUMENTS[which]!))
  const headers: Record<string, string> = rng.chance(0.9) ? { 'content-md5': md5Base64(body) } : {}
  return { method, path, headers, body, how: rng.chance(0.95) ? 'signed' : 'unsigned' }
}

function generate (rng: Rng, uploads: string[]): Request {
  if (rng.chance(0.3)) return xmlRequest(rng, uploads)
  const method = rng.chance(0.02) ? randomText(rng, 8).replace(/[^A-Z]/gi, '').toUpperCase() || 'GET' : rng.pick(METHODS)
  const bucket = rng.chance(0.7) ? rng.pick(['fuzz', 'fuzz', 'other', 'missing-bucket']) : encoded(rng, randomText(rng, 70))
  const keyText = rng.chance(0.3) ? rng.pick(['obj', 'a/b', 'dir/', 'big', 'mpu']) : randomText(rng, 300)
  let path = rng.chance(0.1) ? '/' : rng.chance(0.2) ? `/${bucket}` : `/${bucket}/${encoded(rng, keyText)}`
  const params: string[] = []
  for (let n = rng.logInt(0, 5); n > 0; n--) {
    const name = rng.chance(0.9) ? rng.pick(SUBRESOURCES) : encoded(rng, randomText(rng, 10))
    const value = name === 'uploadId' && rng.chance(0.7) && uploads.length > 0 ? rng.pick(uploads) : rng.chance(0.5) ? rng.pick(VALUES) : randomText(rng, 40)
    params.push(rng.chance(0.2) ? name : `${name}=${encoded(rng, value)}`)
  }
  if (params.length > 0) path += `?${params.join('&')}`
  const headers: Record<string, string> = {}
  for (let n = rng.logInt(0, 6); n > 0; n--) {
    const name = rng.chance(0.95) ? rng.pick(HEADERS) : `x-amz-${randomText(rng, 12).replace(/[^a-z0-9-]/g, '') || 'x'}`
    // Printable ASCII: Node's client would refuse control characters, and mangles other bytes
    // (raw bytes go on a bare socket, below).
    headers[name] = (rng.chance(0.6) ? rng.pick(VALUES) : randomText(rng, 60)).replace(/[^\t\x20-\x7e]/g, '')
  }
  let body = Buffer.alloc(0)
  if (method === 'PUT' || method === 'POST' || rng.chance(0.05)) {
    body = rng.chance(0.6) ? Buffer.from(mutateXml(rng, rng.pick(DOCUMENTS))) : Buffer.from(randomText(rng, 2000), 'latin1')
    if (rng.chance(0.5)) headers['content-md5'] = md5Base64(body)
  }
  const r = rng.next()
  return { method, path, headers, body, how: r < 0.85 ? 'signed' : r < 0.95 ? 'unsigned' : 'socket' }
}

/** Send one generated request; resolves the reply, or the raw bytes of a bare-socket exchange. */
async function exchange (s: Served, rng: Rng, req: Request): Promise<Reply | string> {
  const url = s.server.url
  if (req.how === 'socket') {
    // Raw bytes Node's client refuses to send, in the request line and a header: control
    // characters, spaces, line breaks, non-ASCII.
    const raw = req.path.replace(/%([0-9A-F]{2})/gi, (m, hex: string) => rng.chance(0.3) ? String.fromCharCode(parseInt(hex, 16)) : m)
    const extra = rng.chance(0.5) ? `X-Raw: ${randomText(rng, 40)}\r\n` : ''
    const head = `${req.method} ${raw} HTTP/1.1\r\nHost: ${hostOf(url)}\r\n${extra}Content-Length: ${req.body.length}\r\nConnection: close\r\n\r\n`
    return await new Promise(resolve => {
      const { hostname, port } = new URL(url)
      const socket = connect(Number(port), hostname)
      const pieces: Buffer[] = []
      socket.on('data', (piece: Buffer) => pieces.push(piece))
      socket.on('error', () => {})
      socket.on('close', () => { resolve(Buffer.concat(pieces).toString('latin1')) })
      socket.end(Buffer.concat([Buffer.from(head, rng.chance(0.5) ? 'latin1' : 'utf8'), req.body]))
    })
  }
  // Node's client frames a DELETE or OPTIONS body only when told its length.
  let headers = req.body.length > 0 ? { ...req.headers, 'content-length': String(req.body.length) } : { ...req.headers }
  if (req.how === 'signed') {
    try {
      const payload = rng.chance(0.3) ? 'UNSIGNED-PAYLOAD' : undefined
      headers = signV4(s.credentials, req.method, req.path, hostOf(url), headers, req.body, payload === undefined ? {} : { payload }).headers
    } catch {
      // A query the signer cannot decode goes unsigned: the server must refuse it all the same.
    }
  }
  return await send(url, req.method, req.path, headers, req.method === 'GET' || req.method === 'HEAD' ? undefined : req.body)
}

/** What is wrong with an answer, if anything. */
function problemOf (req: Request, answer: Reply | string): string | undefined {
  if (typeof answer === 'string') {
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1] ?? 0)
    // Node's own answer to bytes it cannot parse: 400 or 431 without a request id, or just a close.
    if (answer === '' || (!/\r\nx-amz-request-id: /i.test(answer) && (status === 400 || status === 431))) return undefined
    if (status < 100 || status >= 600) return `not an HTTP answer: ${JSON.stringify(answer.slice(0, 80))}`
    if (status === 500) return 'InternalError'
    if (!/\r\nx-amz-request-id: [0-9A-F]+\r\n/i.test(answer)) return 'no x-amz-request-id'
    if (status >= 400 && req.method !== 'HEAD' && !/<Code>[^<]+<\/Code>/.test(answer)) return `error ${status} without a Code`
    return undefined
  }
  const { status, headers, text } = answer
  if (status < 100 || status >= 600) return `status ${status}`
  // A method Node's HTTP parser does not know is refused before the adapter sees it.
  if (!METHODS_NODE_KNOWS.includes(req.method) && status === 400 && headers.connection === 'close' && text === '') return undefined
  if (status === 500) return `InternalError: ${/<Message>([^<]*)/.exec(text)?.[1] ?? ''}`
  const id = headers['x-amz-request-id']
  if (typeof id !== 'string' || id === '') return `no x-amz-request-id (${status} ${JSON.stringify(headers)})`
  if (req.method === 'HEAD') return answer.body.length === 0 ? undefined : 'a HEAD answer with a body'
  const length = headers['content-length']
  if (length !== undefined && Number(length) !== answer.body.length) return `Content-Length ${String(length)} but ${answer.body.length} bytes`
  if (status >= 400) {
    if (headers['content-type'] !== 'application/xml') return `error ${status} without application/xml`
    if (answer.code === '') return `error ${status} without a Code`
    if (!text.includes(`<RequestId>${id}</RequestId>`)) return `error ${status} whose RequestId is not the header's`
  }
  if (headers['content-type'] === 'application/xml' && text !== '' && XMLValidator.validate(text) !== true) return `malformed XML: ${JSON.stringify(text.slice(0, 120))}`
  return undefined
}

function describe (req: Request): string {
  return `${req.how} ${req.method} ${req.path.slice(0, 120)} ${JSON.stringify(req.headers).slice(0, 200)} body ${req.body.length} bytes`
}

t.test(`${COUNT} random requests each get a well-formed S3 answer in bounded time (seed ${SEED})`, async t => {
  const s = await serve(t)
  const box = s.box
  await box.createBucket('fuzz')
  await box.createBucket('other')
  await box.putObject('fuzz', 'obj', 'hello fuzz')
  await box.putObject('fuzz', 'a/b', Buffer.alloc(5000, 1))
  await box.putObject('fuzz', 'big', Buffer.alloc(3 * 1024 * 1024, 2))
  await box.putBucketCors('fuzz', [{ allowedOrigins: ['*'], allowedMethods: ['GET', 'PUT'], allowedHeaders: ['*'] }])
  const uploads: string[] = []
  const newUploads = async (): Promise<void> => {
    uploads.splice(0)
    for (let i = 0; i < 3; i++) {
      const { uploadId } = await box.createMultipartUpload('fuzz', 'mpu')
      await box.uploadPart('fuzz', 'mpu', uploadId, 1, PART)
      uploads.push(uploadId)
    }
  }
  await newUploads()

  const rng = new Rng(SEED)
  const problems: string[] = []
  const started = Date.now()
  let slowest = 0
  const tally = new Map<string, number>()
  for (let i = 0; i < COUNT && problems.length < 20; i++) {
    const req = generate(rng, uploads)
    const began = Date.now()
    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      exchange(s, rng, req).then(answer => {
        const kind = typeof answer === 'string' ? `socket ${answer.slice(9, 12) || 'closed'}` : `${answer.status} ${answer.code}`
        tally.set(kind, (tally.get(kind) ?? 0) + 1)
        return problemOf(req, answer)
      }, (err: Error) => `the request failed: ${err.message}`),
      new Promise<string>(resolve => { timer = setTimeout(() => { resolve(`no answer within ${MAX_MS} ms`) }, MAX_MS) })
    ])
    clearTimeout(timer)
    slowest = Math.max(slowest, Date.now() - began)
    if (outcome !== undefined) problems.push(`seed ${SEED} #${i}: ${outcome} — ${describe(req)}`)
    // Fuzzed deletes and completes wear the fixture down; bring the essentials back.
    if (i % 100 === 99) {
      await box.createBucket('fuzz').catch(() => {})
      await box.putObject('fuzz', 'obj', 'hello fuzz')
      await newUploads()
    }
  }
  t.comment(`${COUNT} requests in ${Date.now() - started} ms, the slowest ${slowest} ms`)
  t.comment([...tally].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`).join(', '))
  t.same(problems, [], `every answer well-formed (replay: SPACEBOX_FUZZ_SEED=${SEED})`)
  const check = await send(s.server.url, 'GET', '/fuzz/obj', signV4(s.credentials, 'GET', '/fuzz/obj', hostOf(s.server.url)).headers)
  t.equal(check.text, 'hello fuzz', 'the server still serves')
})
