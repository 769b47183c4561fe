import type { IncomingMessage } from 'node:http'
import { isSpaceboxError, type Spacebox } from '../index.js'
import { S3Error } from './errors.js'
import type { Target } from './request.js'
import { isV2, verifyV2 } from './sigv2.js'
import { verifyV4, type SignedRequest, type V4Auth } from './sigv4.js'

/** Who signed a request: the key, the secret generation the signature proves, and SigV4's state. */
export interface Identity {
  accessKeyId: string
  generation: number
  kind: 'v4' | 'v4-presigned' | 'v2'
  /** SigV4 signing state: the seed of a signed streaming body. */
  v4?: V4Auth
}

/**
 * Verify a request's signature (SigV4 header or query, or SigV2 header or query) against the
 * key's current secret. Undefined for an anonymous request: no credentials at all.
 */
export function authenticate (box: Spacebox, req: IncomingMessage, target: Target, now: number): Identity | undefined {
  const signed: SignedRequest = {
    method: req.method ?? 'GET',
    rawPath: target.rawPath,
    rawQuery: target.rawQuery,
    query: target.query,
    rawHeaders: req.rawHeaders,
    headers: req.headers,
    now
  }
  let generation = 0
  const secretOf = (accessKeyId: string): string => {
    try {
      const found = box.keys.secretOf(accessKeyId)
      generation = found.generation
      return found.secret
    } catch (err) {
      if (isSpaceboxError(err, 'InvalidAccessKeyId')) {
        throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId })
      }
      throw err
    }
  }
  const q = target.query
  const authorization = req.headers.authorization
  if (authorization === undefined && !q.has('X-Amz-Credential') && !q.has('X-Amz-Signature') && !q.has('X-Amz-Algorithm') &&
    !q.has('AWSAccessKeyId') && !q.has('Signature')) return undefined
  if (isV2(signed)) {
    // S3 signs a bucket's own resource as `/bucket/`, whether the path was `/bucket` (as botocore
    // sends it, path style) or `/bucket/`; a client that signed the path as sent passes too.
    const bucketLevel = target.bucket !== undefined && target.key === undefined && !target.resource.endsWith('/')
    const v2 = verifyV2(signed, bucketLevel ? [`${target.resource}/`, target.resource] : target.resource, secretOf)
    return { accessKeyId: v2.accessKeyId, generation, kind: 'v2' }
  }
  if (authorization !== undefined && !authorization.startsWith('AWS4-HMAC-SHA256 ')) {
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', { ArgumentName: 'Authorization', ArgumentValue: authorization.split(' ')[0] ?? '' })
  }
  const v4 = verifyV4(signed, secretOf)
  requireSigned(req.rawHeaders, v4)
  return { accessKeyId: v4.accessKeyId, generation, kind: v4.presigned ? 'v4-presigned' : 'v4', v4 }
}

/**
 * S3 refuses x-amz-* headers left out of SignedHeaders: otherwise anyone replaying a captured
 * request could add a copy source, metadata or framing headers to it. `host` must be signed, or
 * the request could be replayed against another bucket. x-amz-content-sha256 is the one header S3
 * tolerates unsigned (the body is checked against it anyway), as long as it agrees with a payload
 * hash a presigned URL signed: the signed value rules.
 */
function requireSigned (rawHeaders: string[], v4: V4Auth): void {
  const signedSet = new Set(v4.signedHeaders.map(name => name.toLowerCase()))
  if (!signedSet.has('host')) throw notSigned(['host'])
  const unsigned = new Set<string>()
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    if (!name.startsWith('x-amz-') || signedSet.has(name)) continue
    if (name === 'x-amz-content-sha256' && (v4.payloadHash === 'UNSIGNED-PAYLOAD' || rawHeaders[i + 1] === v4.payloadHash)) continue
    unsigned.add(name)
  }
  if (unsigned.size > 0) throw notSigned([...unsigned])
}

function notSigned (names: string[]): S3Error {
  return new S3Error('AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: names.join(', ') })
}
