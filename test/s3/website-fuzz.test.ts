// A seeded fuzz pass over website configurations: every stored document is hostile input for every
// later anonymous website request. Random documents are stored through PutBucketWebsite; whatever
// was accepted, website requests for random paths (and the configuration read back) must each get
// an answer that is not a 500, in bounded time, with a Location a client can follow and nothing
// logged as a failure.
//
//   npx tap --disable-coverage test/s3/website-fuzz.test.ts                 # 300 documents
//   SPACEBOX_LONG_TESTS=1 npx tap -t 0 --disable-coverage test/s3/website-fuzz.test.ts   # 3000, new seed
//   SPACEBOX_FUZZ_SEED=<seed> [SPACEBOX_FUZZ_COUNT=<n>]: replay a seed
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { XMLValidator } from 'fast-xml-parser'
import { Rng } from '../fixtures/crash-model.js'
import { serve } from './helpers.js'
import { md5Base64, send, sendSigned, type Reply } from './wire.js'

const LONG = process.env.SPACEBOX_LONG_TESTS === '1'
const SEED = process.env.SPACEBOX_FUZZ_SEED ?? (LONG ? randomBytes(6).toString('hex') : 'spacebox-website-1')
const COUNT = Number(process.env.SPACEBOX_FUZZ_COUNT ?? (LONG ? 3000 : 300))
const MAX_MS = 2000

// Pieces of values: keys and prefixes, host names good and bad, what headers cannot carry (as XML
// character references), markup-like text.
const PIECES = ['index.html', 'docs/', 'a', '/', '', ' ', '%', '%2F', '?', '#', '..', 'é', '&#10;', '&#13;', '&#1;', '&#8364;', '&#x1F600;', '&amp;', '&lt;',
  'example.com', ':8080', '[::1]', 'Set-Cookie: a=b', '\\', '"']
const HOSTS = ['example.com', 'cdn.example.com:8443', 'localhost', '[::1]:9000', 'bad host', 'evil.com/path', 'a&#13;&#10;b', '']
const CODES = ['301', '302', '307', '308', '300', '306', '200', '404', '403', '500', 'x', '']
const PATHS = ['/', '/index.html', '/docs', '/docs/', '/docs/a.html', '/missing', '/private.html', '/%E2%82%AC/', '/a%20b?x=1&y', '/..%2F..%2Fetc', '/%ZZ', '/docs/old/x']

function value (rng: Rng): string {
  if (rng.chance(0.03)) return rng.pick(PIECES).repeat(rng.logInt(100, 1200))
  let out = ''
  for (let i = rng.int(0, 3); i >= 0; i--) out += rng.pick(PIECES)
  return out
}

function optional (rng: Rng, name: string, text: () => string, p = 0.5): string {
  return rng.chance(p) ? `<${name}>${text()}</${name}>` : ''
}

