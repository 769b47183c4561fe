import { createHmac } from 'node:crypto'
import { S3Error } from './errors.js'
import { checkSkew, oneAuthMechanism, parseAmzDate, queryParams, signatureMismatch, signaturesEqual, type SignedRequest, utf8View } from './sigv4.js'
import { header, queryPairs } from './request.js'

/** A verified SigV2 request. */
export interface V2Auth { accessKeyId: string, presigned: boolean }

// Query parameters that are part of the CanonicalizedResource (AWS's list, plus what botocore and MinIO add).
const SUBRESOURCES = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'delete', 'encryption', 'inventory', 'legal-hold', 'lifecycle', 'location',
  'logging', 'metrics', 'notification', 'object-lock', 'partNumber', 'policy', 'replication', 'requestPayment',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires', 'restore', 'retention', 'select', 'select-type', 'tagging', 'torrent',
  'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website'
])

/** True for `Authorization: AWS AKID:sig` or a query carrying AWSAccessKeyId. */
export function isV2 (req: SignedRequest): boolean {
  return header(req.headers, 'authorization')?.startsWith('AWS ') === true || queryParams(req).has('AWSAccessKeyId')
}

/** `resource` plus the sub-resources of the query, sorted, values decoded, '?' then '&'. */
export function canonicalizedResource (resource: string, rawQuery: string): string {
  const subresources = queryPairs(rawQuery)
    .filter(([name]) => SUBRESOURCES.has(name))
    .sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
    .map(([name, value]) => value === '' ? name : `${name}=${value}`)
  return subresources.length === 0 ? resource : `${resource}?${subresources.join('&')}`
}

/** x-amz-* headers lowercased and sorted, duplicates joined with ',', each line ending in '\n'. */
export function canonicalizedAmzHeaders (rawHeaders: string[], utf8 = false): string {
  const values = new Map<string, string[]>()
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    if (!name.startsWith('x-amz-')) continue
    const list = values.get(name) ?? []
    list.push((utf8 ? utf8View(rawHeaders[i + 1]!) : rawHeaders[i + 1]!).trim())
    values.set(name, list)
  }
  return [...values.keys()].sort().map(name => `${name}:${values.get(name)!.join(',')}\n`).join('')
}

/** The SigV2 StringToSign; `date` is the Date header, '' when x-amz-date is sent, or the presigned Expires. */
export function stringToSignV2 (req: SignedRequest, resource: string, date: string, utf8 = false): string {
  const md5 = header(req.headers, 'content-md5') ?? ''
  const type = header(req.headers, 'content-type') ?? ''
  return `${req.method}\n${md5}\n${type}\n${date}\n${canonicalizedAmzHeaders(req.rawHeaders, utf8)}${canonicalizedResource(resource, req.rawQuery)}`
}

export function signV2 (secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign).digest('base64')
}

/**
 * Passes when the signature is over one of the resource's forms, with x-amz-* values read as
 * latin-1 or, where they differ, as UTF-8 (sigv4.ts utf8View); a mismatch names the first.
 */
function check (req: SignedRequest, resources: readonly string[], date: string, accessKeyId: string, provided: string, secret: string): void {
  for (const resource of resources) {
    for (const utf8 of [false, true]) {
      if (signaturesEqual(signV2(secret, stringToSignV2(req, resource, date, utf8)), provided)) return
    }
  }
  throw signatureMismatch({ AWSAccessKeyId: accessKeyId, StringToSign: stringToSignV2(req, resources[0] as string, date), SignatureProvided: provided })
}

function verifyHeader (req: SignedRequest, authorization: string, resources: readonly string[], secretOf: (id: string) => string): V2Auth {
  const colon = authorization.lastIndexOf(':')
  const accessKeyId = authorization.slice(4, colon).trim()
  const signature = authorization.slice(colon + 1).trim()
  if (colon === -1 || accessKeyId === '' || signature === '') {
    throw new S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature')
  }
  const amzDate = header(req.headers, 'x-amz-date')
  const raw = amzDate ?? header(req.headers, 'date')
  const time = raw === undefined ? NaN : parseAmzDate(raw) ?? Date.parse(raw)
  if (Number.isNaN(time)) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header')
  checkSkew(time, raw!, req.now)
  // With x-amz-date the Date line is empty: the timestamp is signed among the x-amz-* headers.
  check(req, resources, amzDate === undefined ? raw! : '', accessKeyId, signature, secretOf(accessKeyId))
  return { accessKeyId, presigned: false }
}

function verifyPresigned (req: SignedRequest, resources: readonly string[], secretOf: (id: string) => string): V2Auth {
  const params = queryParams(req)
  const accessKeyId = params.get('AWSAccessKeyId') ?? ''
  const expires = params.get('Expires')
  // Base64's '+' arrives as a space when a client left it unescaped; a real space never occurs.
  const signature = params.get('Signature')?.replaceAll(' ', '+')
  if (accessKeyId === '' || expires === undefined || signature === undefined) {
    throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters')
  }
  if (!/^\d+$/.test(expires)) throw new S3Error('AccessDenied', `Invalid date (should be seconds since epoch): ${expires}`)
  if (req.now > Number(expires) * 1000) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      Expires: new Date(Number(expires) * 1000).toISOString(),
      ServerTime: new Date(req.now).toISOString()
    })
  }
  check(req, resources, expires, accessKeyId, signature, secretOf(accessKeyId))
  return { accessKeyId, presigned: true }
}

/**
 * Verifies a SigV2 request against `resource`: '/bucket/key' as the client saw it (raw-encoded),
 * '/bucket/' for a bucket's own operations. Given several forms, a signature over any one passes
 * (the first is S3's). Errors from `secretOf` propagate unchanged.
 */
export function verifyV2 (req: SignedRequest, resource: string | readonly string[], secretOf: (id: string) => string): V2Auth {
  const resources = typeof resource === 'string' ? [resource] : resource
  const authorization = header(req.headers, 'authorization')
  const presigned = queryParams(req).has('AWSAccessKeyId')
  if (authorization !== undefined && presigned) throw oneAuthMechanism()
  if (presigned) return verifyPresigned(req, resources, secretOf)
  if (authorization?.startsWith('AWS ') !== true) throw new S3Error('AccessDenied', 'Access Denied')
  return verifyHeader(req, authorization, resources, secretOf)
}
