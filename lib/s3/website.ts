/**
 * The website endpoint: a bucket with a website configuration served to browsers, as S3's
 * `<bucket>.s3-website-<region>.amazonaws.com` and Spaces' `<bucket>.<region>-static.<domain>`
 * serve it. Only GET and HEAD, always as the anonymous caller (a signature is not looked at), so
 * only what ACLs and bucket policies make public is served. Errors are HTML pages, with
 * `x-amz-error-code` and `x-amz-error-message` headers.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteEndpoints.html
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import { redirectKey, type Spacebox, type WebsitePolicy, type WebsiteRoutingRule } from '../index.js'
import { sendStream, type Call, type Settings, type Store } from './call.js'
import { S3Error, toS3Error } from './errors.js'
import { requestContext } from './dispatch.js'
import { objectHeaders, sendable } from './headers.js'
import { protocolOf } from './request.js'
import * as objects from './operations/objects.js'

// `<bucket>.<region>-static.<domain>` (Spaces) and `<bucket>.s3-website-<region>.amazonaws.com`,
// `<bucket>.s3-website.<region>.amazonaws.com` (AWS, by region).
const WEBSITE_HOSTS = [/^(.+)\.[a-z0-9-]+-static\.[^.]/, /^(.+)\.s3-website[.-][a-z0-9-]+\.amazonaws\.com$/]
// Headers every response carries from the start (server.ts sets them).
const BASE_HEADERS: ReadonlySet<string> = new Set(['x-amz-request-id', 'x-amz-id-2', 'server'])

/** The Host name of a request, lower-cased and without its port. */
function hostName (host: string | undefined): string | undefined {
  return host?.replace(/:\d*$/, '').toLowerCase()
}

/** The bucket a website Host names, when the Host is a website endpoint's; undefined otherwise. */
export function websiteBucketOf (host: string | undefined): string | undefined {
  const name = hostName(host)
  if (name === undefined) return undefined
  for (const pattern of WEBSITE_HOSTS) {
    const match = pattern.exec(name)
    if (match !== null) return match[1]
  }
  return undefined
}

/**
 * The bucket a request to the websites-only listener is for: that of a website Host, else
 * `bucket.<base>` for a configured base hostname, else the whole host name (a custom domain names
 * its bucket, as on S3: a CNAME `www.example.com` serves bucket `www.example.com`).
 */
export function listenerBucketOf (host: string | undefined, baseHosts: readonly string[]): string | undefined {
  const name = hostName(host)
  if (name === undefined || name === '') return undefined
  const bucket = websiteBucketOf(name)
  if (bucket !== undefined) return bucket
  for (const base of baseHosts) {
    if (name.length > base.length + 1 && name.endsWith(`.${base}`)) return name.slice(0, -base.length - 1)
  }
  return name
}

/** One website request. */
interface Visit {
  req: IncomingMessage
  res: ServerResponse
  requestId: string
  settings: Settings
  bucket: string
  rawPath: string
  rawQuery: string
}

/**
 * Serve one website request for `bucket` (undefined: the Host names none). Never throws for what a
 * client sent: every failure is an HTML error page, or a cut connection once the answer has begun.
 */
export async function serveWebsite (box: Spacebox, settings: Settings, req: IncomingMessage, res: ServerResponse, requestId: string, bucket: string | undefined): Promise<void> {
  const url = req.url ?? '/'
  const mark = url.indexOf('?')
  const visit: Visit = {
    req,
    res,
    requestId,
    settings,
    bucket: bucket ?? '',
    rawPath: mark === -1 ? url : url.slice(0, mark),
    rawQuery: mark === -1 ? '' : url.slice(mark + 1)
  }
  try {
    await visitSite(box, visit)
  } catch (err) {
    sendHtmlError(visit, err)
  }
}

async function visitSite (box: Spacebox, visit: Visit): Promise<void> {
  const { req, bucket } = visit
  const method = req.method ?? 'GET'
  if (method !== 'GET' && method !== 'HEAD') {
    throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: method, ResourceType: 'OBJECT' }, { allow: 'GET, HEAD' })
  }
  if (bucket === '') throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket })
  const policy = await box.bucketWebsite(bucket)
  if (policy === undefined) {
    throw new S3Error('NoSuchWebsiteConfiguration', 'The specified bucket does not have a website configuration', { BucketName: bucket })
  }
  const all = policy.config.redirectAllRequestsTo
  if (all !== undefined) {
    redirect(visit, 301, `${all.protocol ?? protocolOf(req)}://${all.hostName}${visit.rawPath}${queryOf(visit)}`)
    return
  }
  if (!visit.rawPath.startsWith('/')) throw new S3Error('InvalidURI', 'Couldn\'t parse the specified URI.')
  const key = decodePath(visit.rawPath.slice(1))
  const early = policy.beforeLookup(key)
  if (early !== undefined) {
    redirectByRule(visit, early, key)
    return
  }
  const suffix = policy.config.indexDocument?.suffix ?? ''
  const store = box.anonymous(requestContext(req))
  const wanted = key === '' || key.endsWith('/') ? key + suffix : key
  let error: S3Error
  try {
    await serveObject(visit, store, wanted)
    return
  } catch (err) {
    if (visit.res.headersSent) throw err // the body failed on its way: sendHtmlError cuts the connection
    error = toS3Error(err, method)
  }
  // `dir` without its slash, when `dir/<suffix>` is there: S3 sends the browser to `dir/`, so the
  // page's relative links resolve inside it.
  if (wanted === key && (error.code === 'NoSuchKey' || error.code === 'AccessDenied') && await readable(store, bucket, `${key}/${suffix}`)) {
    redirect(visit, 302, `/${encodeKey(key)}/`)
    return
  }
  await answerError(visit, store, policy, key, error)
}

