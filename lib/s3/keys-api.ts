import type { IncomingMessage, ServerResponse } from 'node:http'
import { isSpaceboxError, type AccessKeyInfo, type AccessKeyUpdate, type CreateAccessKeyOptions, type Grant, type KeyAccess, type KeyUsage, type NewAccessKey, type Permission, type Spacebox } from '../index.js'
import { ApiError, badRequest, notFound, readJson, sendError, sendJson, type JsonBody } from './json-api.js'

/*
 * The key-management JSON API, in the shape of DigitalOcean's Spaces keys API
 * (https://docs.digitalocean.com/reference/api/spaces-api/ and the "Spaces Keys" tag of the API reference):
 *
 *   GET    /v2/spaces/keys               list: page, per_page, sort, sort_direction, name, bucket, permission
 *   POST   /v2/spaces/keys               create: the one response (with regenerate) that holds secret_key
 *   GET    /v2/spaces/keys/{access_key}
 *   PUT    /v2/spaces/keys/{access_key}  replace name and grants (both required)
 *   PATCH  /v2/spaces/keys/{access_key}  change only the fields given
 *   DELETE /v2/spaces/keys/{access_key}  204
 *
 * spacebox extensions, not in DigitalOcean's API:
 *   POST /v2/spaces/keys/{access_key}/regenerate  a new secret_key, shown once; the old one fails at once
 *   GET  /v2/spaces/keys/{access_key}/usage       requests by operation, bytes, refusals
 *   GET  /v2/spaces/buckets/{bucket}/access       every key that reaches the bucket, and how
 *   `expires_at` and `rate_limit` on create, PUT and PATCH (null removes them), `disabled` on PUT and
 *   PATCH, `prefix` in grants; the key JSON shows all of them. On PUT too they change only when given,
 *   so a client that knows only DigitalOcean's fields cannot lift an expiry or re-enable a key.
 *
 * Where spacebox differs: mixing the full-access grant with scoped grants is refused (400), where
 * DigitalOcean lets full access win; per_page above 200 is clamped to 200. A body field (or grant
 * field) spacebox does not know is a 400 naming it, and create needs `grants` (`[]` for none): a
 * misspelt field dropped in silence would make a key other than the one asked for.
 */

/** What the S3 server hands the keys API. */
export interface KeysApiOptions {
  /** Verifies the presented bearer token (constant time); the token itself is never an S3 credential. */
  isAdmin: (token: string) => boolean
  /** Whether the request carries a console session that stands for the admin token. */
  session?: (req: IncomingMessage) => boolean
  /** Base URL used for links.pages (e.g. 'http://127.0.0.1:9000'). */
  baseUrl: (req: IncomingMessage) => string
}

const ROOT = '/v2/spaces/'
const MAX_PER_PAGE = 200
const PERMISSIONS: readonly Permission[] = ['read', 'readwrite', 'fullaccess']
const CREATE_FIELDS = ['name', 'grants', 'expires_at', 'rate_limit']
const LIST_PARAMETERS = ['page', 'per_page', 'sort', 'sort_direction', 'name', 'bucket', 'permission']
// ISO 8601 with a date and, if any time, a zone: what DigitalOcean's API writes and reads.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/
const EDIT_FIELDS = [...CREATE_FIELDS, 'disabled']

interface Call {
  box: Spacebox
  req: IncomingMessage
  /** The access key id or bucket name in the path. */
  id: string
  query: URLSearchParams
  /** The server's base URL, for links. */
  baseUrl: () => string
}

interface Reply {
  status: number
  body?: unknown
}

type Handler = (call: Call) => Promise<Reply> | Reply
type Body = JsonBody

/** True if the path belongs to the keys API (starts with /v2/spaces/). */
export function isKeysApiPath (rawPath: string): boolean {
  return rawPath.startsWith(ROOT)
}

