import type { IncomingMessage, ServerResponse } from 'node:http'
import { pipeline } from 'node:stream/promises'
import { isSpaceboxError, type CorsRule, type LifecycleRule, type ObjectInfo, type Spacebox, type WebsiteConfiguration } from '../index.js'
import { toS3Error } from '../s3/errors.js'
import { ApiError, badRequest, notFound, readJson, sendJson, type JsonBody } from '../s3/json-api.js'
import { presignUrl } from '../s3/presign.js'
import { protocolOf } from '../s3/request.js'

/*
 * The console's JSON API (under /_spacebox/console/api): buckets, their settings and objects, for
 * a signed-in session, which holds the admin token's rights. Access keys are the keys API's.
 * The contract with the pages is in README ("Web console").
 */

/** A bucket's objects counted for the bucket list, at most: past it the list says "more". */
const COUNT_LIMIT = 10_000
/** Objects per page of the browser, at most. */
const MAX_PAGE = 1000
/** A presigned link lives at most a week, as SigV4 allows. */
const MAX_EXPIRY_S = 604_800

export interface ApiCall {
  box: Spacebox
  req: IncomingMessage
  res: ServerResponse
  requestId: string
  /** The path after /api/, decoded, split at '/'. */
  path: string[]
  query: URLSearchParams
  region: string | undefined
}

/** What a handler answers: a status and JSON body, or `undefined` when it wrote the response itself. */
type Reply = { status: number, body?: unknown } | undefined
type Handler = (call: ApiCall) => Promise<Reply>

interface Route {
  method: string
  /** Segments; ':name' matches one segment. */
  pattern: string[]
  handler: Handler
}

/**
 * GET, PUT and DELETE of a bucket configuration the engine checks whole when stored: the body and
 * the answer are `{ [field]: value }`, null when none is set.
 */
interface Configuration {
  field: string
  /** What `field` must be, for the message when it is not. */
  shape: string
  accepts: (value: unknown) => boolean
  get: (box: Spacebox, bucket: string) => Promise<unknown>
  put: (box: Spacebox, bucket: string, value: never) => Promise<void>
  delete: (box: Spacebox, bucket: string) => Promise<void>
  missing: Parameters<typeof absent>[0]
}

function configurationRoutes (path: string, c: Configuration): Route[] {
  const get: Handler = async call => ({ status: 200, body: { [c.field]: await c.get(call.box, bucketOf(call)).catch(absent(c.missing)) ?? null } })
  return [
    route('GET', path, get),
    route('PUT', path, async call => {
      const value = (await readJson(call.req, [c.field]))[c.field]
      if (!c.accepts(value)) throw badRequest(`${c.field} is ${c.shape}`)
      await c.put(call.box, bucketOf(call), value as never)
      return await get(call)
    }),
    route('DELETE', path, async call => {
      await c.delete(call.box, bucketOf(call))
      return await get(call)
    })
  ]
}

const isObject = (value: unknown): boolean => value !== null && typeof value === 'object' && !Array.isArray(value)

/** The bucket policy as its JSON text (the engine checks and compiles it). */
const POLICY: Configuration = {
  field: 'policy',
  shape: 'the policy document, as JSON text',
  accepts: value => typeof value === 'string',
  get: async (box, bucket) => await box.getBucketPolicy(bucket),
  put: async (box, bucket, policy: string) => { await box.putBucketPolicy(bucket, policy) },
  delete: async (box, bucket) => { await box.deleteBucketPolicy(bucket) },
  missing: 'NoSuchBucketPolicy'
}

/** Lifecycle rules in the engine's shape (README, Lifecycle). */
const LIFECYCLE: Configuration = {
  field: 'rules',
  shape: 'a list of lifecycle rules',
  accepts: Array.isArray,
  get: async (box, bucket) => await box.getBucketLifecycleConfiguration(bucket),
  put: async (box, bucket, rules: LifecycleRule[]) => { await box.putBucketLifecycleConfiguration(bucket, rules) },
  delete: async (box, bucket) => { await box.deleteBucketLifecycle(bucket) },
  missing: 'NoSuchLifecycleConfiguration'
}

