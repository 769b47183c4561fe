import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { ScopedSpacebox } from '../index.js'
import type { Identity } from './auth.js'
import type { Faults } from './faults.js'
import { S3Error, toS3Error } from './errors.js'
import type { Target } from './request.js'
import { renderXml, type Children } from './xml.js'

/** The engine calls a request may make: those of its caller's view (a key's, or the anonymous one of a public bucket). */
export type Store = Omit<ScopedSpacebox, 'accessKeyId'>

/** One request on its way through the adapter. */
export interface Call {
  req: IncomingMessage
  res: ServerResponse
  requestId: string
  target: Target
  /** The bucket and key addressed ('' when none). */
  bucket: string
  key: string
  store: Store
  identity: Identity | undefined
  /** Headers every response of this request carries (CORS). */
  extraHeaders: Record<string, string>
  settings: Settings
  /** A fault asked for the response body to be cut off halfway. */
  truncate: boolean
}

export interface Settings {
  /** Region of buckets created without a LocationConstraint (else the store's). */
  region: string | undefined
  /** Base hostnames of virtual-hosted addressing (`bucket.<hostname>`). */
  hostnames: string[]
  /** The clock signatures are checked against. */
  now: () => number
  /** 'spaces' answers NotImplemented where DigitalOcean Spaces does. */
  profile: 'aws' | 'spaces'
  faults: Faults | undefined
  /** Told of every failure the client sees only as a 500 (a bug, a broken store). */
  onError: (err: unknown, requestId: string) => void
}

/** What a response needs of its request. */
export type Reply = Pick<Call, 'req' | 'res' | 'extraHeaders'>

/** Send a response with an optional body; HEAD and 204/304 never carry one. */
export function send (call: Reply, status: number, headers: Record<string, string>, body?: string | Buffer): void {
  const { res } = call
  const payload = body === undefined || call.req.method === 'HEAD' || status === 204 || status === 304 ? undefined : body
  res.writeHead(status, {
    ...call.extraHeaders,
    ...headers,
    ...(payload === undefined ? (headers['content-length'] === undefined && status !== 204 && status !== 304 ? { 'content-length': '0' } : {}) : { 'content-length': String(Buffer.byteLength(payload)) })
  })
  res.end(payload)
}

export function sendXml (call: Call, root: string, content: Record<string, unknown> | Children | string, headers: Record<string, string> = {}): void {
  send(call, 200, { 'content-type': 'application/xml', ...headers }, renderXml(root, content))
}

/** Stream an object body out with backpressure; a client that goes away stops the read. */
export async function sendStream (call: Call, status: number, headers: Record<string, string>, body: Readable): Promise<void> {
  call.res.writeHead(status, { ...call.extraHeaders, ...headers })
  if (call.req.method === 'HEAD') {
    body.destroy()
    call.res.end()
    return
  }
  if (call.truncate) {
    await sendHalf(call, Number(headers['content-length'] ?? 0), body)
    return
  }
  await pipeBody(body, call.res)
}

/**
 * What stream.pipeline(body, res) does for a response, without what it costs per call (an
 * AbortController, an AbortError built with its stack, listeners on both ends): a tenth of a small
 * GET's CPU. A body that fails cuts the connection; a client that goes away stops the read.
 */
async function pipeBody (body: Readable, res: ServerResponse): Promise<void> {
  await new Promise<void>(resolve => {
    body.on('error', () => {
      res.destroy()
      resolve()
    })
    res.once('finish', resolve)
    res.once('close', () => {
      if (!res.writableFinished) body.destroy()
      resolve()
    })
    body.pipe(res)
  })
}

/** A fault: half the promised bytes, then the connection drops. */
async function sendHalf (call: Call, length: number, body: Readable): Promise<void> {
  let left = Math.floor(length / 2)
  for await (const piece of body) {
    const buf = piece as Buffer
    const part = buf.length >= left ? buf.subarray(0, left) : buf
    left -= part.length
    // Let the bytes reach the client before the connection drops.
    await new Promise<void>(resolve => call.res.write(part, () => resolve()))
    if (left === 0) break
  }
  body.destroy()
  call.res.destroy()
}

// Headers every response carries from the start (server.ts sets them before anything can fail).
const BASE_HEADERS: ReadonlySet<string> = new Set(['x-amz-request-id', 'x-amz-id-2', 'server'])

/**
 * Answer with S3's error body (none for HEAD), or cut the connection if the response has begun.
 * Never throws: a header Node refuses to send (a value no HTTP stack can carry) is dropped with
 * the others and the answer becomes a 500, logged through `settings.onError`.
 */
export function sendError (call: Pick<Call, 'req' | 'res' | 'requestId' | 'target' | 'extraHeaders' | 'settings'>, err: unknown): string {
  const { res } = call
  const error = toS3Error(err, call.req.method)
  if (!(err instanceof S3Error) && error.code === 'InternalError') call.settings.onError(err, call.requestId)
  if (res.headersSent) {
    res.destroy()
    return error.code
  }
  try {
    writeError(call, error, { ...call.extraHeaders, ...error.headers })
    return error.code
  } catch (failure) {
    call.settings.onError(failure, call.requestId)
  }
  const internal = toS3Error(undefined)
  try {
    writeError(call, internal, {})
  } catch {
    res.destroy()
  }
  return internal.code
}

function writeError (call: Pick<Call, 'req' | 'res' | 'requestId' | 'target'>, error: S3Error, extra: Record<string, string>): void {
  const { req, res } = call
  // A failed writeHead leaves the headers it had set; a success response's are no error's either.
  for (const name of res.getHeaderNames()) {
    if (!BASE_HEADERS.has(name)) res.removeHeader(name)
  }
  const resource = call.target.virtualHosted ? call.target.resource : call.target.rawPath
  const body = renderXml('Error', { Code: error.code, Message: error.message, ...error.extras, Resource: resource, RequestId: call.requestId }, false)
  const headers: Record<string, string> = { ...extra, 'content-type': 'application/xml' }
  // A body the client is still sending would otherwise be read to the end just to keep the connection.
  if (hasBody(req) && !req.readableEnded) headers.connection = 'close'
  const payload = req.method === 'HEAD' || error.status === 304 ? undefined : body
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload))
  res.writeHead(error.status, headers)
  res.end(payload)
}

function hasBody (req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}
