import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RequestContext, Spacebox } from '../index.js'
import { authenticate } from './auth.js'
import { sendError, send, type Call, type Settings } from './call.js'
import { corsHeaders, preflight } from './cors.js'
import { S3Error } from './errors.js'
import { faultError } from './faults.js'
import { authenticateForm, isFormUpload } from './post.js'
import { parseTarget, protocolOf, type Target } from './request.js'
import { route, routeOf, type Operation } from './router.js'

// Request ids are cut from a pool of random bytes: a randomBytes call for each was a few per cent of a small request's CPU.
let idPool = Buffer.alloc(0)
let idAt = 0

export function newRequestId (): string {
  if (idAt === idPool.length) {
    idPool = randomBytes(4096)
    idAt = 0
  }
  idAt += 8
  return idPool.toString('hex', idAt - 8, idAt).toUpperCase()
}

/** A served S3 request, as the server's observers (the test fixture's journal) see it. */
export interface Exchange {
  method: string
  operation: Operation | undefined
  bucket: string | undefined
  key: string | undefined
  accessKeyId: string | undefined
  /** How the request was signed. */
  auth: 'v4' | 'v4-presigned' | 'v2' | 'anonymous' | undefined
  /** The x-amz-content-sha256 mode: a hex hash is reported as 'SHA256', else the literal (UNSIGNED-PAYLOAD, STREAMING-...). */
  payload: string | undefined
  /** The flexible checksum the request carried (header or trailer), if any. */
  checksumAlgorithm: string | undefined
  /** The S3 error code of a failed request. */
  error: string | undefined
  /** The fault rule that hit the request. */
  fault: number | undefined
  /** What that rule did to it; a cut connection (`resetConnection`) leaves the record no status. */
  faultAction: FaultAction | undefined
}

export type FaultAction = 'resetConnection' | 'error' | 'truncateBody' | 'latency'

/**
 * Serve one S3 request: address, authenticate, route, then one engine call through the caller's
 * view of the store, rendered as S3 renders it. Every failure becomes S3's error response.
 */
export async function serveS3 (box: Spacebox, settings: Settings, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<Exchange> {
  const exchange = describe(req)
  let target: Target = { rawPath: req.url ?? '/', rawQuery: '', query: new Map(), virtualHosted: false, resource: req.url ?? '/' }
  const extraHeaders: Record<string, string> = {}
  try {
    target = parseTarget(req, settings.hostnames)
    exchange.bucket = target.bucket
    exchange.key = target.key
    if (req.method === 'OPTIONS') {
      await answerPreflight(box, req, res, target, extraHeaders)
      return exchange
    }
    // A browser form upload is signed by its fields, not its headers: read as far as its file.
    const identity = isFormUpload(req, target) ? await authenticateForm(box, req, res) : authenticate(box, req, target, settings.now())
    exchange.accessKeyId = identity?.accessKeyId
    exchange.auth = identity === undefined ? 'anonymous' : identity.kind
    // Unsigned requests learn nothing, not even which operations exist: the view decides the rest.
    let op: Operation
    try {
      op = route(req.method ?? 'GET', target, req.headers)
    } catch (err) {
      if (identity === undefined) throw new S3Error('AccessDenied', 'Access Denied')
      throw err
    }
    const declared = routeOf(op)
    exchange.operation = op
    if (settings.profile === 'spaces' && declared.notInSpaces === true) {
      throw new S3Error('NotImplemented', 'A header or query you provided requested a function that is not implemented.')
    }
    if (target.bucket !== undefined && req.headers.origin !== undefined) {
      Object.assign(extraHeaders, corsHeaders(await box.bucketCorsPolicy(target.bucket), req.headers, req.method ?? 'GET'))
    }
    let truncate = false
    const fault = settings.faults?.pick({ operation: op, bucket: target.bucket, key: target.key })
    if (fault !== undefined) {
      exchange.fault = fault.id
      exchange.faultAction = fault.resetConnection === true ? 'resetConnection' : fault.error !== undefined ? 'error' : fault.truncateBody === true ? 'truncateBody' : 'latency'
      if (fault.latencyMs !== undefined) await new Promise(resolve => setTimeout(resolve, fault.latencyMs))
      if (fault.resetConnection === true) {
        req.socket.destroy()
        return exchange
      }
      if (fault.error !== undefined) throw faultError(fault.error)
      truncate = fault.truncateBody === true
    }
    // Handlers get the caller's view of the store, never the store: whatever a handler calls is
    // checked against the caller's grants, or for an unsigned caller against ACLs and policies.
    const context = requestContext(req)
    const store: Call['store'] = identity === undefined ? box.anonymous(context) : box.as(identity.accessKeyId, identity.generation, context)
    const call: Call = {
      req,
      res,
      requestId,
      target,
      store,
      identity,
      extraHeaders,
      settings,
      bucket: target.bucket ?? '',
      key: target.key ?? '',
      truncate
    }
    await declared.handler(call)
  } catch (err) {
    exchange.error = sendError({ req, res, requestId, target, extraHeaders, settings }, err)
  }
  return exchange
}

/** What bucket policy conditions test: the peer's address (IPv4 without its IPv6 mapping), TLS, two headers. */
export function requestContext (req: IncomingMessage): RequestContext {
  const context: RequestContext = { secureTransport: protocolOf(req) === 'https' }
  const address = req.socket.remoteAddress
  if (address !== undefined) context.sourceIp = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
  if (typeof req.headers.referer === 'string') context.referer = req.headers.referer
  if (typeof req.headers['user-agent'] === 'string') context.userAgent = req.headers['user-agent']
  return context
}

/** What the request's headers say about it, before anything is parsed. */
function describe (req: IncomingMessage): Exchange {
  const payload = req.headers['x-amz-content-sha256']
  const mode = typeof payload === 'string' ? (/^[0-9a-f]{64}$/.test(payload) ? 'SHA256' : payload) : undefined
  let checksumAlgorithm: string | undefined
  const trailer = req.headers['x-amz-trailer']
  if (typeof trailer === 'string' && trailer.startsWith('x-amz-checksum-')) checksumAlgorithm = trailer.slice(15).toUpperCase()
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-mode' && name !== 'x-amz-checksum-type' && name !== 'x-amz-checksum-algorithm') {
      checksumAlgorithm = name.slice(15).toUpperCase()
    }
  }
  return {
    method: req.method ?? 'GET',
    operation: undefined,
    bucket: undefined,
    key: undefined,
    accessKeyId: undefined,
    auth: undefined,
    payload: mode,
    checksumAlgorithm,
    error: undefined,
    fault: undefined,
    faultAction: undefined
  }
}

/** Browsers send preflights unsigned: the bucket's CORS rules alone decide. */
async function answerPreflight (box: Spacebox, req: IncomingMessage, res: ServerResponse, target: Target, extraHeaders: Record<string, string>): Promise<void> {
  if (target.bucket === undefined) throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.')
  const answer = preflight(await box.bucketCorsPolicy(target.bucket), req.headers, target.key === undefined ? 'BUCKET' : 'OBJECT')
  send({ req, res, extraHeaders }, answer.status, answer.headers)
}
