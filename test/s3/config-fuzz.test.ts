// A seeded fuzz pass over what clients can store in a bucket's configuration (CORS rules, default
// encryption): every stored document is hostile input for every later request, authenticated or
// not. Random documents are stored through the API; whatever was accepted, the requests that
// read it (preflights, cross-origin reads by a key and anonymously, writes under the encryption
// default, reading the configuration back) must each get a well-formed answer that is not a 500,
// in bounded time, with nothing logged as a failure, and the server must go on serving.
//
//   npx tap --disable-coverage test/s3/config-fuzz.test.ts                 # 300 documents
//   SPACEBOX_LONG_TESTS=1 npx tap -t 0 --disable-coverage test/s3/config-fuzz.test.ts   # 3000, new seed
//   SPACEBOX_FUZZ_SEED=<seed> [SPACEBOX_FUZZ_COUNT=<n>]: replay a seed
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { XMLValidator } from 'fast-xml-parser'
import { Rng } from '../fixtures/crash-model.js'
import { serve } from './helpers.js'
import { md5Base64, send, sendSigned, type Reply } from './wire.js'

const LONG = process.env.SPACEBOX_LONG_TESTS === '1'
const SEED = process.env.SPACEBOX_FUZZ_SEED ?? (LONG ? randomBytes(6).toString('hex') : 'spacebox-config-1')
const COUNT = Number(process.env.SPACEBOX_FUZZ_COUNT ?? (LONG ? 3000 : 300))
/** Longest any one answer may take. */
const MAX_MS = 2000

// Pieces of values: plain tokens, wildcards, what headers cannot carry (as XML character
// references), markup-like text, and long runs.
const PIECES = ['*', 'x-amz-', 'content-type', 'ETag', 'https://', 'app.test', 'http://*.', ':8080', 'GET', 'PUT', 'a', '-', '_', ' ', '\t',
  '&#10;', '&#13;', '&#1;', '&#127;', '&#8364;', '&#65279;', '&#x1F600;', 'é', '&amp;', '&lt;', ',', ';', '"', '=', '\\', '%0d%0a', 'Set-Cookie: a=b']
// What a valid rule holds: the documents that are stored, and that later requests read.
const CLEAN = ['*', 'x-amz-*', 'content-type', 'ETag', 'x-amz-meta-*', 'authorization', 'x-*-id', 'https://app.test', 'http://*.app.test', 'null']
const VALID_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD']
const METHODS = [...VALID_METHODS, 'get', 'PATCH', 'OPTIONS', '', '*']
const ELEMENTS = ['AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds', 'ID']
const ORIGINS = ['https://app.test', 'http://x.app.test', 'null', '*', 'https://\u00e9.test', 'https://app.test:8080']
const REQUEST_METHODS = ['GET', 'PUT', 'DELETE', 'HEAD', 'POST', 'PATCH']

function value (rng: Rng, hostile = true): string {
  if (!hostile) return rng.chance(0.7) ? rng.pick(CLEAN) : `x-h${rng.int(0, 1e6)}${rng.chance(0.3) ? '*' : ''}`
  if (rng.chance(0.03)) return rng.pick(PIECES).repeat(rng.logInt(100, 5000))
  let out = ''
  for (let i = rng.int(0, 4); i >= 0; i--) out += rng.pick(PIECES)
  return out
}

/** A CORS document: hostile throughout, or valid in form (then often stored) but of any size. */
function corsDocument (rng: Rng): string {
  const hostile = rng.chance(0.4)
  const rules: string[] = []
  for (let r = rng.chance(0.05) ? rng.logInt(90, 130) : rng.int(hostile ? 0 : 1, 4); r > 0; r--) {
    let rule = ''
    if (!hostile || !rng.chance(0.05)) rule += `<AllowedOrigin>${rng.chance(0.5) ? rng.pick(ORIGINS.slice(0, 4)) : value(rng, hostile)}</AllowedOrigin>`
    if (!hostile || !rng.chance(0.05)) rule += `<AllowedMethod>${rng.pick(hostile ? METHODS : VALID_METHODS)}</AllowedMethod>`
    for (let e = rng.chance(0.05) ? rng.logInt(100, 4000) : rng.int(0, 6); e > 0; e--) {
      const element = rng.pick(hostile ? ELEMENTS : ELEMENTS.slice(0, 4))
      const text = element === 'AllowedMethod' ? rng.pick(hostile ? METHODS : VALID_METHODS) : element === 'MaxAgeSeconds' ? String(rng.int(-5, 2 ** 32)) : value(rng, hostile)
      rule += `<${element}>${text}</${element}>`
    }
    rules.push(`<CORSRule>${rule}</CORSRule>`)
  }
  return `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules.join('')}</CORSConfiguration>`
}