/** A website document: valid in form most of the time (then often stored), hostile in its values. */
function websiteDocument (rng: Rng): string {
  if (rng.chance(0.15)) {
    return `<WebsiteConfiguration><RedirectAllRequestsTo>${optional(rng, 'HostName', () => rng.pick(HOSTS), 0.9)}` +
      `${optional(rng, 'Protocol', () => rng.pick(['http', 'https', 'ftp', '']))}</RedirectAllRequestsTo>${rng.chance(0.1) ? '<IndexDocument><Suffix>i</Suffix></IndexDocument>' : ''}</WebsiteConfiguration>`
  }
  let inner = optional(rng, 'IndexDocument', () => optional(rng, 'Suffix', () => rng.chance(0.7) ? 'index.html' : value(rng), 0.95), 0.95)
  inner += optional(rng, 'ErrorDocument', () => optional(rng, 'Key', () => rng.chance(0.6) ? rng.pick(['errors/404.html', 'private.html', 'nope.html']) : value(rng), 0.9))
  if (rng.chance(0.7)) {
    let rules = ''
    for (let r = rng.chance(0.05) ? rng.int(45, 55) : rng.int(0, 5); r > 0; r--) {
      const condition = rng.chance(0.8)
        ? `<Condition>${optional(rng, 'KeyPrefixEquals', () => rng.chance(0.5) ? rng.pick(['docs/', 'docs/old/', '', 'm']) : value(rng))}${optional(rng, 'HttpErrorCodeReturnedEquals', () => rng.pick(CODES))}</Condition>`
        : ''
      const redirect = optional(rng, 'HostName', () => rng.pick(HOSTS), 0.3) + optional(rng, 'Protocol', () => rng.pick(['http', 'https', 'gopher']), 0.3) +
        optional(rng, 'HttpRedirectCode', () => rng.pick(CODES), 0.4) + optional(rng, 'ReplaceKeyPrefixWith', () => value(rng), 0.4) +
        optional(rng, 'ReplaceKeyWith', () => value(rng), 0.2)
      rules += `<RoutingRule>${condition}<Redirect>${redirect}</Redirect></RoutingRule>`
    }
    inner += `<RoutingRules>${rules}</RoutingRules>`
  }
  return `<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</WebsiteConfiguration>`
}

t.test(`stored website configurations cannot crash or stall website requests (seed ${SEED}, ${COUNT} documents)`, async t => {
  const logged: unknown[] = []
  const s = await serve(t, { server: { websitePort: 0, onError: err => logged.push(err) } })
  await s.box.createBucket('site')
  for (const key of ['index.html', 'docs/index.html', 'errors/404.html']) await s.box.putObject('site', key, key, { acl: 'public-read', contentType: 'text/html' })
  await s.box.putObject('site', 'private.html', 'secret')
  const rng = new Rng(SEED)
  const failures: string[] = []
  let accepted = 0
  let redirects = 0
  let slowest = 0
  const host = `site.localhost:${String(s.server.websitePort)}`

  async function check (label: string, run: () => Promise<Reply>, ok: (res: Reply) => boolean = () => true): Promise<void> {
    const started = performance.now()
    const res = await run().catch((err: Error) => ({ status: 0, code: err.message, headers: {}, text: '', body: Buffer.alloc(0) }))
    const ms = performance.now() - started
    slowest = Math.max(slowest, ms)
    if (res.status === 500 || res.status === 0 || ms > MAX_MS || !ok(res)) failures.push(`${label}: ${res.status} ${res.code} in ${ms.toFixed(0)} ms`)
  }

  for (let i = 0; i < COUNT && failures.length < 10; i++) {
    const document = websiteDocument(rng)
    const stored = await sendSigned(s.server.url, s.credentials, 'PUT', '/site?website', { 'content-md5': md5Base64(document) }, document)
    if (stored.status === 200) accepted++
    else if (stored.status !== 400) failures.push(`#${i} store: ${stored.status} ${stored.code}`)
    for (let r = 0; r < 3; r++) {
      const path = rng.pick(PATHS)
      await check(`#${i} ${path}`, async () => await send(s.server.websiteUrl as string, rng.pick(['GET', 'GET', 'HEAD']), path, { host }), res => {
        if (res.status < 300 || res.status >= 400 || res.status === 304) return true
        redirects++
        // A redirect always says where, as a URL or a path.
        const location = res.headers.location
        return typeof location === 'string' && /^(https?:\/\/[^/\s]+)?\/[\x21-\x7e]*$/.test(location)
      })
    }
    await check(`#${i} read back`, async () => await sendSigned(s.server.url, s.credentials, 'GET', '/site?website'),
      res => res.status === 404 || XMLValidator.validate(res.text) === true)
  }
  t.same(failures, [], `every answer not a 500, within ${MAX_MS} ms, every Location followable`)
  t.same(logged, [], 'no failure logged')
  t.ok(accepted > COUNT / 10, `${accepted} of ${COUNT} documents were accepted (${redirects} redirects; slowest answer ${slowest.toFixed(1)} ms)`)
})
