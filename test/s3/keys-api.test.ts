import t from 'tap'
import { createServer, request, type Server } from 'node:http'
import { once } from 'node:events'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Spacebox } from '../../lib/index.js'
import { handleKeysApi, isKeysApiPath, type KeysApiOptions } from '../../lib/s3/keys-api.js'

const TOKEN = 'sbx_test-admin-token'
const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

type Tap = { teardown: (fn: () => unknown) => void }
type Json = Record<string, any>

interface Api {
  box: Spacebox
  base: string
  /** One request; `token: null` sends no Authorization header. */
  call: (method: string, path: string, options?: { body?: unknown, token?: string | null, headers?: Record<string, string> }) => Promise<{ status: number, headers: Headers, text: string, json: Json }>
}

async function listen (server: Server, t: Tap): Promise<string> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A memory store behind a node:http server that mounts the keys API the way the S3 server does. */
async function setup (t: Tap, overrides: Partial<KeysApiOptions> = {}): Promise<Api> {
  const box = await Spacebox.open({ memory: true })
  t.teardown(async () => { await box.close() })
  let requests = 0
  let base = ''
  const options: KeysApiOptions = {
    isAdmin: token => timingSafeEqual(digest(token), digest(TOKEN)),
    baseUrl: () => base,
    ...overrides
  }
  const server = createServer((req, res) => {
    if (!isKeysApiPath(req.url ?? '')) {
      res.writeHead(400).end()
      return
    }
    handleKeysApi(box, req, res, `req-${++requests}`, options).catch(() => {})
  })
  base = await listen(server, t)
  return {
    box,
    base,
    async call (method, path, { body, token = TOKEN, headers = {} } = {}) {
      const res = await fetch(base + path, {
        method,
        headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) })
      })
      const text = await res.text()
      return { status: res.status, headers: res.headers, text, json: text === '' ? {} : JSON.parse(text) }
    }
  }
}

function assertError (t: Tap & { equal: Function, match: Function }, res: { status: number, headers: Headers, json: Json }, status: number, id: string): void {
  t.equal(res.status, status, `status ${status}`)
  t.equal(res.json.id, id, `id ${id}`)
  t.match(res.json.message, /\S/, 'a message')
  t.equal(res.json.request_id, res.headers.get('x-request-id'), 'request_id is the x-request-id header')
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
}

t.test('isKeysApiPath: everything under /v2/spaces/ and nothing else', async t => {
  for (const path of ['/v2/spaces/keys', '/v2/spaces/keys?page=2', '/v2/spaces/keys/SBX/regenerate', '/v2/spaces/buckets/b/access', '/v2/spaces/']) {
    t.ok(isKeysApiPath(path), path)
  }
  for (const path of ['/', '/v2/spaces', '/v2/spacesx/keys', '/bucket/v2/spaces/keys', '/v2/droplets']) {
    t.notOk(isKeysApiPath(path), path)
  }
})