/** Serve one request of the keys API; never throws (errors become DO-style JSON). */
export async function handleKeysApi (box: Spacebox, req: IncomingMessage, res: ServerResponse, requestId: string, options: KeysApiOptions): Promise<void> {
  try {
    authenticate(req, options)
    const url = new URL(req.url ?? '/', 'http://localhost')
    const { methods, id } = resolve(url.pathname)
    const method = req.method ?? ''
    const handler = Object.hasOwn(methods, method) ? methods[method] : undefined
    if (handler === undefined) {
      throw new ApiError(405, 'method_not_allowed', `${method} is not allowed here`, { allow: Object.keys(methods).join(', ') })
    }
    const reply = await handler({ box, req, id, query: url.searchParams, baseUrl: () => options.baseUrl(req) })
    sendJson(res, requestId, reply.status, reply.body)
  } catch (err) {
    sendError(res, requestId, toApiError(err))
  }
}

/**
 * 401 unless the request carries `Authorization: Bearer <admin token>` or a signed-in console
 * session (with its CSRF token to change anything); S3 signatures never pass.
 */
function authenticate (req: IncomingMessage, options: KeysApiOptions): void {
  const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')
  if (match?.[1] !== undefined ? options.isAdmin(match[1]) : options.session?.(req) === true) return
  throw new ApiError(401, 'unauthorized', 'Unable to authenticate you')
}

/** The handlers of a path by method, and the id it names; 404 for paths outside the API. */
function resolve (pathname: string): { methods: Record<string, Handler>, id: string } {
  const segments = pathname.slice(ROOT.length).split('/')
  if (segments.at(-1) === '' && segments.length > 1) segments.pop()
  let decoded: string[]
  try {
    decoded = segments.map(decodeURIComponent)
  } catch {
    throw notFound()
  }
  const [resource, id = '', action, ...rest] = decoded
  if (decoded.includes('') || rest.length > 0) throw notFound()
  if (resource === 'keys') {
    if (decoded.length === 1) return { methods: { GET: listKeys, POST: createKey }, id }
    if (action === undefined) return { methods: { GET: getKey, PUT: replaceKey, PATCH: patchKey, DELETE: deleteKey }, id }
    if (action === 'regenerate') return { methods: { POST: regenerateKey }, id }
    if (action === 'usage') return { methods: { GET: keyUsage }, id }
  }
  if (resource === 'buckets' && action === 'access') return { methods: { GET: bucketAccess }, id }
  throw notFound()
}

function listKeys ({ box, query, baseUrl }: Call): Reply {
  // A misspelt filter (`?buckett=`) would list every key instead of those asked for.
  const unknown = [...query.keys()].find(name => !LIST_PARAMETERS.includes(name))
  if (unknown !== undefined) throw badRequest(`Unknown query parameter ${JSON.stringify(unknown.slice(0, 64))}: the parameters are ${LIST_PARAMETERS.join(', ')}`)
  const perPage = Math.min(positiveInteger(query, 'per_page', 20), MAX_PER_PAGE)
  const page = positiveInteger(query, 'page', 1)
  const sort = oneOf(query, 'sort', ['created_at', 'name'], 'created_at')
  const direction = oneOf(query, 'sort_direction', ['desc', 'asc'], 'desc') === 'asc' ? 1 : -1
  const permission = oneOf(query, 'permission', ['', ...PERMISSIONS], '')
  const filter: { name?: string, bucket?: string, permission?: Permission } = {}
  const name = query.get('name') ?? ''
  const bucket = query.get('bucket') ?? ''
  if (name !== '') filter.name = name
  if (bucket !== '') filter.bucket = bucket
  if (permission !== '') filter.permission = permission as Permission
  const keys = box.keys.list(filter).sort((a, b) => direction * compareKeys(a, b, sort))
  const start = (page - 1) * perPage
  return {
    status: 200,
    body: {
      keys: keys.slice(start, start + perPage).map(keyJson),
      links: pageLinks(`${baseUrl()}${ROOT}keys`, query, page, perPage, keys.length),
      meta: { total: keys.length }
    }
  }
}

