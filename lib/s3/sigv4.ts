import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { S3Error } from './errors.js'
import { header, parseQuery } from './request.js'

/** What the verifiers need of an incoming request, taken from node:http as received. */
export interface SignedRequest {
  method: string
  /** Path part of req.url exactly as received (before '?'). */
  rawPath: string
  /** After the first '?', '' if none. */
  rawQuery: string
  /** The decoded query (first of repeated names), when the caller has parsed it already. */
  query?: Map<string, string>
  /** req.rawHeaders: duplicates and original spelling intact. */
  rawHeaders: string[]
  /** req.headers (lowercased names). */
  headers: Record<string, string | string[] | undefined>
  /** ms since epoch. */
  now: number
}

/** A verified SigV4 request: who signed it, and what chunk signatures chain from. */
export interface V4Auth {
  accessKeyId: string
  /** The seed signature (hex). */
  signature: string
  /** kSigning, for chunk signatures. */
  key: Buffer
  /** 20130524T000000Z */
  amzDate: string
  /** date/region/s3/aws4_request */
  scope: string
  region: string
  /** x-amz-content-sha256 (header auth); X-Amz-Content-Sha256 query or 'UNSIGNED-PAYLOAD' (presigned). */
  payloadHash: string
  /** The header names the signature covers (SignedHeaders, or X-Amz-SignedHeaders presigned). */
  signedHeaders: string[]
  presigned: boolean
  /** Presigned: ms epoch when it expires. */
  expires?: number
}

export const ALGORITHM = 'AWS4-HMAC-SHA256'
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const MAX_SKEW_MS = 900_000
/** The longest lifetime of a presigned URL: 7 days. */
export const MAX_EXPIRES_S = 604_800
const NO_DATE = 'AWS authentication requires a valid Date or x-amz-date header'

const UNRESERVED = /^[A-Za-z0-9\-_.~]$/
// Each byte's UriEncode form, computed once: the hot path is a table lookup.
const ENCODED = Array.from({ length: 256 }, (_, b) => {
  const c = String.fromCharCode(b)
  return UNRESERVED.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0')
})

/** AWS UriEncode over bytes: keeps A-Za-z0-9-_.~ (and '/' unless told), uppercase %XX otherwise. */
export function encodeBytes (bytes: Uint8Array, encodeSlash: boolean): string {
  let out = ''
  for (const b of bytes) out += b === 0x2f && !encodeSlash ? '/' : ENCODED[b]!
  return out
}

/** AWS UriEncode over the UTF-8 bytes of `s`: keeps A-Za-z0-9-_.~ (and '/' unless told), uppercase %XX otherwise. */
export function uriEncode (s: string, encodeSlash: boolean): string {
  return encodeBytes(Buffer.from(s, 'utf8'), encodeSlash)
}

const HEX = /^[0-9A-Fa-f]{2}$/

/** Percent-decodes to bytes; a malformed escape stays literal, reported by `clean`. */
export function percentDecode (s: string, plusIsSpace: boolean): { bytes: Buffer, clean: boolean } {
  const input = Buffer.from(s, 'utf8')
  const out = Buffer.allocUnsafe(input.length)
  let n = 0
  let clean = true
  for (let i = 0; i < input.length; i++) {
    const b = input[i]!
    const hex = b === 0x25 ? input.toString('latin1', i + 1, i + 3) : ''
    if (HEX.test(hex)) {
      out[n++] = parseInt(hex, 16)
      i += 2
    } else {
      if (b === 0x25) clean = false
      out[n++] = plusIsSpace && b === 0x2b ? 0x20 : b
    }
  }
  return { bytes: out.subarray(0, n), clean }
}

/**
 * Canonical URI candidates, most likely first. S3 encodes the path once and never normalises it,
 * so re-encoding the decoded path matches every SDK; the raw path is the fallback for clients that
 * sign what they send without strict encoding.
 */
export function canonicalUri (rawPath: string): string[] {
  if (rawPath === '') return ['/']
  const { bytes, clean } = percentDecode(rawPath, false)
  if (!clean) return [rawPath]
  const primary = encodeBytes(bytes, false)
  return primary !== rawPath && /[^A-Za-z0-9\-._~/%]/.test(rawPath) ? [primary, rawPath] : [primary]
}

/** The raw query split into raw [name, value] pieces; empty pieces dropped, no '=' means value ''. */
function rawPairs (rawQuery: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue
    const eq = piece.indexOf('=')
    pairs.push(eq === -1 ? [piece, ''] : [piece.slice(0, eq), piece.slice(eq + 1)])
  }
  return pairs
}