/** The website configuration in the engine's shape (README, Static websites). */
const WEBSITE: Configuration = {
  field: 'website',
  shape: 'a website configuration',
  accepts: isObject,
  get: async (box, bucket) => await box.getBucketWebsite(bucket),
  put: async (box, bucket, website: WebsiteConfiguration) => { await box.putBucketWebsite(bucket, website) },
  delete: async (box, bucket) => { await box.deleteBucketWebsite(bucket) },
  missing: 'NoSuchWebsiteConfiguration'
}

const ROUTES: Route[] = [
  route('GET', 'buckets', listBuckets),
  route('POST', 'buckets', createBucket),
  route('GET', 'buckets/:b', bucketDetails),
  route('DELETE', 'buckets/:b', deleteBucket),
  route('PUT', 'buckets/:b/versioning', putVersioning),
  route('PUT', 'buckets/:b/encryption', putEncryption),
  route('DELETE', 'buckets/:b/encryption', deleteEncryption),
  route('PUT', 'buckets/:b/cors', putCors),
  route('DELETE', 'buckets/:b/cors', deleteCors),
  route('PUT', 'buckets/:b/acl', putAcl),
  ...configurationRoutes('buckets/:b/policy', POLICY),
  ...configurationRoutes('buckets/:b/lifecycle', LIFECYCLE),
  ...configurationRoutes('buckets/:b/website', WEBSITE),
  route('GET', 'buckets/:b/public', publicAccess),
  route('GET', 'buckets/:b/objects', listObjects),
  route('GET', 'buckets/:b/object', objectDetails),
  route('PUT', 'buckets/:b/object', putObject),
  route('GET', 'buckets/:b/download', download),
  route('POST', 'buckets/:b/delete', deleteObjects),
  route('POST', 'buckets/:b/presign', presign),
  route('POST', 'buckets/:b/uploads', createUpload),
  route('PUT', 'buckets/:b/uploads/:id/parts/:n', uploadPart),
  route('POST', 'buckets/:b/uploads/:id/complete', completeUpload),
  route('DELETE', 'buckets/:b/uploads/:id', abortUpload)
]

function route (method: string, pattern: string, handler: Handler): Route {
  return { method, pattern: pattern.split('/'), handler }
}

/** Serve one API request; errors become `{ id, message }` with the status S3 would give. */
export async function serveApi (call: ApiCall): Promise<void> {
  const matching = ROUTES.filter(r => r.pattern.length === call.path.length && r.pattern.every((s, i) => s.startsWith(':') || s === call.path[i]))
  if (matching.length === 0) throw notFound()
  const found = matching.find(r => r.method === call.req.method)
  if (found === undefined) throw new ApiError(405, 'method_not_allowed', `${call.req.method ?? ''} is not allowed here`, { allow: matching.map(r => r.method).join(', ') })
  const reply = await found.handler(call)
  if (reply !== undefined) sendJson(call.res, call.requestId, reply.status, reply.body)
}

/**
 * An engine error as the console shows it: its code, its message (which says which rule), S3's
 * status. A configuration of the wrong shape (lifecycle rules, a website) is the engine's
 * TypeError or RangeError: the caller's mistake, said as it is.
 */
export function toConsoleError (err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err
  if (err instanceof TypeError || err instanceof RangeError) return badRequest(err.message)
  if (!isSpaceboxError(err) || err.code === 'InternalError') return undefined
  return new ApiError(toS3Error(err).status, err.code, err.message)
}

const bucketOf = (call: ApiCall): string => call.path[1] ?? ''

function keyOf (call: ApiCall, body?: JsonBody): string {
  const key = body === undefined ? call.query.get('key') : body.key
  if (typeof key !== 'string' || key === '') throw badRequest('key is required')
  return key
}

async function listBuckets ({ box }: ApiCall): Promise<Reply> {
  const buckets = []
  for (const info of await box.listBuckets()) {
    let objects = 0
    let bytes = 0
    for await (const summary of box.listAll(info.name)) {
      if (objects === COUNT_LIMIT) break
      objects++
      bytes += summary.size
    }
    buckets.push({ name: info.name, region: info.region, created: info.created.toISOString(), objects, bytes, more: objects === COUNT_LIMIT })
  }
  return { status: 200, body: { buckets } }
}