/** GetObject or HeadObject of `key` through the anonymous view, with the request's conditions and range. */
async function serveObject (visit: Visit, store: Store, key: string): Promise<void> {
  const call = callOf(visit, store, key)
  await (visit.req.method === 'HEAD' ? objects.headObject(call) : objects.getObject(call))
}

/** A routing rule for the error, else the error document with the error's status, else the HTML error. */
async function answerError (visit: Visit, store: Store, policy: WebsitePolicy, key: string, error: S3Error): Promise<void> {
  const rule = policy.afterError(key, error.status)
  if (rule !== undefined) {
    redirectByRule(visit, rule, key)
    return
  }
  const document = policy.config.errorDocument?.key
  if (document === undefined || error.status < 400 || error.status >= 500) throw error
  let result
  try {
    result = await store.getObject(visit.bucket, document)
  } catch (err) {
    sendHtmlError(visit, error, toS3Error(err))
    return
  }
  const headers = { ...objectHeaders(result.info, new Map(), false), 'content-length': String(result.info.size) }
  await sendStream(callOf(visit, store, document), error.status, headers, result.body)
}

/** The adapter's view of a website request, so the REST handlers (conditions, ranges) serve it. */
function callOf (visit: Visit, store: Store, key: string): Call {
  return {
    req: visit.req,
    res: visit.res,
    requestId: visit.requestId,
    // No query: a website GET takes no versionId, partNumber or response-* overrides.
    target: { rawPath: visit.rawPath, rawQuery: '', query: new Map(), virtualHosted: true, resource: `/${visit.bucket}${visit.rawPath}` },
    store,
    identity: undefined,
    extraHeaders: {},
    settings: visit.settings,
    bucket: visit.bucket,
    key,
    truncate: false
  }
}

async function readable (store: Store, bucket: string, key: string): Promise<boolean> {
  try {
    await store.headObject(bucket, key)
    return true
  } catch {
    return false
  }
}

/** Where a routing rule sends a request for `key`: its protocol and host, or the request's; its code, or 301. */
function redirectByRule (visit: Visit, rule: WebsiteRoutingRule, key: string): void {
  const { hostName: host, protocol, httpRedirectCode } = rule.redirect
  const path = `/${encodeKey(redirectKey(rule, key))}${queryOf(visit)}`
  const to = host ?? visit.req.headers.host
  redirect(visit, httpRedirectCode ?? 301, to === undefined ? path : `${protocol ?? protocolOf(visit.req)}://${to}${path}`)
}

function redirect (visit: Visit, status: number, location: string): void {
  visit.res.writeHead(status, { location, 'content-length': '0' })
  visit.res.end()
}

/**
 * The HTML error page S3's website endpoints answer with (none for HEAD): the error's fields, and
 * what went wrong with the custom error document when that failed too.
 */
function sendHtmlError (visit: Visit, err: unknown, documentError?: S3Error): void {
  const { req, res } = visit
  const error = toS3Error(err, req.method)
  if (!(err instanceof S3Error) && error.code === 'InternalError') visit.settings.onError(err, visit.requestId)
  if (res.headersSent) {
    res.destroy()
    return
  }
  for (const name of res.getHeaderNames()) {
    if (!BASE_HEADERS.has(name)) res.removeHeader(name)
  }
  const title = `${error.status} ${STATUS_CODES[error.status] ?? ''}`.trim()
  const items = (fields: Array<[string, string | number]>): string => `<ul>\n${fields.map(([name, value]) => `<li>${name}: ${escapeHtml(String(value))}</li>\n`).join('')}</ul>\n`
  const note = documentError === undefined
    ? ''
    : `<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n${items([['Code', documentError.code], ['Message', documentError.message]])}`
  const body = `<html>\n<head><title>${title}</title></head>\n<body>\n<h1>${title}</h1>\n` +
    items([['Code', error.code], ['Message', error.message], ...Object.entries(error.extras), ['RequestId', visit.requestId], ['HostId', visit.requestId]]) +
    `${note}<hr/>\n</body>\n</html>\n`
  const headers: Record<string, string> = {
    ...error.headers,
    'content-type': 'text/html; charset=utf-8',
    'x-amz-error-code': error.code,
    'x-amz-error-message': sendable(error.message)
  }
  const payload = req.method === 'HEAD' || error.status === 304 ? undefined : body
  headers['content-length'] = String(payload === undefined ? 0 : Buffer.byteLength(payload))
  try {
    res.writeHead(error.status, headers)
    res.end(payload)
  } catch (failure) {
    visit.settings.onError(failure, visit.requestId)
    res.destroy()
  }
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, c => HTML_ESCAPES[c] as string)
}

/** A key in a Location header: percent-encoded but for its slashes. */
function encodeKey (key: string): string {
  return encodeURIComponent(key).replaceAll('%2F', '/')
}

function decodePath (raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new S3Error('InvalidURI', 'Couldn\'t parse the specified URI.')
  }
}

/** The request's query, as sent, for a redirect to keep. */
function queryOf (visit: Visit): string {
  return visit.rawQuery === '' ? '' : `?${visit.rawQuery}`
}