async function createKey ({ box, req }: Call): Promise<Reply> {
  const body = await readJson(req, CREATE_FIELDS)
  // Required, though DigitalOcean defaults it to []: a missing or misspelt `grants` is a mistake to
  // report, not a key to make. null is refused too, by the engine (not an array).
  if (!Object.hasOwn(body, 'grants')) throw badRequest('grants is required: a list of { bucket, permission, prefix? }, [] for a key that reaches nothing yet')
  const options: CreateAccessKeyOptions = { name: body.name as string, grants: body.grants as Grant[] }
  const { expiresAt, rateLimit } = limitsOf(body)
  if (expiresAt != null) options.expiresAt = expiresAt
  if (rateLimit != null) options.rateLimit = rateLimit
  return { status: 201, body: { key: newKeyJson(await box.keys.create(options)) } }
}

function getKey ({ box, id }: Call): Reply {
  return { status: 200, body: { key: keyJson(box.keys.get(id)) } }
}

async function replaceKey ({ box, req, id }: Call): Promise<Reply> {
  const body = await readJson(req, EDIT_FIELDS)
  if (body.name === undefined) throw badRequest('PUT needs the key\'s name; PATCH changes only the fields given')
  // DigitalOcean's own client renames with `"grants": null`: that keeps the grants.
  if (body.grants === null) delete body.grants
  return { status: 200, body: { key: keyJson(await editKey(box, id, body)) } }
}

async function patchKey ({ box, req, id }: Call): Promise<Reply> {
  const body = await readJson(req, EDIT_FIELDS)
  return { status: 200, body: { key: keyJson(await editKey(box, id, body)) } }
}

async function deleteKey ({ box, id }: Call): Promise<Reply> {
  await box.keys.delete(id)
  return { status: 204 }
}

async function regenerateKey ({ box, id }: Call): Promise<Reply> {
  return { status: 200, body: { key: newKeyJson(await box.keys.regenerate(id)) } }
}

function keyUsage ({ box, id }: Call): Reply {
  return { status: 200, body: { usage: usageJson(box.keys.usage(id)) } }
}

function bucketAccess ({ box, id }: Call): Reply {
  return { status: 200, body: { access: box.keys.whoCanAccess(id).map(accessJson) } }
}

/**
 * Apply the fields of a PUT or PATCH body. The engine changes a key one aspect at a time, so a
 * rename is undone when the grant change after it is refused: the request succeeds or changes nothing.
 */
async function editKey (box: Spacebox, id: string, body: Body): Promise<AccessKeyInfo> {
  const before = box.keys.get(id)
  if (body.disabled !== undefined && typeof body.disabled !== 'boolean') throw badRequest('disabled is true or false')
  const changes: AccessKeyUpdate = limitsOf(body)
  if (body.grants !== undefined) changes.grants = body.grants as Grant[]
  if (body.name !== undefined) await box.keys.rename(id, body.name as string)
  try {
    if (Object.keys(changes).length > 0) await box.keys.update(id, changes)
  } catch (err) {
    if (body.name !== undefined) await box.keys.rename(id, before.name)
    throw err
  }
  if (body.disabled === true) return await box.keys.disable(id)
  if (body.disabled === false) return await box.keys.enable(id)
  return box.keys.get(id)
}

/** expires_at and rate_limit of a body, as the engine takes them (null removes). */
function limitsOf (body: Body): Pick<AccessKeyUpdate, 'expiresAt' | 'rateLimit'> {
  const out: Pick<AccessKeyUpdate, 'expiresAt' | 'rateLimit'> = {}
  if (body.expires_at !== undefined) {
    // The engine also takes epoch numbers; on the wire a date is an ISO 8601 string.
    if (body.expires_at !== null && (typeof body.expires_at !== 'string' || !ISO_DATE.test(body.expires_at))) {
      throw badRequest('expires_at is an ISO 8601 date (2030-01-31 or 2030-01-31T12:00:00Z), or null')
    }
    out.expiresAt = body.expires_at
  }
  if (body.rate_limit !== undefined) out.rateLimit = body.rate_limit as number | null
  return out
}

