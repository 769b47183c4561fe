import { createHash, createHmac } from 'node:crypto'
import { request } from 'node:http'
import { connect } from 'node:net'

/**
 * Raw S3 requests for the wire tests: signed here, independently of lib/s3/sigv4.ts, and sent
 * with node:http or a bare socket so every byte is the test's choice.
 */

export interface Creds { accessKeyId: string, secretAccessKey: string }

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  text: string
  /** `<Code>` of an error body, '' when none. */
  code: string
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

export function sha256 (data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

export function hmac (key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest()
}

export function md5Base64 (data: string | Buffer): string {
  return createHash('md5').update(data).digest('base64')
}

/** AWS UriEncode: everything but A-Za-z0-9-_.~ as %XX (and '/' kept unless asked). */
export function uriEncode (s: string, slash = true): string {
  const encoded = encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase())
  return slash ? encoded : encoded.replaceAll('%2F', '/')
}

function canonicalQuery (rawQuery: string, omit?: string): string {
  return rawQuery.split('&').filter(p => p !== '').map(piece => {
    const eq = piece.indexOf('=')
    const [n, v] = eq === -1 ? [piece, ''] : [piece.slice(0, eq), piece.slice(eq + 1)]
    return [decodeURIComponent(n.replaceAll('+', ' ')), decodeURIComponent(v.replaceAll('+', ' '))]
  }).filter(([n]) => n !== omit).map(([n, v]) => [uriEncode(n!), uriEncode(v!)])
    .sort((a, b) => a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : 1)
    .map(([n, v]) => `${n}=${v}`).join('&')
}

export function amzDate (ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}/, '').replace(/[-:]/g, '')
}

export function signingKey (secret: string, day: string, region = 'us-east-1'): Buffer {
  return hmac(hmac(hmac(hmac('AWS4' + secret, day), region), 's3'), 'aws4_request')
}

export interface SignOptions {
  /** Request time, ms; default now. */
  time?: number
  region?: string
  /** x-amz-content-sha256 value; default the hex hash of the body. `null`: send none. */
  payload?: string | null
  /** Leave host out of SignedHeaders (node:http still sends it). */
  omitHost?: boolean
}

export interface Signed {
  headers: Record<string, string>
  /** The Authorization signature, the seed of a signed streaming body. */
  signature: string
  key: Buffer
  amzDate: string
  scope: string
}

/** SigV4 header-sign `method path` (path with raw query); every header given is signed, plus host. */
export function signV4 (creds: Creds, method: string, path: string, host: string, headers: Record<string, string> = {}, body: string | Buffer = '', options: SignOptions = {}): Signed {
  const time = options.time ?? Date.now()
  const date = amzDate(time)
  const region = options.region ?? 'us-east-1'
  const payload = options.payload === undefined ? sha256(body) : options.payload
  const all: Record<string, string> = { ...headers, ...(options.omitHost === true ? {} : { host }), 'x-amz-date': date }
  if (payload !== null) all['x-amz-content-sha256'] = payload
  const names = Object.keys(all).map(n => n.toLowerCase()).sort()
  const lower = Object.fromEntries(Object.entries(all).map(([n, v]) => [n.toLowerCase(), v]))
  const mark = path.indexOf('?')
  const rawPath = mark === -1 ? path : path.slice(0, mark)
  const rawQuery = mark === -1 ? '' : path.slice(mark + 1)
  const canonical = [
    method, rawPath, canonicalQuery(rawQuery),
    names.map(n => `${n}:${lower[n]!.trim()}\n`).join(''),
    names.join(';'),
    payload ?? EMPTY_SHA256
  ].join('\n')
  const scope = `${date.slice(0, 8)}/${region}/s3/aws4_request`
  const key = signingKey(creds.secretAccessKey, date.slice(0, 8), region)
  const signature = hmac(key, `AWS4-HMAC-SHA256\n${date}\n${scope}\n${sha256(canonical)}`).toString('hex')
  return {
    headers: { ...all, authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` },
    signature,
    key,
    amzDate: date,
    scope
  }
}

/**
 * A SigV4 presigned path (host signed only); `expires` in seconds, not range-checked. A `payload`
 * hash is signed as X-Amz-Content-Sha256 in the query.
 */
export function presignV4 (creds: Creds, method: string, path: string, host: string, expires: number, time = Date.now(), region = 'us-east-1', payload?: string): string {
  const date = amzDate(time)
  const scope = `${date.slice(0, 8)}/${region}/s3/aws4_request`
  const mark = path.indexOf('?')
  const rawPath = mark === -1 ? path : path.slice(0, mark)
  const given = mark === -1 ? '' : path.slice(mark + 1)
  const query = [given, `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${uriEncode(`${creds.accessKeyId}/${scope}`)}&X-Amz-Date=${date}&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=host`,
    payload === undefined ? '' : `X-Amz-Content-Sha256=${payload}`].filter(q => q !== '').join('&')
  const canonical = [method, rawPath, canonicalQuery(query), `host:${host}\n`, 'host', payload ?? 'UNSIGNED-PAYLOAD'].join('\n')
  const key = signingKey(creds.secretAccessKey, date.slice(0, 8), region)
  const signature = hmac(key, `AWS4-HMAC-SHA256\n${date}\n${scope}\n${sha256(canonical)}`).toString('hex')
  return `${rawPath}?${query}&X-Amz-Signature=${signature}`
}

/** The aws-chunked frames of `chunks`, signed in a chain from the seed, with an optional signed trailer. */
export function signedChunks (signed: Signed, chunks: Buffer[], trailer?: [string, string]): { body: Buffer, signatures: string[] } {
  const frames: Buffer[] = []
  const signatures: string[] = []
  let previous = signed.signature
  for (const chunk of [...chunks, Buffer.alloc(0)]) {
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${signed.amzDate}\n${signed.scope}\n${previous}\n${EMPTY_SHA256}\n${sha256(chunk)}`
    previous = hmac(signed.key, toSign).toString('hex')
    signatures.push(previous)
    frames.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), chunk)
    if (chunk.length > 0) frames.push(Buffer.from('\r\n'))
  }
  if (trailer !== undefined) {
    const canonical = `${trailer[0]}:${trailer[1]}\n`
    const toSign = `AWS4-HMAC-SHA256-TRAILER\n${signed.amzDate}\n${signed.scope}\n${previous}\n${sha256(canonical)}`
    const trailerSignature = hmac(signed.key, toSign).toString('hex')
    frames.push(Buffer.from(`${canonical.replace('\n', '\r\n')}x-amz-trailer-signature:${trailerSignature}\r\n\r\n`))
  } else {
    frames.push(Buffer.from('\r\n'))
  }
  return { body: Buffer.concat(frames), signatures }
}