/** The decoded query parameters by name (the first of repeated names): the caller's, else parsed here. */
export function queryParams (req: SignedRequest): Map<string, string> {
  return req.query ?? parseQuery(req.rawQuery)
}

/** SigV4 CanonicalQueryString: decoded, re-encoded with '/' as %2F, sorted by name then value, `omit` left out. */
export function canonicalQuery (rawQuery: string, omit?: string): string {
  const pairs: Array<[string, string]> = []
  for (const [n, v] of rawPairs(rawQuery)) {
    const name = percentDecode(n, true).bytes
    if (omit !== undefined && name.toString('utf8') === omit) continue
    pairs.push([encodeBytes(name, true), encodeBytes(percentDecode(v, true).bytes, true)])
  }
  // Encoded pairs are ASCII, so code-unit order is byte order.
  pairs.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)
  return pairs.map(([n, v]) => `${n}=${v}`).join('&')
}

/**
 * CanonicalHeaders from req.rawHeaders (req.headers joins with ', ' and drops some duplicates):
 * every occurrence trimmed, whitespace runs collapsed, joined with ','. An absent header yields ''
 * and the signature simply fails to match.
 */
export function canonicalHeaders (rawHeaders: string[], signed: string[], utf8 = false): string {
  const values = new Map<string, string[]>(signed.map(name => [name.toLowerCase(), []]))
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const value = utf8 ? utf8View(rawHeaders[i + 1]!) : rawHeaders[i + 1]!
    // Spaces and tabs only: clients leave other (Unicode) whitespace alone.
    values.get(rawHeaders[i]!.toLowerCase())?.push(value.split(/[ \t]+/).filter(word => word !== '').join(' '))
  }
  return signed.map(name => `${name}:${values.get(name.toLowerCase())!.join(',')}\n`).join('')
}

/**
 * A header value's bytes read as UTF-8, where they are valid UTF-8. node:http hands each byte over
 * as one latin-1 character, and the canonical request is hashed as UTF-8: a client that sent a
 * string's latin-1 bytes (node:http, the AWS SDK for JS) signed the latin-1 reading, one that sent
 * UTF-8 bytes (botocore's non-ASCII metadata) signed this one. Both come from the bytes received.
 */
export function utf8View (value: string): string {
  if (!/[^\x00-\x7f]/.test(value)) return value
  const bytes = Buffer.from(value, 'latin1')
  const text = bytes.toString('utf8')
  return Buffer.from(text, 'utf8').equals(bytes) ? text : value
}

export function canonicalRequest (
  method: string, uri: string, query: string, canonicalHeaders: string, signedHeaders: string[], payloadHash: string
): string {
  return `${method}\n${uri}\n${query}\n${canonicalHeaders}\n${signedHeaders.join(';')}\n${payloadHash}`
}

export function sha256Hex (data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

export function stringToSign (amzDate: string, scope: string, canonicalRequest: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`
}

/** What a chunk signature signs: chained to the previous signature (the seed for the first chunk). */
export function chunkStringToSign (amzDate: string, scope: string, previousSignature: string, chunkHashHex: string): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkHashHex}`
}

/** What x-amz-trailer-signature signs: chained to the final 0-byte chunk's signature. */
export function trailerStringToSign (amzDate: string, scope: string, previousSignature: string, canonicalTrailersHashHex: string): string {
  return `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${previousSignature}\n${canonicalTrailersHashHex}`
}

export function hmacHex (key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex')
}

function hmac (key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest()
}

// kSigning is valid for a whole UTC day; keyed by a digest so no secret sits in the map's keys.
const KEY_CACHE_SIZE = 256
const keyCache = new Map<string, Buffer>()

/** kSigning for (secret, yyyymmdd, region, service), from a small bounded cache. */
export function signingKey (secret: string, yyyymmdd: string, region: string, service: string): Buffer {
  const id = createHash('sha256').update(JSON.stringify([secret, yyyymmdd, region, service])).digest('base64')
  let key = keyCache.get(id)
  if (key === undefined) {
    key = hmac(hmac(hmac(hmac('AWS4' + secret, yyyymmdd), region), service), 'aws4_request')
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value!)
    keyCache.set(id, key)
  }
  return key
}

/** SignatureDoesNotMatch, with the debugging elements AWS adds (StringToSign, SignatureProvided, ...). */
export function signatureMismatch (extras: Record<string, string>): S3Error {
  return new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', extras)
}

/** InvalidArgument for a request that is both header-signed and presigned. */
export function oneAuthMechanism (): S3Error {
  return new S3Error('InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified')
}

/** Constant-time equality of two signature strings. */
export function signaturesEqual (a: string, b: string): boolean {
  const x = Buffer.from(a, 'latin1')
  const y = Buffer.from(b, 'latin1')
  return x.length === y.length && timingSafeEqual(x, y)
}