function encryptionDocument (rng: Rng): string {
  const algorithm = rng.pick(['AES256', 'aws:kms', 'aws:kms', 'aws:kms:dsse', value(rng)])
  const keyId = rng.chance(0.6) ? `<KMSMasterKeyID>${rng.chance(0.3) ? 'no-such-key' : value(rng)}</KMSMasterKeyID>` : ''
  const bucketKey = rng.chance(0.5) ? `<BucketKeyEnabled>${rng.pick(['true', 'false', value(rng)])}</BucketKeyEnabled>` : ''
  return '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>' +
    `<SSEAlgorithm>${algorithm}</SSEAlgorithm>${keyId}</ApplyServerSideEncryptionByDefault>${bucketKey}</Rule></ServerSideEncryptionConfiguration>`
}

function requestedHeaders (rng: Rng): string {
  const names: string[] = []
  for (let n = rng.chance(0.1) ? rng.logInt(50, 400) : rng.int(0, 8); n > 0; n--) names.push(rng.chance(0.5) ? rng.pick(['content-type', 'x-amz-date', 'authorization', 'x-amz-meta-a']) : `x-${rng.int(0, 1e6)}`)
  return names.join(',')
}

t.test(`stored bucket configuration cannot crash or stall later requests (seed ${SEED}, ${COUNT} documents)`, async t => {
  const logged: unknown[] = []
  const s = await serve(t, { server: { onError: err => logged.push(err) } })
  await s.box.createBucket('bkt', { acl: 'public-read' })
  await s.box.putObject('bkt', 'ten', '0123456789', { acl: 'public-read' })
  const rng = new Rng(SEED)
  const signed = async (method: string, path: string, headers: Record<string, string> = {}, body = ''): Promise<Reply> =>
    await sendSigned(s.server.url, s.credentials, method, path, headers, body)
  const failures: string[] = []
  let accepted = 0
  let slowest = 0

  async function check (label: string, run: () => Promise<Reply>, ok: (res: Reply) => boolean = () => true): Promise<void> {
    const started = performance.now()
    const res = await run()
    const ms = performance.now() - started
    slowest = Math.max(slowest, ms)
    const wellFormed = res.headers['content-type'] !== 'application/xml' || XMLValidator.validate(res.text) === true
    if (res.status === 500 || res.status === 0 || ms > MAX_MS || !wellFormed || !ok(res)) {
      failures.push(`${label}: ${res.status} ${res.code} in ${ms.toFixed(0)} ms`)
    }
  }

  for (let i = 0; i < COUNT && failures.length < 10; i++) {
    const cors = rng.chance(0.75)
    const document = cors ? corsDocument(rng) : encryptionDocument(rng)
    const stored = await signed('PUT', cors ? '/bkt?cors' : '/bkt?encryption', { 'content-md5': md5Base64(document) }, document)
    if (stored.status === 200) accepted++
    else if (stored.status !== 400) failures.push(`#${i} store: ${stored.status} ${stored.code}`)
    const origin = rng.chance(0.7) ? rng.pick(ORIGINS) : value(rng).replace(/&#\d+;|[^\x21-\x7e]/g, '')
    await check(`#${i} preflight`, async () => await send(s.server.url, 'OPTIONS', '/bkt/ten', {
      origin, 'access-control-request-method': rng.pick(REQUEST_METHODS), 'access-control-request-headers': requestedHeaders(rng)
    }), res => res.status === 200 || res.status === 403 || res.status === 400)
    await check(`#${i} signed read`, async () => await signed('GET', '/bkt/ten', { origin }), res => res.text === '0123456789')
    await check(`#${i} anonymous read`, async () => await send(s.server.url, 'GET', '/bkt/ten', { origin }), res => res.text === '0123456789')
    await check(`#${i} write`, async () => await signed('PUT', '/bkt/written', { origin }, 'body'))
    await check(`#${i} read back`, async () => await signed('GET', cors ? '/bkt?cors' : '/bkt?encryption'))
  }
  t.same(failures, [], `every answer well-formed, not a 500, within ${MAX_MS} ms`)
  t.same(logged, [], 'no failure logged')
  t.ok(accepted > COUNT / 10, `${accepted} of ${COUNT} documents were accepted, so later requests read them (slowest answer ${slowest.toFixed(1)} ms)`)
  const res = await signed('GET', '/bkt/ten')
  t.equal(res.text, '0123456789', 'the server goes on serving')
})