async function createBucket ({ box, req }: ApiCall): Promise<Reply> {
  const body = await readJson(req, ['name', 'region'])
  if (typeof body.name !== 'string') throw badRequest('name is required')
  if (body.region !== undefined && typeof body.region !== 'string') throw badRequest('region is a string')
  const info = await box.createBucket(body.name, body.region === undefined ? {} : { region: body.region })
  return { status: 201, body: { bucket: { name: info.name, region: info.region, created: info.created.toISOString() } } }
}

async function deleteBucket (call: ApiCall): Promise<Reply> {
  await call.box.deleteBucket(bucketOf(call))
  return { status: 204 }
}

async function bucketDetails (call: ApiCall): Promise<Reply> {
  const { box } = call
  const bucket = bucketOf(call)
  const info = await box.headBucket(bucket)
  const encryption = await box.getBucketEncryption(bucket).catch(absent('ServerSideEncryptionConfigurationNotFoundError'))
  const cors = await box.getBucketCors(bucket).catch(absent('NoSuchCORSConfiguration'))
  const access = await box.publicAccess(bucket, { maxObjects: 1 })
  return {
    status: 200,
    body: {
      bucket: { name: info.name, region: info.region, created: info.created.toISOString() },
      versioning: (await box.getBucketVersioning(bucket)).status ?? null,
      encryption: encryption === undefined ? null : { algorithm: encryption.algorithm, master_key_id: encryption.masterKeyId, bucket_key_enabled: encryption.bucketKeyEnabled === true },
      cors: cors === undefined ? null : cors.map(corsJson),
      public: { acl: access.acl, policy_statements: access.policy.length }
    }
  }
}

/** A catch that turns one error code into `undefined` (a setting not set). */
function absent (code: 'ServerSideEncryptionConfigurationNotFoundError' | 'NoSuchCORSConfiguration' | 'NoSuchBucketPolicy' | 'NoSuchLifecycleConfiguration' | 'NoSuchWebsiteConfiguration'): (err: unknown) => undefined {
  return err => {
    if (isSpaceboxError(err, code)) return undefined
    throw err
  }
}

async function putVersioning (call: ApiCall): Promise<Reply> {
  const body = await readJson(call.req, ['status'])
  if (body.status !== 'Enabled' && body.status !== 'Suspended') throw badRequest('status is Enabled or Suspended')
  await call.box.putBucketVersioning(bucketOf(call), body.status)
  return await bucketDetails(call)
}

async function putEncryption (call: ApiCall): Promise<Reply> {
  const body = await readJson(call.req, ['algorithm'])
  if (body.algorithm !== 'AES256') throw badRequest('algorithm is AES256 (SSE-KMS defaults are set over S3)')
  await call.box.putBucketEncryption(bucketOf(call), { algorithm: 'AES256' })
  return await bucketDetails(call)
}

async function deleteEncryption (call: ApiCall): Promise<Reply> {
  await call.box.deleteBucketEncryption(bucketOf(call))
  return await bucketDetails(call)
}

async function putCors (call: ApiCall): Promise<Reply> {
  const body = await readJson(call.req, ['rules'])
  if (!Array.isArray(body.rules)) throw badRequest('rules is a list of CORS rules')
  await call.box.putBucketCors(bucketOf(call), body.rules.map(corsRule))
  return await bucketDetails(call)
}

async function deleteCors (call: ApiCall): Promise<Reply> {
  await call.box.deleteBucketCors(bucketOf(call))
  return await bucketDetails(call)
}

const CORS_FIELDS = ['id', 'allowed_origins', 'allowed_methods', 'allowed_headers', 'expose_headers', 'max_age_seconds']