interface Credential { accessKeyId: string, date: string, region: string, service: string, scope: string }

/** `AKID/yyyymmdd/region/s3/aws4_request`, or `fail(reason)`. */
function parseCredential (value: string, fail: (reason: string) => S3Error): Credential {
  const parts = value.split('/')
  const [accessKeyId, date, region, service, terminal] = parts
  if (parts.length !== 5 || accessKeyId === '' || date === undefined || !/^\d{8}$/.test(date) || region === undefined) {
    throw fail('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".')
  }
  if (service !== 's3') throw fail(`incorrect service "${service}". This endpoint belongs to "s3".`)
  if (terminal !== 'aws4_request') throw fail(`incorrect terminal "${terminal}". This endpoint uses "aws4_request".`)
  return { accessKeyId: accessKeyId!, date, region, service, scope: parts.slice(1).join('/') }
}

export interface AuthorizationV4 extends Credential {
  signedHeaders: string[]
  signature: string
}

function malformedHeader (reason: string): S3Error {
  return new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${reason}`)
}

/** Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`; separators ', ' or ',' (s3cmd). */
export function parseAuthorizationV4 (header: string): AuthorizationV4 {
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(header.trim())
  if (match === null) throw malformedHeader(`the authorization header requires the "${ALGORITHM}" algorithm.`)
  const fields = new Map<string, string>()
  for (const part of match[1]!.split(',')) {
    const eq = part.indexOf('=')
    if (eq !== -1) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  const credential = fields.get('Credential')
  const signedHeaders = fields.get('SignedHeaders')
  const signature = fields.get('Signature')
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw malformedHeader('it requires the Credential, SignedHeaders and Signature components.')
  }
  const names = signedHeaders.split(';')
  if (names.some(name => name === '')) throw malformedHeader('SignedHeaders is empty or has an empty name.')
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) throw malformedHeader('the Signature is not 64 hexadecimal digits.')
  return { ...parseCredential(credential, malformedHeader), signedHeaders: names, signature: signature.toLowerCase() }
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/i

/** ms epoch of an ISO 8601 basic timestamp (20130524T000000Z), or undefined. */
export function parseAmzDate (value: string): number | undefined {
  const m = AMZ_DATE.exec(value)
  if (m === null) return undefined
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  const ms = Date.UTC(y, mo - 1, d, h, mi, s)
  // Date.UTC rolls 31 Feb over into March; a real timestamp survives the round trip.
  return toAmzDate(ms) === value.toUpperCase() ? ms : undefined
}

/** ISO 8601 basic (20130524T000000Z) of a ms epoch, milliseconds dropped. */
export function toAmzDate (ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}/, '').replace(/[-:]/g, '')
}

/** The RequestTimeTooSkewed error when `time` is over 15 minutes off `now`. */
export function checkSkew (time: number, raw: string, now: number): void {
  if (Math.abs(time - now) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
      RequestTime: raw,
      ServerTime: new Date(now).toISOString(),
      MaxAllowedSkewMilliseconds: MAX_SKEW_MS
    })
  }
}

/** The request time of a header-signed request: x-amz-date, else the Date header, else AccessDenied. */
function requestTime (req: SignedRequest): { amzDate: string, time: number, raw: string } {
  const amz = header(req.headers, 'x-amz-date')
  if (amz !== undefined) {
    const time = parseAmzDate(amz)
    if (time === undefined) throw new S3Error('AccessDenied', NO_DATE)
    return { amzDate: amz, time, raw: amz }
  }
  const date = header(req.headers, 'date')
  const time = date === undefined ? NaN : Date.parse(date)
  if (Number.isNaN(time)) throw new S3Error('AccessDenied', NO_DATE)
  return { amzDate: toAmzDate(time), time, raw: date! }
}

/** True when the query carries SigV4 query authentication. */
export function isPresignedV4 (rawQuery: string): boolean {
  return rawPairs(rawQuery).some(([name]) => name === 'X-Amz-Algorithm' || name === 'X-Amz-Credential' || name === 'X-Amz-Signature')
}

interface Signing {
  credential: Credential
  amzDate: string
  signedHeaders: string[]
  signature: string
  payloadHash: string
  query: string
}

