import {
  ALGORITHM, MAX_EXPIRES_S, canonicalQuery, canonicalRequest, encodeBytes, hmacHex, percentDecode, signingKey, stringToSign, toAmzDate, uriEncode
} from './sigv4.js'

/** What to presign, and with which key. */
export interface PresignOptions {
  /** An HTTP method, as the request will use it: `GET`, `HEAD`, `PUT`, `DELETE`. */
  method: string
  /**
   * `http(s)://host[:port]/bucket/key[?query]`, path style, or a bucket's own host. The path is a
   * URL path (a `%` in a key is `%25`, as `objectPath` writes it); it is decoded and each segment
   * re-encoded as S3 signs it. Query parameters (`response-content-disposition`, `versionId`) are
   * signed and kept.
   */
  url: string
  accessKeyId: string
  secretAccessKey: string
  /** The region the server signs for (`us-east-1`, `nyc3`). */
  region: string
  /** Seconds the URL is good for: 1 to 604800 (7 days). */
  expiresIn: number
  /** When the URL is signed (its lifetime counts from then); now by default. */
  now?: Date
}

/** Query parameters presigning sets: a URL that already has one is refused, not signed twice. */
const AUTH_PARAMS = new Set(['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-signedheaders',
  'x-amz-signature', 'x-amz-content-sha256', 'x-amz-security-token'])

const URL_PARTS = /^(https?):\/\/([^/?#]+)([^?#]*)(?:\?([^#]*))?$/i

/**
 * The path of an object, each segment URI-encoded as S3 expects (`/` kept, everything but
 * `A-Za-z0-9-_.~` as UTF-8 `%XX`): `objectPath('photos', 'a b/100%.jpg')` is
 * `/photos/a%20b/100%25.jpg`. Append it to an endpoint for `presignUrl`.
 */
export function objectPath (bucket: string, key: string): string {
  if (typeof bucket !== 'string' || bucket === '') throw new TypeError('bucket must be a non-empty string')
  if (typeof key !== 'string') throw new TypeError('key must be a string')
  return `/${uriEncode(bucket, true)}/${uriEncode(key, false)}`
}

/**
 * A SigV4 presigned URL (query-string authentication, `UNSIGNED-PAYLOAD`, only `host` signed) for
 * `method` on `url`, as `@aws-sdk/s3-request-presigner`'s `getSignedUrl` makes it: the query in
 * SigV4's canonical order, the path encoded as S3 canonicalises it. Pure: the secret is whatever
 * the caller holds (for a spacebox key, `box.keys.secretOf(id).secret`).
 *
 * Throws TypeError for a malformed argument (a URL that is not http(s), has credentials or a
 * fragment, or is already presigned) and RangeError for `expiresIn` outside 1..604800.
 */
export function presignUrl (options: PresignOptions): string {
  const { method, url, accessKeyId, secretAccessKey, region, expiresIn, now = new Date() } = options
  if (typeof method !== 'string' || !/^[A-Z]+$/.test(method)) throw new TypeError('method must be an HTTP method in capitals (GET, PUT, ...)')
  if (typeof accessKeyId !== 'string' || !/^[^/\s]+$/.test(accessKeyId)) throw new TypeError('accessKeyId must be a non-empty string without "/" or spaces')
  if (typeof secretAccessKey !== 'string' || secretAccessKey === '') throw new TypeError('secretAccessKey must be a non-empty string')
  if (typeof region !== 'string' || !/^[^/\s]+$/.test(region)) throw new TypeError('region must be a non-empty string without "/" or spaces')
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES_S) throw new RangeError(`expiresIn must be a whole number of seconds from 1 to ${MAX_EXPIRES_S}`)
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError('now must be a valid Date')
  const { origin, host, path, query } = parseUrl(url)

  const amzDate = toAmzDate(now.getTime())
  const scope = `${amzDate.slice(0, 8)}/${region}/s3/aws4_request`
  const auth: Array<[string, string]> = [
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Content-Sha256', 'UNSIGNED-PAYLOAD'],
    ['X-Amz-Credential', `${accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(expiresIn)],
    ['X-Amz-SignedHeaders', 'host']
  ]
  const unsigned = [query, ...auth.map(([name, value]) => `${name}=${uriEncode(value, true)}`)].filter(part => part !== '').join('&')
  const request = canonicalRequest(method, path, canonicalQuery(unsigned), `host:${host}\n`, ['host'], 'UNSIGNED-PAYLOAD')
  const signature = hmacHex(signingKey(secretAccessKey, amzDate.slice(0, 8), region, 's3'), stringToSign(amzDate, scope, request))
  // The query as signed, with the signature in its sorted place (where getSignedUrl puts it too).
  return `${origin}${path}?${canonicalQuery(`${unsigned}&X-Amz-Signature=${signature}`)}`
}

/** Scheme and host as a client sends them, the canonical path, and the raw query (auth parameters refused). */
function parseUrl (url: unknown): { origin: string, host: string, path: string, query: string } {
  const parts = typeof url === 'string' ? URL_PARTS.exec(url) : null
  if (parts === null) throw new TypeError('url must be an http(s) URL without a fragment')
  const [, scheme, authority, rawPath, rawQuery = ''] = parts as unknown as [string, string, string, string, string | undefined]
  let parsed: URL
  try {
    parsed = new URL(`${scheme}://${authority}`)
  } catch {
    throw new TypeError('url has an invalid host')
  }
  if (parsed.username !== '' || parsed.password !== '') throw new TypeError('url must not carry credentials')
  for (const piece of rawQuery.split('&')) {
    const name = percentDecode(piece.split('=', 1)[0]!, true).bytes.toString('utf8').toLowerCase()
    if (AUTH_PARAMS.has(name)) throw new TypeError(`url is already signed (${name})`)
  }
  // Not the WHATWG path: it would fold `.`/`..` segments and leave `!'()*` as they are, which S3 keys keep and encode.
  const path = rawPath === '' ? '/' : encodeBytes(percentDecode(rawPath, false).bytes, false)
  return { origin: `${parsed.protocol}//${parsed.host}`, host: parsed.host, path, query: rawQuery }
}