/** A CORS rule of the JSON body, in the engine's shape; the engine checks the values. */
function corsRule (value: unknown): CorsRule {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('each CORS rule is an object')
  const rule = value as JsonBody
  const unknown = Object.keys(rule).find(field => !CORS_FIELDS.includes(field))
  if (unknown !== undefined) throw badRequest(`Unknown CORS rule field ${JSON.stringify(unknown.slice(0, 64))}: the fields are ${CORS_FIELDS.join(', ')}`)
  const out: Record<string, unknown> = { allowedOrigins: rule.allowed_origins, allowedMethods: rule.allowed_methods }
  if (rule.id !== undefined) out.id = rule.id
  if (rule.allowed_headers !== undefined) out.allowedHeaders = rule.allowed_headers
  if (rule.expose_headers !== undefined) out.exposeHeaders = rule.expose_headers
  if (rule.max_age_seconds !== undefined) out.maxAgeSeconds = rule.max_age_seconds
  return out as unknown as CorsRule
}

function corsJson (rule: CorsRule): Record<string, unknown> {
  const out: Record<string, unknown> = { allowed_origins: rule.allowedOrigins, allowed_methods: rule.allowedMethods }
  if (rule.id !== undefined) out.id = rule.id
  if (rule.allowedHeaders !== undefined) out.allowed_headers = rule.allowedHeaders
  if (rule.exposeHeaders !== undefined) out.expose_headers = rule.exposeHeaders
  if (rule.maxAgeSeconds !== undefined) out.max_age_seconds = rule.maxAgeSeconds
  return out
}

const ACLS = ['private', 'public-read', 'public-read-write', 'authenticated-read']

async function putAcl (call: ApiCall): Promise<Reply> {
  const body = await readJson(call.req, ['acl'])
  if (typeof body.acl !== 'string' || !ACLS.includes(body.acl)) throw badRequest(`acl is one of ${ACLS.join(', ')}`)
  await call.box.putBucketAcl(bucketOf(call), body.acl as 'private')
  return await bucketDetails(call)
}

async function publicAccess (call: ApiCall): Promise<Reply> {
  const access = await call.box.publicAccess(bucketOf(call))
  return {
    status: 200,
    body: {
      acl: access.acl,
      policy: access.policy,
      objects: access.objects.map(o => ({ key: o.key, version_id: o.versionId, acl: o.acl })),
      more: access.isTruncated
    }
  }
}

async function listObjects (call: ApiCall): Promise<Reply> {
  const { query } = call
  const max = Number(query.get('max') ?? 200)
  if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE) throw badRequest(`max is 1 to ${MAX_PAGE}`)
  const token = query.get('token')
  const page = await call.box.listObjectsV2(bucketOf(call), {
    prefix: query.get('prefix') ?? '',
    delimiter: query.get('delimiter') ?? '',
    maxKeys: max,
    ...(token === null ? {} : { continuationToken: token })
  })
  return {
    status: 200,
    body: {
      objects: page.contents.map(o => ({ key: o.key, size: o.size, last_modified: o.lastModified.toISOString(), etag: o.etag, storage_class: o.storageClass })),
      prefixes: page.commonPrefixes,
      next: page.nextContinuationToken ?? null
    }
  }
}

async function objectDetails (call: ApiCall): Promise<Reply> {
  return { status: 200, body: objectJson(await call.box.headObject(bucketOf(call), keyOf(call))) }
}

function objectJson (info: ObjectInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {
    key: info.key,
    size: info.size,
    etag: info.etag,
    content_type: info.contentType,
    last_modified: info.lastModified.toISOString(),
    metadata: info.metadata,
    checksums: info.checksums,
    storage_class: info.storageClass
  }
  if (info.versionId !== undefined) out.version_id = info.versionId
  if (info.serverSideEncryption !== undefined) out.encryption = info.serverSideEncryption
  if (info.contentEncoding !== undefined) out.content_encoding = info.contentEncoding
  if (info.cacheControl !== undefined) out.cache_control = info.cacheControl
  if (info.contentDisposition !== undefined) out.content_disposition = info.contentDisposition
  return out
}

async function putObject (call: ApiCall): Promise<Reply> {
  const type = call.req.headers['content-type']
  const result = await call.box.putObject(bucketOf(call), keyOf(call), call.req, typeof type === 'string' && type !== '' ? { contentType: type } : {})
  return { status: 200, body: { etag: result.etag, size: result.size } }
}

