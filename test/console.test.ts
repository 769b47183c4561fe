// The web console's server side over real HTTP: sign-in, sessions and CSRF, the headers that keep
// the pages safe, and the JSON API the pages call. The pages themselves: test/browser/console.test.ts.
import t from 'tap'
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createConsole } from '../lib/console/index.js'
import { adminCheck, type ConsoleMount } from '../lib/s3/server.js'
import { serve } from './s3/helpers.js'
import { tempDir } from './helpers.js'

type Tap = { teardown: (fn: () => unknown) => void }

const TOKEN = 'sbx_console-test-token'

interface Fixture {
  url: string
  box: Awaited<ReturnType<typeof serve>>['box']
  logged: string[]
  clock: { now: number }
  /** fetch with the session's cookie (once signed in) and, on writes, its CSRF token. */
  call: (path: string, init?: RequestInit & { json?: unknown, csrf?: boolean }) => Promise<Response>
  signIn: (token?: string) => Promise<Response>
}

async function consoleServer (t: Tap): Promise<Fixture> {
  const assets = join(await tempDir(t), 'ui')
  await mkdir(assets)
  await writeFile(join(assets, 'index.html'), '<!doctype html><title>spacebox</title><script type="module" src="assets/app.js"></script>')
  await writeFile(join(assets, 'app.js'), 'export {}\n')
  await writeFile(join(assets, '.secret.js'), 'no\n')
  const logged: string[] = []
  const clock = { now: Date.now() }
  const isAdmin = adminCheck({ sha256: createHash('sha256').update(TOKEN).digest('hex') })
  // The console needs the store that serve() opens: mounted through a forwarder, made right after.
  const mount: { to?: ConsoleMount } = {}
  const served = await serve(t, {
    server: {
      adminToken: TOKEN,
      console: { handle: async (req, res, id) => { await mount.to?.handle(req, res, id) } }
    }
  })
  mount.to = createConsole(served.box, { isAdmin: isAdmin as (token: string) => boolean, assets, log: line => logged.push(line), now: () => clock.now })
  let cookie: string | undefined
  let csrf: string | undefined
  const call: Fixture['call'] = async (path, init = {}) => {
    const headers = new Headers(init.headers)
    if (cookie !== undefined) headers.set('cookie', cookie)
    if (init.csrf !== false && csrf !== undefined && init.method !== undefined && init.method !== 'GET') headers.set('x-csrf-token', csrf)
    if (init.json !== undefined) headers.set('content-type', 'application/json')
    return await fetch(`${served.server.url}${path}`, { ...init, headers, ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }), redirect: 'manual' })
  }
  return {
    url: served.server.url,
    box: served.box,
    logged,
    clock,
    call,
    async signIn (token = TOKEN) {
      const res = await call('/_spacebox/console/api/session', { method: 'POST', json: { token } })
      const set = res.headers.get('set-cookie')
      if (res.status === 200 && set !== null) {
        cookie = set.split(';')[0]
        csrf = ((await res.clone().json()) as { csrf: string }).csrf
      }
      return res
    }
  }
}

const API = '/_spacebox/console/api'

t.test('the pages: served with a strict CSP, no framing, no referrer; only plain asset names', async t => {
  const c = await consoleServer(t)
  const page = await c.call('/_spacebox/console/')
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /^text\/html/)
  t.equal(page.headers.get('content-security-policy'), "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
  t.equal(page.headers.get('x-frame-options'), 'DENY')
  t.equal(page.headers.get('referrer-policy'), 'no-referrer')
  t.equal(page.headers.get('x-content-type-options'), 'nosniff')
  t.equal((await c.call('/_spacebox/console')).headers.get('location'), '/_spacebox/console/', 'the bare path redirects to the page')
  const script = await c.call('/_spacebox/console/assets/app.js')
  t.equal(script.status, 200)
  t.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8')
  for (const path of ['assets/.secret.js', 'assets/..%2Fui%2Findex.html', 'assets/../ui/app.js', 'assets/index.html', 'assets/missing.js', 'nothing']) {
    const res = await c.call(`/_spacebox/console/${path}`)
    t.equal(res.status, 404, path)
    t.equal(res.headers.get('x-frame-options'), 'DENY', `${path}: errors carry the headers too`)
  }
})