t.test('authentication', async t => {
  const api = await setup(t)
  const key = await api.box.keys.create({ name: 's3', grants: [{ bucket: '', permission: 'fullaccess' }] })
  const refused: Array<[string, Record<string, string>]> = [
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer sbx_wrong' }],
    ['the token under another scheme', { authorization: `Basic ${TOKEN}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['the token with more after it', { authorization: `Bearer ${TOKEN} extra` }],
    ['an S3 access key id', { authorization: `Bearer ${key.accessKeyId}` }],
    ['an S3 secret', { authorization: `Bearer ${key.secretAccessKey}` }],
    ['an S3 id:secret pair', { authorization: `Bearer ${key.accessKeyId}:${key.secretAccessKey}` }],
    ['an S3 signature', { authorization: `AWS4-HMAC-SHA256 Credential=${key.accessKeyId}/20250101/nyc3/s3/aws4_request, SignedHeaders=host, Signature=00` }]
  ]
  for (const [label, headers] of refused) {
    for (const [method, path] of [['GET', '/v2/spaces/keys'], ['POST', '/v2/spaces/keys'], ['GET', '/v2/spaces/nowhere']]) {
      const res = await api.call(method as string, path as string, { token: null, headers, body: method === 'POST' ? { name: 'x', grants: [] } : undefined })
      assertError(t, res, 401, 'unauthorized')
      t.equal(res.json.message, 'Unable to authenticate you', label)
      t.notOk(res.text.includes(TOKEN) || res.text.includes(key.secretAccessKey), 'no credential echoed')
    }
  }
  t.equal(api.box.keys.list().length, 1, 'nothing was created')
  const ok = await api.call('GET', '/v2/spaces/keys', { token: null, headers: { authorization: `bearer ${TOKEN}` } })
  t.equal(ok.status, 200, 'the scheme is case-insensitive')
  t.equal(ok.headers.get('x-request-id'), 'req-28', 'every response names its request')
  t.equal(ok.headers.get('cache-control'), 'no-store')
})

t.test('POST /v2/spaces/keys creates a key and shows its secret once', async t => {
  const api = await setup(t)
  await api.box.createBucket('photos')
  const res = await api.call('POST', '/v2/spaces/keys', { body: { name: 'reader', grants: [{ bucket: 'photos', permission: 'read', prefix: 'public/' }] } })
  t.equal(res.status, 201)
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
  const key = res.json.key
  t.same(Object.keys(key).sort(), ['access_key', 'created_at', 'disabled', 'grants', 'name', 'secret_key'])
  t.equal(key.name, 'reader')
  t.same(key.grants, [{ bucket: 'photos', permission: 'read', prefix: 'public/' }])
  t.equal(key.disabled, false)
  t.equal(new Date(key.created_at).toISOString(), key.created_at, 'created_at is ISO 8601')
  const scoped = api.box.withCredentials({ accessKeyId: key.access_key, secretAccessKey: key.secret_key })
  t.same((await scoped.listObjectsV2('photos', { prefix: 'public/' })).contents, [], 'the credentials work')

  const full = await api.call('POST', '/v2/spaces/keys', { body: { name: 'admin', grants: [{ bucket: '', permission: 'fullaccess' }] } })
  t.equal(full.status, 201)
  t.same(full.json.key.grants, [{ bucket: '', permission: 'fullaccess' }])

  const none = await api.call('POST', '/v2/spaces/keys', { body: { name: 'none', grants: [] } })
  t.equal(none.status, 201, 'grants: [] is a key that reaches nothing yet')
  t.same(none.json.key.grants, [])

  const expiring = await api.call('POST', '/v2/spaces/keys', { body: { name: 'temp', grants: [], expires_at: '2999-01-01T00:00:00Z', rate_limit: 5 } })
  t.equal(expiring.json.key.expires_at, '2999-01-01T00:00:00.000Z')
  t.equal(expiring.json.key.rate_limit, 5)
  t.equal((await api.call('POST', '/v2/spaces/keys', { body: { name: 'no expiry', grants: [], expires_at: null } })).json.key.expires_at, undefined)
})

t.test('POST /v2/spaces/keys refuses bad input with 400 bad_request', async t => {
  const api = await setup(t)
  const bad: Array<[string, unknown]> = [
    ['no name', { grants: [] }],
    ['an empty name', { name: ' ', grants: [] }],
    ['a name that is not a string', { name: 7, grants: [] }],
    ['full access mixed with a scoped grant', { name: 'x', grants: [{ bucket: '', permission: 'fullaccess' }, { bucket: 'photos', permission: 'read' }] }],
    ['an unknown permission', { name: 'x', grants: [{ bucket: 'photos', permission: 'write' }] }],
    ['an invalid bucket name', { name: 'x', grants: [{ bucket: 'No_Such!', permission: 'read' }] }],
    ['the all-buckets grant below fullaccess', { name: 'x', grants: [{ bucket: '', permission: 'read' }] }],
    ['grants that are not an array', { name: 'x', grants: { bucket: 'photos', permission: 'read' } }],
    ['expires_at that is not a date', { name: 'x', grants: [], expires_at: 'soon' }],
    ['expires_at that is not a string', { name: 'x', grants: [], expires_at: true }],
    ['expires_at that Date would parse but is not ISO 8601', { name: 'x', grants: [], expires_at: 'March 7, 2999' }],
    ['expires_at as a bare number string', { name: 'x', grants: [], expires_at: '32503680000000' }],
    ['a rate_limit of zero', { name: 'x', grants: [], rate_limit: 0 }]
  ]
  for (const [label, body] of bad) {
    const res = await api.call('POST', '/v2/spaces/keys', { body })
    t.equal(res.status, 400, label)
    t.equal(res.json.id, 'bad_request', label)
  }
  t.same(api.box.keys.list(), [], 'no key was created')
})

t.test('POST /v2/spaces/keys refuses a missing or misspelt grants, an unknown field and a past expiry, naming the field', async t => {
  const api = await setup(t)
  const bad: Array<[string, unknown, RegExp]> = [
    ['grants missing', { name: 'x' }, /grants/],
    ['grants misspelt as grant', { name: 'x', grant: [{ bucket: 'photos', permission: 'read' }] }, /"grant"/],
    ['grants null', { name: 'x', grants: null }, /grants/],
    ['an unknown field beside the grants', { name: 'x', grants: [], expires: '2999-01-01T00:00:00Z' }, /"expires"/],
    ['a field of the key JSON that cannot be set', { name: 'x', grants: [], access_key: 'SBCHOSEN' }, /"access_key"/],
    ['a spacebox field in DigitalOcean case', { name: 'x', grants: [], expiresAt: '2999-01-01T00:00:00Z' }, /"expiresAt"/],
    ['a misspelt prefix in a grant', { name: 'x', grants: [{ bucket: 'photos', permission: 'read', perfix: 'public/' }] }, /"perfix"/],
    ['an expiry in the past', { name: 'x', grants: [], expires_at: '2020-01-01T00:00:00Z' }, /expires/i],
    ['an expiry of this very instant', { name: 'x', grants: [], expires_at: new Date().toISOString() }, /expires/i]
  ]
  for (const [label, body, names] of bad) {
    const res = await api.call('POST', '/v2/spaces/keys', { body })
    assertError(t, res, 400, 'bad_request')
    t.match(res.json.message, names, `${label}: the message names the field`)
  }
  t.same(api.box.keys.list(), [], 'no key was created')
})

t.test('PUT and PATCH refuse unknown fields and a past expiry, and change nothing', async t => {
  const api = await setup(t)
  const key = await api.box.keys.create({ name: 'k', grants: [{ bucket: 'photos', permission: 'read', prefix: 'p/' }], expiresAt: '2999-01-01T00:00:00Z' })
  const path = `/v2/spaces/keys/${key.accessKeyId}`
  const bad: Array<[string, string, unknown, RegExp]> = [
    ['PUT', 'grants misspelt', { name: 'renamed', grant: [{ bucket: 'photos', permission: 'readwrite' }] }, /"grant"/],
    ['PUT', 'an unknown field', { name: 'renamed', grants: null, enabled: true }, /"enabled"/],
    ['PUT', 'an expiry in the past', { name: 'renamed', grants: null, expires_at: '2001-01-01T00:00:00Z' }, /expires/i],
    ['PATCH', 'grants misspelt', { grant: [] }, /"grant"/],
    ['PATCH', 'rate_limit misspelt', { name: 'renamed', ratelimit: 1 }, /"ratelimit"/],
    ['PATCH', 'a misspelt prefix in a grant', { grants: [{ bucket: 'photos', permission: 'read', Prefix: 'p/' }] }, /"Prefix"/],
    ['PATCH', 'an expiry in the past', { name: 'renamed', expires_at: '2001-01-01T00:00:00Z' }, /expires/i]
  ]
  for (const [method, label, body, names] of bad) {
    const res = await api.call(method, path, { body })
    assertError(t, res, 400, 'bad_request')
    t.match(res.json.message, names, `${method} with ${label}: the message names the field`)
  }
  const after = api.box.keys.get(key.accessKeyId)
  t.equal(after.name, 'k', 'the name is unchanged')
  t.same(after.grants, [{ bucket: 'photos', permission: 'read', prefix: 'p/' }], 'the grants are unchanged')
  t.same(after.expiresAt, new Date('2999-01-01T00:00:00Z'), 'the expiry is unchanged')
  const godo = await api.call('PUT', path, { body: { name: 'renamed-by-godo', grants: null } })
  t.equal(godo.status, 200, 'grants: null on PUT still renames, as DigitalOcean\'s client does')
})

t.test('GET /v2/spaces/keys/{access_key} never shows the secret; unknown keys are 404', async t => {
  const api = await setup(t)
  const created = await api.box.keys.create({ name: 'k', grants: [{ bucket: 'photos', permission: 'readwrite' }], expiresAt: '2999-01-01T00:00:00Z' })
  const res = await api.call('GET', `/v2/spaces/keys/${created.accessKeyId}`)
  t.equal(res.status, 200)
  t.same(res.json, {
    key: {
      name: 'k',
      access_key: created.accessKeyId,
      grants: [{ bucket: 'photos', permission: 'readwrite' }],
      created_at: created.createdAt.toISOString(),
      disabled: false,
      expires_at: '2999-01-01T00:00:00.000Z'
    }
  })
  t.notOk(res.text.includes(created.secretAccessKey))
  for (const id of ['SBNOSUCHKEY000000000', 'x', '%E2%82%AC']) {
    const missing = await api.call('GET', `/v2/spaces/keys/${id}`)
    assertError(t, missing, 404, 'not_found')
    t.equal(missing.json.message, 'The resource you were accessing could not be found.')
  }
})

t.test('GET /v2/spaces/keys paginates as DigitalOcean does', async t => {
  const api = await setup(t)
  for (let i = 0; i < 45; i++) await api.box.keys.create({ name: `key-${String(i).padStart(2, '0')}`, grants: [] })
  const list = async (query: string): Promise<Json> => {
    const res = await api.call('GET', `/v2/spaces/keys${query}`)
    t.equal(res.status, 200, query)
    t.notOk(/secret/.test(res.text), 'no secret in a listing')
    return res.json
  }
  const url = (query: string): string => `${api.base}/v2/spaces/keys?${query}`

  const first = await list('')
  t.equal(first.keys.length, 20, 'default per_page is 20')
  t.same(first.meta, { total: 45 })
  t.same(first.links, { pages: { next: url('page=2'), last: url('page=3') } }, 'page 1 has no first or prev')

  const second = await list('?page=2')
  t.equal(second.keys.length, 20)
  t.same(second.links.pages, { first: url('page=1'), prev: url('page=1'), next: url('page=3'), last: url('page=3') })

  const third = await list('?page=3')
  t.equal(third.keys.length, 5, 'the last page holds the rest')
  t.same(third.links.pages, { first: url('page=1'), prev: url('page=2') }, 'the last page has no next or last')

  const past = await list('?page=9')
  t.same(past.keys, [], 'a page past the end is empty')
  t.same(past.links.pages, { first: url('page=1'), prev: url('page=3') }, 'and points back to the last page')
  t.same(past.meta, { total: 45 })

  const all = [...first.keys, ...second.keys, ...third.keys].map((k: Json) => k.access_key)
  t.equal(new Set(all).size, 45, 'the pages cover every key once')

  const small = await list('?per_page=7&page=3&name=&sort=name&sort_direction=asc')
  t.same(small.keys.map((k: Json) => k.name), ['key-14', 'key-15', 'key-16', 'key-17', 'key-18', 'key-19', 'key-20'])
  t.same(small.links.pages, {
    first: url('per_page=7&page=1&name=&sort=name&sort_direction=asc'),
    prev: url('per_page=7&page=2&name=&sort=name&sort_direction=asc'),
    next: url('per_page=7&page=4&name=&sort=name&sort_direction=asc'),
    last: url('per_page=7&page=7&name=&sort=name&sort_direction=asc')
  }, 'links keep the other parameters')

  const clamped = await list('?per_page=1000')
  t.equal(clamped.keys.length, 45, 'per_page above 200 is clamped to 200')
  t.same(clamped.links, {}, 'one page: no links')
  const big = await list('?per_page=200&page=2')
  t.same(big.links.pages, { first: url('per_page=200&page=1'), prev: url('per_page=200&page=1') })

  for (const query of ['per_page=0', 'per_page=-1', 'per_page=2.5', 'page=0', 'page=abc', 'page=', 'page=99999999999999999999']) {
    const res = await api.call('GET', `/v2/spaces/keys?${query}`)
    assertError(t, res, 400, 'bad_request')
  }
})

t.test('GET /v2/spaces/keys sorts and filters', async t => {
  const api = await setup(t)
  const make = async (name: string, grants: Parameters<Spacebox['keys']['create']>[0]['grants']): Promise<void> => {
    await api.box.keys.create({ name, grants })
    await new Promise(resolve => setTimeout(resolve, 3)) // distinct created_at
  }
  await make('charlie', [{ bucket: 'photos', permission: 'read' }])
  await make('alpha', [{ bucket: 'photos', permission: 'readwrite', prefix: 'a/' }, { bucket: 'videos', permission: 'read' }])
  await make('bravo', [{ bucket: '', permission: 'fullaccess' }])
  await make('alpha', [{ bucket: 'videos', permission: 'readwrite' }])
  const names = async (query: string): Promise<string[]> => {
    const res = await api.call('GET', `/v2/spaces/keys?${query}`)
    t.equal(res.status, 200, query)
    return res.json.keys.map((k: Json) => `${k.name as string}:${k.grants.length as number}`)
  }
  t.same(await names(''), ['alpha:1', 'bravo:1', 'alpha:2', 'charlie:1'], 'default: newest first')
  t.same(await names('sort=created_at&sort_direction=asc'), ['charlie:1', 'alpha:2', 'bravo:1', 'alpha:1'])
  t.same(await names('sort=name&sort_direction=asc'), ['alpha:2', 'alpha:1', 'bravo:1', 'charlie:1'], 'same names: older first')
  t.same(await names('sort=name&sort_direction=desc'), ['charlie:1', 'bravo:1', 'alpha:1', 'alpha:2'])
  t.same(await names('sort=name'), ['charlie:1', 'bravo:1', 'alpha:1', 'alpha:2'], 'sort_direction defaults to desc')

  t.same(await names('name=alpha&sort_direction=asc'), ['alpha:2', 'alpha:1'])
  t.same(await names('bucket=photos&sort_direction=asc'), ['charlie:1', 'alpha:2', 'bravo:1'], 'full-access keys reach every bucket')
  t.same(await names('bucket=videos&permission=readwrite&sort_direction=asc'), ['alpha:2', 'alpha:1'])
  t.same(await names('permission=fullaccess'), ['bravo:1'])
  t.same(await names('permission='), await names(''), 'an empty permission filters nothing')
  const total = await api.call('GET', '/v2/spaces/keys?name=alpha&per_page=1')
  t.same(total.json.meta, { total: 2 }, 'meta.total counts the filtered keys')

  for (const query of ['sort=access_key', 'sort_direction=up', 'permission=write']) {
    assertError(t, await api.call('GET', `/v2/spaces/keys?${query}`), 400, 'bad_request')
  }
})

t.test('PUT replaces name and grants; PATCH changes what is given', async t => {
  const api = await setup(t)
  const key = await api.box.keys.create({ name: 'old', grants: [{ bucket: 'photos', permission: 'read' }], expiresAt: '2999-01-01T00:00:00Z' })
  const path = `/v2/spaces/keys/${key.accessKeyId}`

  const put = await api.call('PUT', path, { body: { name: 'new', grants: [{ bucket: 'videos', permission: 'readwrite' }] } })
  t.equal(put.status, 200)
  t.equal(put.json.key.name, 'new')
  t.same(put.json.key.grants, [{ bucket: 'videos', permission: 'readwrite' }])
  t.equal(put.json.key.expires_at, '2999-01-01T00:00:00.000Z', 'PUT leaves the extensions it is not given alone')
  t.notOk('secret_key' in put.json.key)

  for (const body of [{ grants: [] }, {}]) {
    assertError(t, await api.call('PUT', path, { body }), 400, 'bad_request')
  }
  const godo = await api.call('PUT', path, { body: { name: 'renamed-by-godo', grants: null } })
  t.equal(godo.json.key.name, 'renamed-by-godo', 'DigitalOcean\'s client renames with grants: null')
  t.same(godo.json.key.grants, [{ bucket: 'videos', permission: 'readwrite' }], 'and the grants stay')

  const renamed = await api.call('PATCH', path, { body: { name: 'patched' } })
  t.equal(renamed.json.key.name, 'patched')
  t.same(renamed.json.key.grants, [{ bucket: 'videos', permission: 'readwrite' }], 'PATCH keeps the grants it is not given')
  const regranted = await api.call('PATCH', path, { body: { grants: [{ bucket: 'photos', permission: 'read', prefix: 'p/' }] } })
  t.equal(regranted.json.key.name, 'patched', 'and the name')
  t.same(regranted.json.key.grants, [{ bucket: 'photos', permission: 'read', prefix: 'p/' }])

  const disabled = await api.call('PATCH', path, { body: { disabled: true, expires_at: null, rate_limit: 10 } })
  t.equal(disabled.json.key.disabled, true)
  t.equal(disabled.json.key.expires_at, undefined, 'expires_at: null removes the expiry')
  t.equal(disabled.json.key.rate_limit, 10)
  t.equal((await api.call('PUT', path, { body: { name: 'p', grants: [] } })).json.key.disabled, true, 'PUT does not re-enable a key')
  const enabled = await api.call('PUT', path, { body: { name: 'p', grants: [], disabled: false, rate_limit: null } })
  t.equal(enabled.json.key.disabled, false)
  t.equal(enabled.json.key.rate_limit, undefined)
  t.equal(api.box.keys.get(key.accessKeyId).disabled, false, 'the engine agrees')

  assertError(t, await api.call('PATCH', path, { body: { disabled: 'yes' } }), 400, 'bad_request')
  assertError(t, await api.call('PATCH', path, { body: { expires_at: 12 } }), 400, 'bad_request')
  assertError(t, await api.call('PATCH', '/v2/spaces/keys/SBNOSUCHKEY000000000', { body: { name: 'x' } }), 404, 'not_found')
  assertError(t, await api.call('PUT', '/v2/spaces/keys/SBNOSUCHKEY000000000', { body: { name: 'x', grants: [] } }), 404, 'not_found')
})

t.test('a scoped key cannot become full access nor the reverse, and a refused edit changes nothing', async t => {
  const api = await setup(t)
  const scoped = await api.box.keys.create({ name: 'scoped', grants: [{ bucket: 'photos', permission: 'read' }] })
  const full = await api.box.keys.create({ name: 'full', grants: [{ bucket: '', permission: 'fullaccess' }] })
  const toFull = await api.call('PUT', `/v2/spaces/keys/${scoped.accessKeyId}`, { body: { name: 'renamed', grants: [{ bucket: '', permission: 'fullaccess' }] } })
  assertError(t, toFull, 400, 'bad_request')
  t.equal(api.box.keys.get(scoped.accessKeyId).name, 'scoped', 'the rename was undone')
  const toScoped = await api.call('PATCH', `/v2/spaces/keys/${full.accessKeyId}`, { body: { name: 'renamed', grants: [{ bucket: 'photos', permission: 'read' }] } })
  assertError(t, toScoped, 400, 'bad_request')
  t.equal(api.box.keys.get(full.accessKeyId).name, 'full')
  t.same(api.box.keys.get(full.accessKeyId).grants, [{ bucket: '', permission: 'fullaccess' }])
  assertError(t, await api.call('PATCH', `/v2/spaces/keys/${scoped.accessKeyId}`, { body: { name: '', grants: [] } }), 400, 'bad_request')
  t.same(api.box.keys.get(scoped.accessKeyId).grants, [{ bucket: 'photos', permission: 'read' }], 'an invalid name changes no grant')
})

t.test('DELETE /v2/spaces/keys/{access_key} answers 204 and the key is gone', async t => {
  const api = await setup(t)
  const key = await api.box.keys.create({ name: 'doomed', grants: [] })
  const res = await api.call('DELETE', `/v2/spaces/keys/${key.accessKeyId}`)
  t.equal(res.status, 204)
  t.equal(res.text, '')
  t.equal(res.headers.get('x-request-id'), 'req-1')
  assertError(t, await api.call('GET', `/v2/spaces/keys/${key.accessKeyId}`), 404, 'not_found')
  assertError(t, await api.call('DELETE', `/v2/spaces/keys/${key.accessKeyId}`), 404, 'not_found')
  t.throws(() => api.box.withCredentials({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }), { code: 'InvalidAccessKeyId' })
})

t.test('POST /v2/spaces/keys/{access_key}/regenerate (spacebox extension)', async t => {
  const api = await setup(t)
  await api.box.createBucket('photos')
  const key = await api.box.keys.create({ name: 'rotating', grants: [{ bucket: 'photos', permission: 'read' }] })
  const res = await api.call('POST', `/v2/spaces/keys/${key.accessKeyId}/regenerate`)
  t.equal(res.status, 200)
  t.equal(res.json.key.access_key, key.accessKeyId, 'the id stays')
  t.equal(res.json.key.name, 'rotating')
  t.type(res.json.key.secret_key, 'string')
  t.not(res.json.key.secret_key, key.secretAccessKey, 'the secret is new')
  t.throws(() => api.box.withCredentials({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }), { code: 'SignatureDoesNotMatch' }, 'the old secret is dead')
  const scoped = api.box.withCredentials({ accessKeyId: key.accessKeyId, secretAccessKey: res.json.key.secret_key })
  t.equal((await scoped.listObjectsV2('photos')).keyCount, 0, 'the new one works')
  const shown = await api.call('GET', `/v2/spaces/keys/${key.accessKeyId}`)
  t.notOk(shown.text.includes(res.json.key.secret_key), 'GET does not show it again')
  const listed = await api.call('GET', '/v2/spaces/keys')
  t.notOk(listed.text.includes(res.json.key.secret_key), 'nor does the listing')
  assertError(t, await api.call('POST', '/v2/spaces/keys/SBNOSUCHKEY000000000/regenerate'), 404, 'not_found')
  assertError(t, await api.call('GET', `/v2/spaces/keys/${key.accessKeyId}/regenerate`), 405, 'method_not_allowed')
})

t.test('GET /v2/spaces/keys/{access_key}/usage (spacebox extension)', async t => {
  const api = await setup(t)
  await api.box.createBucket('photos')
  const key = await api.box.keys.create({ name: 'user', grants: [{ bucket: 'photos', permission: 'read' }] })
  const fresh = await api.call('GET', `/v2/spaces/keys/${key.accessKeyId}/usage`)
  t.equal(fresh.status, 200)
  t.same(fresh.json, { usage: { requests: {}, bytes_in: 0, bytes_out: 0, denied: 0, history: [] } })
  const scoped = api.box.withCredentials({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey })
  await scoped.listObjectsV2('photos')
  await t.rejects(scoped.putObject('photos', 'x', 'data'), { code: 'AccessDenied' })
  const used = (await api.call('GET', `/v2/spaces/keys/${key.accessKeyId}/usage`)).json.usage
  t.same(used.requests, { ListObjectsV2: 1 })
  t.equal(used.denied, 1)
  t.match(used.last_used, /^\d{4}-\d\d-\d\dT/)
  t.match(used.last_denied, { operation: 'PutObject', reason: /\S/, at: /^\d{4}-/ })
  await api.box.putObject('photos', 'p.jpg', 'twelve bytes')
  await (await scoped.getObject('photos', 'p.jpg')).body.toArray()
  const hourly = (await api.call('GET', `/v2/spaces/keys/${key.accessKeyId}/usage`)).json.usage.history
  t.ok(hourly.length === 1 || hourly.length === 2, 'one hour of use (two if an hour turned meanwhile)')
  const last = hourly.at(-1)
  t.match(last.hour, /^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/, 'hours in ISO 8601, on the hour')
  t.equal(hourly.reduce((n: number, h: Json) => n + h.requests, 0), 2, 'the list and the get; not the refusal')
  t.equal(hourly.reduce((n: number, h: Json) => n + h.bytes_out, 0), 12)
  t.same(Object.keys(last).sort(), ['bytes_in', 'bytes_out', 'hour', 'requests'])
  assertError(t, await api.call('GET', '/v2/spaces/keys/SBNOSUCHKEY000000000/usage'), 404, 'not_found')
})

t.test('GET /v2/spaces/buckets/{bucket}/access (spacebox extension)', async t => {
  const api = await setup(t)
  const reader = await api.box.keys.create({ name: 'reader', grants: [{ bucket: 'photos', permission: 'read', prefix: 'public/' }], expiresAt: '2999-01-01T00:00:00Z' })
  const admin = await api.box.keys.create({ name: 'admin', grants: [{ bucket: '', permission: 'fullaccess' }] })
  await api.box.keys.create({ name: 'elsewhere', grants: [{ bucket: 'videos', permission: 'read' }] })
  await api.box.keys.disable(admin.accessKeyId)
  const res = await api.call('GET', '/v2/spaces/buckets/photos/access')
  t.equal(res.status, 200)
  t.same(res.json, {
    access: [
      { access_key: reader.accessKeyId, name: 'reader', permission: 'read', prefix: 'public/', disabled: false, expires_at: '2999-01-01T00:00:00.000Z' },
      { access_key: admin.accessKeyId, name: 'admin', permission: 'fullaccess', publish: true, disabled: true }
    ]
  })
  assertError(t, await api.call('GET', '/v2/spaces/buckets/Not_A_Bucket/access'), 400, 'bad_request')
  assertError(t, await api.call('DELETE', '/v2/spaces/buckets/photos/access'), 405, 'method_not_allowed')
})

t.test('malformed requests', async t => {
  const api = await setup(t)
  for (const body of ['{"name": ', 'not json', '', '[]', 'null', '"a string"']) {
    assertError(t, await api.call('POST', '/v2/spaces/keys', { body }), 400, 'bad_request')
  }
  const tooBig = await api.call('POST', '/v2/spaces/keys', { body: { name: 'x'.repeat(70 * 1024) } })
  assertError(t, tooBig, 413, 'request_entity_too_large')

  // Without a content-length (chunked), the limit is enforced while reading.
  const chunked = await new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = request(`${api.base}/v2/spaces/keys`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', (s: string) => { body += s }).on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('error', reject)
    req.write('{"name": "')
    req.write('x'.repeat(40 * 1024))
    req.end('y'.repeat(40 * 1024) + '"}')
  })
  t.equal(chunked.status, 413)
  t.equal(JSON.parse(chunked.body).id, 'request_entity_too_large')
  t.same(api.box.keys.list(), [], 'nothing was created')

  const wrong = await api.call('DELETE', '/v2/spaces/keys')
  assertError(t, wrong, 405, 'method_not_allowed')
  t.equal(wrong.headers.get('allow'), 'GET, POST')
  t.equal((await api.call('POST', '/v2/spaces/keys/SBX')).headers.get('allow'), 'GET, PUT, PATCH, DELETE')
  for (const path of ['/v2/spaces/', '/v2/spaces/droplets', '/v2/spaces/keys/SBX/rotate', '/v2/spaces/keys/SBX/usage/more', '/v2/spaces/keys//usage', '/v2/spaces/buckets/photos', '/v2/spaces/buckets/photos/acl', '/v2/spaces/keys/%ZZ']) {
    assertError(t, await api.call('GET', path), 404, 'not_found')
  }
  t.equal((await api.call('GET', '/v2/spaces/keys/')).status, 200, 'a trailing slash names the same collection')
})

t.test('failures that are not the request\'s fault', async t => {
  const api = await setup(t, { baseUrl: () => { throw new Error('boom: internal detail') } })
  const res = await api.call('GET', '/v2/spaces/keys')
  assertError(t, res, 500, 'server_error')
  t.notOk(res.text.includes('internal detail'), 'an unknown failure\'s message is not shown')
  t.equal((await api.call('POST', '/v2/spaces/keys', { body: { name: 'k', grants: [] } })).status, 201, 'only the listing needed the base URL')
  await api.box.close()
  assertError(t, await api.call('POST', '/v2/spaces/keys', { body: { name: 'late', grants: [] } }), 503, 'service_unavailable')
  assertError(t, await api.call('GET', '/v2/spaces/buckets/photos/access'), 503, 'service_unavailable')
})

t.test('GET /v2/spaces/keys refuses a query parameter it does not know: a misspelt filter lists nothing', async t => {
  const api = await setup(t)
  await api.call('POST', '/v2/spaces/keys', { body: { name: 'one', grants: [] } })
  const res = await api.call('GET', '/v2/spaces/keys?buckett=photos')
  t.equal(res.status, 400)
  t.equal(res.json.id, 'bad_request')
  t.match(res.json.message, /buckett/)
  t.equal((await api.call('GET', '/v2/spaces/keys?bucket=photos&per_page=5&page=1&sort=name&sort_direction=asc&name=one&permission=read')).status, 200, 'every known parameter passes')
})