async function download (call: ApiCall): Promise<Reply> {
  const key = keyOf(call)
  const { info, body } = await call.box.getObject(bucketOf(call), key)
  const name = key.slice(key.lastIndexOf('/') + 1) || 'download'
  call.res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': info.size,
    // The name as a filename* parameter: any character survives, and nothing of it is markup.
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
    'cache-control': 'no-store',
    'x-request-id': call.requestId
  })
  await pipeline(body, call.res).catch(() => { call.res.destroy() })
  return undefined
}

async function deleteObjects (call: ApiCall): Promise<Reply> {
  const body = await readJson(call.req, ['keys'])
  if (!Array.isArray(body.keys) || body.keys.length === 0 || body.keys.length > 1000 || !body.keys.every(k => typeof k === 'string')) {
    throw badRequest('keys is a list of 1 to 1000 object keys')
  }
  const result = await call.box.deleteObjects(bucketOf(call), body.keys as string[])
  return { status: 200, body: { deleted: result.deleted.map(d => d.key), errors: result.errors.map(e => ({ key: e.key, id: e.code, message: e.message })) } }
}

async function presign (call: ApiCall): Promise<Reply> {
  const { box, req } = call
  const body = await readJson(req, ['key', 'expires_in', 'access_key'])
  const key = keyOf(call, body)
  const expiresIn = body.expires_in
  if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRY_S) throw badRequest(`expires_in is 1 to ${MAX_EXPIRY_S} seconds`)
  if (typeof body.access_key !== 'string') throw badRequest('access_key is required: the key whose grants the link carries')
  const bucket = bucketOf(call)
  const { secret, generation } = box.keys.secretOf(body.access_key)
  // The link is only as good as the key's grants: refuse one that could never be used.
  await box.as(body.access_key, generation).headObject(bucket, key)
  const host = req.headers.host ?? 'localhost'
  const path = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`
  const now = new Date()
  const region = call.region ?? (await box.headBucket(bucket)).region
  const url = presignUrl({ method: 'GET', url: `${protocolOf(req)}://${host}${path}`, accessKeyId: body.access_key, secretAccessKey: secret, region, expiresIn, now })
  return { status: 200, body: { url, expires_at: new Date(now.getTime() + expiresIn * 1000).toISOString() } }
}

async function createUpload (call: ApiCall): Promise<Reply> {
  const body = await readJson(call.req, ['key', 'content_type'])
  const key = keyOf(call, body)
  if (body.content_type !== undefined && typeof body.content_type !== 'string') throw badRequest('content_type is a string')
  const upload = await call.box.createMultipartUpload(bucketOf(call), key, body.content_type === undefined || body.content_type === '' ? {} : { contentType: body.content_type })
  return { status: 201, body: { upload_id: upload.uploadId } }
}

async function uploadPart (call: ApiCall): Promise<Reply> {
  const n = Number(call.path[5])
  if (!/^\d{1,5}$/.test(call.path[5] ?? '') || n < 1 || n > 10_000) throw badRequest('a part number is 1 to 10000')
  const result = await call.box.uploadPart(bucketOf(call), keyOf(call), call.path[3] ?? '', n, call.req)
  return { status: 200, body: { etag: result.etag } }
}

async function completeUpload (call: ApiCall): Promise<Reply> {
  const body = await readJson(call.req, ['key', 'parts'])
  const key = keyOf(call, body)
  const parts = body.parts
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > 10_000) throw badRequest('parts is a list of { part, etag }')
  const completed = parts.map(p => {
    const { part, etag } = (p ?? {}) as JsonBody
    if (typeof part !== 'number' || typeof etag !== 'string') throw badRequest('each part is { part: number, etag: string }')
    return { partNumber: part, etag }
  })
  const result = await call.box.completeMultipartUpload(bucketOf(call), key, call.path[3] ?? '', completed)
  return { status: 200, body: { etag: result.etag, size: result.size } }
}

async function abortUpload (call: ApiCall): Promise<Reply> {
  await call.box.abortMultipartUpload(bucketOf(call), keyOf(call), call.path[3] ?? '')
  return { status: 204 }
}