/** Unsigned aws-chunked frames with a trailer. */
export function unsignedChunks (chunks: Buffer[], trailer: [string, string]): Buffer {
  const frames: Buffer[] = []
  for (const chunk of chunks) frames.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'))
  frames.push(Buffer.from(`0\r\n${trailer[0]}:${trailer[1]}\r\n\r\n`))
  return Buffer.concat(frames)
}

/** SigV2 StringToSign for simple requests: x-amz-* headers and the subresource query are the caller's. */
export function signV2 (secret: string, method: string, md5: string, type: string, date: string, amzHeaders: string, resource: string): string {
  return createHmac('sha1', secret).update(`${method}\n${md5}\n${type}\n${date}\n${amzHeaders}${resource}`).digest('base64')
}

function reply (status: number, headers: Reply['headers'], body: Buffer): Reply {
  const text = body.toString('utf8')
  return { status, headers, body, text, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '' }
}

/** One request over a fresh connection; the reply read whole. */
export async function send (url: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Reply> {
  const { hostname, port } = new URL(url)
  return await new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers, agent: false }, res => {
      const pieces: Buffer[] = []
      res.on('data', (piece: Buffer) => pieces.push(piece))
      res.on('end', () => resolve(reply(res.statusCode ?? 0, res.headers, Buffer.concat(pieces))))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * Write raw bytes on a socket (a request line, headers and as much body as wanted), optionally
 * half-close, and collect whatever comes back until the server closes or `waitMs` passes.
 */
export async function rawExchange (url: string, bytes: Buffer | string, options: { end?: 'half' | 'destroy', waitMs?: number } = {}): Promise<string> {
  const { hostname, port } = new URL(url)
  return await new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    const pieces: Buffer[] = []
    const done = (): void => { clearTimeout(timer); socket.destroy(); resolve(Buffer.concat(pieces).toString('latin1')) }
    const timer = setTimeout(done, options.waitMs ?? 2000)
    socket.on('data', (piece: Buffer) => pieces.push(piece))
    socket.on('error', done)
    socket.on('close', done)
    socket.write(bytes, () => {
      if (options.end === 'half') socket.end()
      if (options.end === 'destroy') done()
    })
  })
}

/** `host:port` of a served URL, as node:http sends it in Host. */
export function hostOf (url: string): string {
  return new URL(url).host
}

/** A SigV4-signed request over a fresh connection: the body hashed into the signature unless `options.payload` says otherwise. */
export async function sendSigned (url: string, creds: Creds, method: string, path: string, headers: Record<string, string> = {}, body: string | Buffer = '', options: SignOptions = {}): Promise<Reply> {
  const sig = signV4(creds, method, path, hostOf(url), headers, body, options)
  return await send(url, method, path, sig.headers, method === 'GET' || method === 'HEAD' ? undefined : body)
}

/** The raw request line and headers of a signed request, for writing on a bare socket. */
export function signedHead (url: string, creds: Creds, method: string, path: string, headers: Record<string, string> = {}, options: SignOptions = {}): string {
  const sig = signV4(creds, method, path, hostOf(url), headers, '', options)
  return [`${method} ${path} HTTP/1.1`, ...Object.entries(sig.headers).map(([n, v]) => `${n}: ${v}`), '', ''].join('\r\n')
}