t.test('sign-in: the admin token opens a session in an HttpOnly, SameSite=Strict cookie; wrong tokens are logged, then rate-limited', async t => {
  const c = await consoleServer(t)
  t.equal((await c.call(`${API}/buckets`)).status, 401, 'the API needs a session')
  t.equal((await c.call(`${API}/session`)).status, 401)
  for (let i = 1; i <= 5; i++) {
    const refused = await c.signIn('sbx_wrong')
    t.equal(refused.status, 401)
    t.equal(refused.headers.get('set-cookie'), null)
  }
  t.equal(c.logged.length, 5)
  t.match(c.logged[4], /^spacebox: console sign-in refused from \S+ \(5 in the last minute\)$/)
  t.notOk(c.logged.join('').includes('sbx_wrong'), 'the log never holds a token')
  const blocked = await c.signIn()
  t.equal(blocked.status, 429, 'after five failures, even the right token waits')
  t.match(await blocked.json(), { id: 'too_many_requests' })
  t.ok(Number(blocked.headers.get('retry-after')) > 0)
  c.clock.now += 61_000

  const ok = await c.signIn()
  t.equal(ok.status, 200)
  const cookie = ok.headers.get('set-cookie') ?? ''
  t.match(cookie, /^spacebox_console=[A-Za-z0-9_-]{43}; Path=\/_spacebox\/console; HttpOnly; SameSite=Strict; Max-Age=28800$/)
  const { csrf, expires_at: expires } = await ok.json() as { csrf: string, expires_at: string }
  t.equal(Date.parse(expires), c.clock.now + 8 * 3_600_000)
  t.same(await (await c.call(`${API}/session`)).json(), { csrf, expires_at: expires }, 'a reloaded page gets its CSRF token back')
  t.equal((await c.call(`${API}/buckets`)).status, 200)

  t.equal((await c.call(`${API}/buckets`, { method: 'POST', json: { name: 'no-csrf' }, csrf: false })).status, 403, 'a write without the CSRF token')
  t.equal((await c.call(`${API}/buckets`, { method: 'POST', json: { name: 'bad-csrf' }, csrf: false, headers: { 'x-csrf-token': 'x'.repeat(43) } })).status, 403)
  t.equal((await c.call(`${API}/buckets`, { method: 'POST', json: { name: 'with-csrf' } })).status, 201)
  t.same((await c.box.listBuckets()).map(b => b.name), ['with-csrf'], 'only the write with the token happened')

  c.clock.now += 8 * 3_600_000
  t.equal((await c.call(`${API}/buckets`)).status, 401, 'a session ends after 8 hours')
  await c.signIn()
  const out = await c.call(`${API}/session`, { method: 'DELETE' })
  t.equal(out.status, 204)
  t.match(out.headers.get('set-cookie'), /^spacebox_console=; .*Max-Age=0/)
  t.equal((await c.call(`${API}/buckets`)).status, 401, 'signed out')
})

t.test('a session is this server\'s alone', async t => {
  const one = await consoleServer(t)
  const two = await consoleServer(t)
  const signedIn = await one.signIn()
  const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  t.equal((await fetch(`${one.url}${API}/buckets`, { headers: { cookie } })).status, 200, 'the cookie opens its own server')
  // The same token signs in to the other server, but one's cookie means nothing there.
  t.equal((await fetch(`${two.url}${API}/buckets`, { headers: { cookie } })).status, 401)
})