/** Recomputes the signature over each canonical URI candidate; SignatureDoesNotMatch (AWS extras) if none matches. */
function check (req: SignedRequest, s: Signing, secret: string): Buffer {
  const key = signingKey(secret, s.credential.date, s.credential.region, 's3')
  const latin1 = canonicalHeaders(req.rawHeaders, s.signedHeaders)
  const utf8 = canonicalHeaders(req.rawHeaders, s.signedHeaders, true)
  let first: { request: string, toSign: string } | undefined
  for (const headers of utf8 === latin1 ? [latin1] : [latin1, utf8]) {
    for (const uri of canonicalUri(req.rawPath)) {
      const request = canonicalRequest(req.method, uri, s.query, headers, s.signedHeaders, s.payloadHash)
      const toSign = stringToSign(s.amzDate, s.credential.scope, request)
      if (signaturesEqual(hmacHex(key, toSign), s.signature)) return key
      first ??= { request, toSign }
    }
  }
  throw signatureMismatch({
    AWSAccessKeyId: s.credential.accessKeyId,
    StringToSign: first!.toSign,
    SignatureProvided: s.signature,
    CanonicalRequest: first!.request
  })
}

function verifyHeader (req: SignedRequest, authorization: string, secretOf: (accessKeyId: string) => string): V4Auth {
  const auth = parseAuthorizationV4(authorization)
  const payloadHash = header(req.headers, 'x-amz-content-sha256')
  if (payloadHash === undefined) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256')
  const { amzDate, time, raw } = requestTime(req)
  if (amzDate.slice(0, 8) !== auth.date) throw malformedHeader('Invalid credential date. Date is not the same as X-Amz-Date.')
  checkSkew(time, raw, req.now)
  const { accessKeyId, signature, signedHeaders, scope, region } = auth
  const query = canonicalQuery(req.rawQuery)
  const key = check(req, { credential: auth, amzDate, signedHeaders, signature, payloadHash, query }, secretOf(accessKeyId))
  return { accessKeyId, signature, key, amzDate, scope, region, payloadHash, signedHeaders, presigned: false }
}

function queryError (message: string): S3Error {
  return new S3Error('AuthorizationQueryParametersError', message)
}

function verifyPresigned (req: SignedRequest, secretOf: (accessKeyId: string) => string): V4Auth {
  const params = queryParams(req)
  const required = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature']
  const [algorithm, credentialValue, amzDate, expiresValue, signedHeaders, signature] = required.map(name => params.get(name))
  if (algorithm === undefined || credentialValue === undefined || amzDate === undefined ||
    expiresValue === undefined || signedHeaders === undefined || signature === undefined) {
    throw queryError('Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.')
  }
  if (algorithm !== ALGORITHM) throw queryError(`X-Amz-Algorithm only supports "${ALGORITHM}"`)
  const credential = parseCredential(credentialValue, reason => queryError(`Error parsing the X-Amz-Credential parameter; ${reason}`))
  const time = parseAmzDate(amzDate)
  if (time === undefined) throw queryError('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"')
  if (amzDate.slice(0, 8) !== credential.date) throw queryError('Invalid credential date. Date is not the same as X-Amz-Date.')
  // A negative lifetime is a URL that has expired (S3's 403), not a malformed one.
  const seconds = /^-?\d{1,7}$/.test(expiresValue) ? Number(expiresValue) : 0
  if (seconds === 0 || seconds > MAX_EXPIRES_S) {
    throw queryError('X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds')
  }
  // Only the future is bounded by the skew: a six-day-old URL is still good until it expires.
  if (time - req.now > MAX_SKEW_MS) throw new S3Error('AccessDenied', 'Request is not valid yet')
  const expires = time + seconds * 1000
  if (req.now > expires || seconds < 0) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': seconds,
      Expires: new Date(expires).toISOString(),
      ServerTime: new Date(req.now).toISOString()
    })
  }
  const payloadHash = params.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD'
  const query = canonicalQuery(req.rawQuery, 'X-Amz-Signature')
  const names = signedHeaders.split(';')
  const key = check(req, { credential, amzDate, signedHeaders: names, signature, payloadHash, query }, secretOf(credential.accessKeyId))
  const { accessKeyId, scope, region } = credential
  return { accessKeyId, signature, key, amzDate, scope, region, payloadHash, signedHeaders: names, presigned: true, expires }
}

/**
 * Verifies a SigV4 request, header-signed or presigned. Errors from `secretOf` (unknown or disabled
 * keys) propagate unchanged; the clock is checked before it is called.
 */
export function verifyV4 (req: SignedRequest, secretOf: (accessKeyId: string) => string): V4Auth {
  const authorization = header(req.headers, 'authorization')
  const presigned = isPresignedV4(req.rawQuery)
  if (authorization !== undefined && presigned) throw oneAuthMechanism()
  if (presigned) return verifyPresigned(req, secretOf)
  if (authorization === undefined) throw new S3Error('AccessDenied', 'Access Denied')
  return verifyHeader(req, authorization, secretOf)
}