function compareKeys (a: AccessKeyInfo, b: AccessKeyInfo, sort: string): number {
  const byName = sort === 'name' ? compare(a.name, b.name) : 0
  return byName || a.createdAt.getTime() - b.createdAt.getTime() || compare(a.accessKeyId, b.accessKeyId)
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** DigitalOcean's links.pages: first and prev except on page 1, next and last except on the last page. */
function pageLinks (base: string, query: URLSearchParams, page: number, perPage: number, total: number): { pages?: Record<string, string> } {
  const last = Math.max(1, Math.ceil(total / perPage))
  const link = (n: number): string => {
    const params = new URLSearchParams(query)
    if (params.has('per_page')) params.set('per_page', String(perPage))
    params.set('page', String(n))
    return `${base}?${params.toString()}`
  }
  const pages: Record<string, string> = {}
  if (page > 1) {
    pages.first = link(1)
    pages.prev = link(Math.min(page - 1, last))
  }
  if (page < last) {
    pages.next = link(page + 1)
    pages.last = link(last)
  }
  return Object.keys(pages).length === 0 ? {} : { pages }
}

function positiveInteger (query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name)
  if (raw === null) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < 1) throw badRequest(`${name} must be a positive integer`)
  return value
}

function oneOf (query: URLSearchParams, name: string, allowed: readonly string[], fallback: string): string {
  const value = query.get(name) ?? fallback
  if (!allowed.includes(value)) throw badRequest(`${name} must be one of ${allowed.filter(Boolean).join(', ')}`)
  return value
}

function keyJson (key: AccessKeyInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: key.name,
    access_key: key.accessKeyId,
    grants: key.grants,
    created_at: key.createdAt.toISOString(),
    disabled: key.disabled
  }
  if (key.expiresAt !== undefined) out.expires_at = key.expiresAt.toISOString()
  if (key.rateLimit !== undefined) out.rate_limit = key.rateLimit
  return out
}

function newKeyJson (key: NewAccessKey): Record<string, unknown> {
  return { ...keyJson(key), secret_key: key.secretAccessKey }
}

function usageJson (usage: KeyUsage): Record<string, unknown> {
  const out: Record<string, unknown> = { requests: usage.requests, bytes_in: usage.bytesIn, bytes_out: usage.bytesOut, denied: usage.denied }
  if (usage.lastUsed !== undefined) out.last_used = usage.lastUsed.toISOString()
  if (usage.lastDenied !== undefined) {
    const { at, operation, reason } = usage.lastDenied
    out.last_denied = { at: at.toISOString(), operation, reason }
  }
  out.history = usage.history.map(({ hour, requests, bytesIn, bytesOut }) => ({ hour: hour.toISOString(), requests, bytes_in: bytesIn, bytes_out: bytesOut }))
  return out
}

function accessJson (access: KeyAccess): Record<string, unknown> {
  const out: Record<string, unknown> = { access_key: access.accessKeyId, name: access.name, permission: access.permission }
  if (access.prefix !== undefined) out.prefix = access.prefix
  if (access.publish === true) out.publish = true
  out.disabled = access.disabled
  if (access.expiresAt !== undefined) out.expires_at = access.expiresAt.toISOString()
  return out
}

/** DigitalOcean's error for anything thrown; an unknown failure's message is not shown. */
function toApiError (err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (isSpaceboxError(err, 'NoSuchAccessKey')) return notFound()
  if (isSpaceboxError(err, 'InvalidArgument') || isSpaceboxError(err, 'InvalidBucketName')) return badRequest(err.message)
  if (isSpaceboxError(err, 'NotOpen')) return new ApiError(503, 'service_unavailable', 'The store is closing; try again later.')
  return new ApiError(500, 'server_error', 'Server was unable to give you a response.')
}