t.test('the keys API, under the console\'s path where its cookie goes, takes a session as the admin token, with CSRF on writes', async t => {
  const c = await consoleServer(t)
  const keys = `${API}/v2/spaces/keys`
  t.equal((await c.call(keys)).status, 401)
  t.equal((await c.call(keys, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 401, 'here only a session counts')
  await c.signIn()
  const listed = await c.call(keys)
  t.equal(listed.status, 200)
  t.equal(listed.headers.get('x-frame-options'), 'DENY', 'with the console\'s headers')
  t.equal((await c.call('/v2/spaces/keys')).status, 401, 'the session is not the admin token outside the console')
  t.equal((await c.call(keys, { method: 'POST', json: { name: 'k', grants: [] }, csrf: false })).status, 401, 'no CSRF token, no write')
  const made = await c.call(keys, { method: 'POST', json: { name: 'k', grants: [] } })
  t.equal(made.status, 201)
  const id = ((await made.json()) as { key: { access_key: string } }).key.access_key
  t.match(await (await c.call(`${keys}/${id}/usage`)).json(), { usage: { requests: {}, history: [] } })
  t.equal(c.box.keys.list().filter(k => k.name === 'k').length, 1)
})

t.test('buckets: list with counts, create with the rule a name breaks, settings, delete only when empty', async t => {
  const c = await consoleServer(t)
  await c.signIn()
  const refused = await c.call(`${API}/buckets`, { method: 'POST', json: { name: 'Bad_Name' } })
  t.equal(refused.status, 400)
  t.match(await refused.json(), { id: 'InvalidBucketName', message: /only lowercase letters, digits, dots and hyphens/ })
  t.match(await (await c.call(`${API}/buckets`, { method: 'POST', json: { name: 'photos', region: 'eu-west-1' } })).json(), { bucket: { name: 'photos', region: 'eu-west-1' } })
  t.equal((await c.call(`${API}/buckets`, { method: 'POST', json: { name: 'photos' } })).status, 409)
  await c.box.putObject('photos', 'a.jpg', Buffer.alloc(100))
  await c.box.putObject('photos', 'b/c.jpg', Buffer.alloc(23))
  t.match(await (await c.call(`${API}/buckets`)).json(), { buckets: [{ name: 'photos', region: 'eu-west-1', objects: 2, bytes: 123, more: false, created: String }] })

  t.match(await (await c.call(`${API}/buckets/photos`)).json(), { bucket: { name: 'photos' }, versioning: null, encryption: null, cors: null, public: { acl: 'private', policy_statements: 0 } })
  t.match(await (await c.call(`${API}/buckets/photos/versioning`, { method: 'PUT', json: { status: 'Enabled' } })).json(), { versioning: 'Enabled' })
  t.match(await (await c.call(`${API}/buckets/photos/encryption`, { method: 'PUT', json: { algorithm: 'AES256' } })).json(), { encryption: { algorithm: 'AES256' } })
  t.match(await (await c.call(`${API}/buckets/photos/encryption`, { method: 'DELETE' })).json(), { encryption: null })
  const rule = { allowed_origins: ['https://app.example'], allowed_methods: ['GET', 'PUT'], allowed_headers: ['*'], max_age_seconds: 600 }
  t.match(await (await c.call(`${API}/buckets/photos/cors`, { method: 'PUT', json: { rules: [rule] } })).json(), { cors: [rule] })
  const badCors = await c.call(`${API}/buckets/photos/cors`, { method: 'PUT', json: { rules: [{ allowed_origins: ['*'], allowed_methods: ['FETCH'] }] } })
  t.equal(badCors.status, 400)
  t.match(await badCors.json(), { message: /FETCH/ })
  t.equal((await c.call(`${API}/buckets/photos/cors`, { method: 'PUT', json: { rules: [{ origins: ['*'] }] } })).status, 400, 'an unknown field is named')
  t.match(await (await c.call(`${API}/buckets/photos/cors`, { method: 'DELETE' })).json(), { cors: null })

  const full = await c.call(`${API}/buckets/photos`, { method: 'DELETE' })
  t.equal(full.status, 409)
  t.match(await full.json(), { id: 'BucketNotEmpty' })
  await c.call(`${API}/buckets`, { method: 'POST', json: { name: 'empty' } })
  t.equal((await c.call(`${API}/buckets/empty`, { method: 'DELETE' })).status, 204)
  t.equal((await c.call(`${API}/buckets/empty`)).status, 404)
})

t.test('bucket settings: ACL, policy, lifecycle rules and website, checked by the engine; hostile shapes refused', async t => {
  const c = await consoleServer(t)
  await c.signIn()
  await c.box.createBucket('site')
  t.match(await (await c.call(`${API}/buckets/site/acl`, { method: 'PUT', json: { acl: 'public-read' } })).json(), { public: { acl: 'public-read' } })
  t.equal((await c.call(`${API}/buckets/site/acl`, { method: 'PUT', json: { acl: 'everyone' } })).status, 400)

  t.same(await (await c.call(`${API}/buckets/site/policy`)).json(), { policy: null })
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::site/*' }] })
  t.match(await (await c.call(`${API}/buckets/site/policy`, { method: 'PUT', json: { policy } })).json(), { policy: String })
  t.match(await (await c.call(`${API}/buckets/site`)).json(), { public: { policy_statements: 1 } })
  const badPolicy = await c.call(`${API}/buckets/site/policy`, { method: 'PUT', json: { policy: '{"Statement": 5}' } })
  t.equal(badPolicy.status, 400)
  t.match(await badPolicy.json(), { id: 'MalformedPolicy' })
  t.same(await (await c.call(`${API}/buckets/site/policy`, { method: 'DELETE' })).json(), { policy: null })

  const rules = [{ id: 'tmp', status: 'Enabled', filter: { prefix: 'tmp/' }, expiration: { days: 7 } }]
  t.match(await (await c.call(`${API}/buckets/site/lifecycle`, { method: 'PUT', json: { rules } })).json(), { rules: [{ id: 'tmp', status: 'Enabled', expiration: { days: 7 } }] })
  for (const hostile of [[null], ['rule'], [{ status: 'Enabled', expiration: { days: 'x' } }], [{ status: 'Maybe' }], [{ status: 'Enabled', filter: 5, expiration: { days: 1 } }]]) {
    const res = await c.call(`${API}/buckets/site/lifecycle`, { method: 'PUT', json: { rules: hostile } })
    t.equal(res.status, 400, JSON.stringify(hostile))
  }
  t.match(await (await c.call(`${API}/buckets/site/lifecycle`)).json(), { rules: [{ id: 'tmp' }] }, 'a refused configuration changed nothing')
  t.same(await (await c.call(`${API}/buckets/site/lifecycle`, { method: 'DELETE' })).json(), { rules: null })

  const website = { indexDocument: { suffix: 'index.html' }, errorDocument: { key: '404.html' } }
  t.same(await (await c.call(`${API}/buckets/site/website`, { method: 'PUT', json: { website } })).json(), { website })
  for (const hostile of [{ indexDocument: { suffix: '' } }, { indexDocument: 'index.html' }, { routingRules: [null] }, { routingRules: 'x' }]) {
    t.equal((await c.call(`${API}/buckets/site/website`, { method: 'PUT', json: { website: hostile } })).status, 400, JSON.stringify(hostile))
  }
  t.equal((await c.call(`${API}/buckets/site/website`, { method: 'PUT', json: { website: [] } })).status, 400)
  t.same(await (await c.call(`${API}/buckets/site/website`, { method: 'DELETE' })).json(), { website: null })
})

t.test('objects: browse by folder, details, upload (whole and in parts), download, delete many, presigned links', async t => {
  const c = await consoleServer(t)
  await c.signIn()
  await c.box.createBucket('docs')
  const odd = 'folder/<img src=x onerror=alert(1)> "q" ü.txt'
  const put = await c.call(`${API}/buckets/docs/object?key=${encodeURIComponent(odd)}`, { method: 'PUT', body: 'hello', headers: { 'content-type': 'text/plain' } })
  t.equal(put.status, 200)
  t.match(await put.json(), { etag: '"5d41402abc4b2a76b9719d911017c592"', size: 5 })
  for (const key of ['a.txt', 'b.txt', 'folder/deeper/x.bin']) await c.box.putObject('docs', key, 'x')

  const top = await (await c.call(`${API}/buckets/docs/objects?delimiter=/&max=1`)).json() as { objects: Array<{ key: string }>, prefixes: string[], next: string | null }
  t.same(top.objects.map(o => o.key), ['a.txt'])
  t.ok(top.next !== null, 'a page at a time')
  const rest = await (await c.call(`${API}/buckets/docs/objects?delimiter=/&max=10&token=${encodeURIComponent(top.next ?? '')}`)).json() as typeof top
  t.same([rest.objects.map(o => o.key), rest.prefixes, rest.next], [['b.txt'], ['folder/'], null])
  const inside = await (await c.call(`${API}/buckets/docs/objects?delimiter=/&prefix=folder/`)).json() as typeof top
  t.same([inside.objects.map(o => o.key), inside.prefixes], [[odd], ['folder/deeper/']])
  t.equal((await c.call(`${API}/buckets/docs/objects?max=1001`)).status, 400)

  const details = await (await c.call(`${API}/buckets/docs/object?key=${encodeURIComponent(odd)}`)).json()
  t.match(details, { key: odd, size: 5, content_type: 'text/plain', metadata: {}, checksums: {}, storage_class: 'STANDARD' })
  const got = await c.call(`${API}/buckets/docs/download?key=${encodeURIComponent(odd)}`)
  t.equal(await got.text(), 'hello')
  t.equal(got.headers.get('content-disposition'), `attachment; filename*=UTF-8''${encodeURIComponent('<img src=x onerror=alert(1)> "q" ü.txt')}`)
  t.equal(got.headers.get('content-type'), 'application/octet-stream', 'never rendered by the browser')
  t.equal((await c.call(`${API}/buckets/docs/download?key=missing`)).status, 404)
  t.equal((await c.call(`${API}/buckets/docs/download`)).status, 400, 'a key is needed')

  // A multipart upload as the page sends one: 5 MiB parts, then the small last one.
  const started = await c.call(`${API}/buckets/docs/uploads`, { method: 'POST', json: { key: 'big.bin', content_type: 'application/x-big' } })
  t.equal(started.status, 201)
  const { upload_id: uploadId } = await started.json() as { upload_id: string }
  const parts = []
  for (const [n, size] of [[1, 5 * 1024 * 1024], [2, 1000]] as const) {
    const res = await c.call(`${API}/buckets/docs/uploads/${uploadId}/parts/${n}?key=big.bin`, { method: 'PUT', body: Buffer.alloc(size, n) })
    t.equal(res.status, 200)
    parts.push({ part: n, etag: ((await res.json()) as { etag: string }).etag })
  }
  t.equal((await c.call(`${API}/buckets/docs/uploads/${uploadId}/parts/0?key=big.bin`, { method: 'PUT', body: 'x' })).status, 400)
  const done = await c.call(`${API}/buckets/docs/uploads/${uploadId}/complete`, { method: 'POST', json: { key: 'big.bin', parts } })
  t.match(await done.json(), { etag: /-2"$/, size: 5 * 1024 * 1024 + 1000 })
  t.equal((await c.box.headObject('docs', 'big.bin')).contentType, 'application/x-big')
  const aborted = await (await c.call(`${API}/buckets/docs/uploads`, { method: 'POST', json: { key: 'gone' } })).json() as { upload_id: string }
  t.equal((await c.call(`${API}/buckets/docs/uploads/${aborted.upload_id}?key=gone`, { method: 'DELETE' })).status, 204)

  // A presigned link carries a key's grants: one that cannot read is refused one.
  const reader = await c.box.keys.create({ name: 'reader', grants: [{ bucket: 'docs', permission: 'read', prefix: 'folder/' }] })
  const link = await c.call(`${API}/buckets/docs/presign`, { method: 'POST', json: { key: odd, expires_in: 300, access_key: reader.accessKeyId } })
  t.equal(link.status, 200)
  const { url, expires_at: expiresAt } = await link.json() as { url: string, expires_at: string }
  t.ok(url.startsWith(`${c.url}/docs/folder/`))
  t.ok(Math.abs(Date.parse(expiresAt) - Date.now() - 300_000) < 5000)
  t.equal(await (await fetch(url)).text(), 'hello', 'the link works, with no session')
  const outside = await c.call(`${API}/buckets/docs/presign`, { method: 'POST', json: { key: 'a.txt', expires_in: 300, access_key: reader.accessKeyId } })
  t.equal(outside.status, 403, 'outside the key\'s prefix')
  t.equal((await c.call(`${API}/buckets/docs/presign`, { method: 'POST', json: { key: odd, expires_in: 604_801, access_key: reader.accessKeyId } })).status, 400)

  const deleted = await c.call(`${API}/buckets/docs/delete`, { method: 'POST', json: { keys: ['a.txt', 'b.txt', 'never-was'] } })
  t.match(await deleted.json(), { deleted: ['a.txt', 'b.txt', 'never-was'], errors: [] })
  t.equal((await c.call(`${API}/buckets/docs/delete`, { method: 'POST', json: { keys: [] } })).status, 400)
})

t.test('hostile requests get clear errors and change nothing', async t => {
  const c = await consoleServer(t)
  await c.signIn()
  t.equal((await c.call(`${API}/nothing`)).status, 404)
  const wrong = await c.call(`${API}/buckets`, { method: 'PATCH', json: {} })
  t.equal(wrong.status, 405)
  t.equal(wrong.headers.get('allow'), 'GET, POST')
  t.equal((await c.call(`${API}/buckets`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } })).status, 400)
  t.equal((await c.call(`${API}/buckets`, { method: 'POST', json: { name: 'x'.repeat(70_000) } })).status, 413)
  t.equal((await c.call(`${API}/buckets`, { method: 'POST', json: { name: 'ok-name', extra: 1 } })).status, 400)
  t.equal((await c.call(`${API}/buckets/%E0%A4%A`)).status, 404, 'a path that does not decode')
  t.equal((await c.call(`${API}/session`, { method: 'PUT' })).status, 405)
  t.equal((await c.call(`${API}/session`, { method: 'POST', body: 'x'.repeat(100) })).status, 400)
  t.same(await c.box.listBuckets(), [])
})
