import type { IncomingHttpHeaders } from 'node:http'
import {
  CHECKSUM_ALGORITHMS, type CannedAcl, type ChecksumAlgorithm, type Checksums, type CustomerKey, type EncryptionInfo, type EncryptionOptions, type ObjectHeaders, type ObjectInfo,
  type StorageClass
} from '../index.js'
import { S3Error } from './errors.js'
import { header } from './request.js'
import { expirationHeader } from './lifecycle-xml.js'

export type Headers = Record<string, string>

/** HTTP date (RFC 1123), as S3 writes Last-Modified and Date. */
export function httpDate (date: Date): string {
  return date.toUTCString()
}

/**
 * Node hands header values over as latin-1. Clients that send non-ASCII metadata send its UTF-8
 * bytes, so read them back as UTF-8 when they form valid UTF-8, else keep the latin-1 text.
 */
function utf8Value (value: string): string {
  if (!/[^\x00-\x7f]/.test(value)) return value
  const bytes = Buffer.from(value, 'latin1')
  const decoded = bytes.toString('utf8')
  return Buffer.from(decoded, 'utf8').equals(bytes) ? decoded : value
}

/** A header value safe to send: ASCII as is, anything else RFC 2047-encoded, as S3 returns it. */
export function sendable (value: string): string {
  if (!/[^\x20-\x7e]/.test(value)) return value
  return `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`
}

// An RFC 2047 encoded-word in a charset Buffer can decode, and the whitespace that may part two.
const ENCODED_WORD = /=\?(utf-8|iso-8859-1|us-ascii)\?([bq])\?([^?\s]*)\?=/gi
const BETWEEN_WORDS = /(\?=)[ \t]+(?==\?)/g

/**
 * S3 decodes RFC 2047 encoded-words in metadata values before storing them (and encodes
 * non-ASCII values on the way out): the one way a client can send Unicode that every HTTP stack
 * carries intact.
 */
function decodeEncodedWords (value: string): string {
  if (!value.includes('=?')) return value
  return value.replace(BETWEEN_WORDS, '$1').replace(ENCODED_WORD, (_word, charset: string, encoding: string, text: string) => {
    const bytes = encoding.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64')
      : Buffer.from(text.replaceAll('_', ' ').replace(/=([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1')
    return bytes.toString(charset.toLowerCase() === 'utf-8' ? 'utf8' : 'latin1')
  })
}

/** `x-amz-meta-*` headers, names lower-cased (Node already does) and values read as UTF-8. */
export function metadataOf (headers: IncomingHttpHeaders): Record<string, string> {
  const metadata: Array<[string, string]> = []
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue
    metadata.push([name.slice(11), decodeEncodedWords(utf8Value(Array.isArray(value) ? value.join(',') : value))])
  }
  // fromEntries keeps a name such as `__proto__` as data.
  return Object.fromEntries(metadata)
}

/**
 * Content-Encoding minus the `aws-chunked` framing token, which is transport and never stored.
 * S3 keeps a value without it as sent, and joins what is left of one with it by ', '.
 */
export function storedContentEncoding (value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const tokens = value.split(',').map(t => t.trim()).filter(t => t !== '')
  const kept = tokens.filter(t => t.toLowerCase() !== 'aws-chunked')
  if (kept.length === tokens.length) return value
  return kept.length === 0 ? undefined : kept.join(', ')
}

/** The object headers a PUT, copy with REPLACE, or CreateMultipartUpload stores. */
export function objectHeadersOf (headers: IncomingHttpHeaders): ObjectHeaders {
  const out: ObjectHeaders = { metadata: metadataOf(headers) }
  const contentType = header(headers, 'content-type')
  if (contentType !== undefined && contentType !== '') out.contentType = contentType
  const contentEncoding = storedContentEncoding(header(headers, 'content-encoding'))
  if (contentEncoding !== undefined) out.contentEncoding = contentEncoding
  const disposition = header(headers, 'content-disposition')
  if (disposition !== undefined) out.contentDisposition = utf8Value(disposition)
  const language = header(headers, 'content-language')
  if (language !== undefined) out.contentLanguage = language
  const cacheControl = header(headers, 'cache-control')
  if (cacheControl !== undefined) out.cacheControl = cacheControl
  const expires = header(headers, 'expires')
  if (expires !== undefined) out.expires = expires
  return out
}

/** `x-amz-checksum-<algorithm>` headers. */
export function checksumsOf (headers: IncomingHttpHeaders): Checksums {
  const checksums: Checksums = {}
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = header(headers, `x-amz-checksum-${algorithm.toLowerCase()}`)
    if (value !== undefined) checksums[algorithm] = value
  }
  return checksums
}

/** An algorithm name as S3 spells it in x-amz-checksum-algorithm and friends (any case). */
export function checksumAlgorithmOf (value: string | undefined): ChecksumAlgorithm | undefined {
  if (value === undefined) return undefined
  const upper = value.toUpperCase()
  const found = CHECKSUM_ALGORITHMS.find(a => a === upper)
  if (found === undefined) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]')
  return found
}

/** The SSE-C key a request brings (`prefix` is `x-amz-copy-source-` for the copy source's). */
export function customerKeyOf (headers: IncomingHttpHeaders, prefix = 'x-amz-'): CustomerKey | undefined {
  const algorithm = header(headers, `${prefix}server-side-encryption-customer-algorithm`)
  const key = header(headers, `${prefix}server-side-encryption-customer-key`)
  const md5 = header(headers, `${prefix}server-side-encryption-customer-key-md5`)
  if (algorithm === undefined && key === undefined && md5 === undefined) return undefined
  if (algorithm !== 'AES256') {
    throw new S3Error('InvalidEncryptionAlgorithmError', 'The encryption request that you specified is not valid. The valid value is AES256.')
  }
  if (key === undefined) throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.')
  return md5 === undefined ? { key } : { key, md5 }
}

/** Encryption asked for by a write: SSE-S3, SSE-KMS (with a bucket key or not) or SSE-C. */
export function encryptionOf (headers: IncomingHttpHeaders): EncryptionOptions {
  const out: EncryptionOptions = {}
  const sse = header(headers, 'x-amz-server-side-encryption')
  if (sse !== undefined) {
    if (sse !== 'AES256' && sse !== 'aws:kms') {
      throw new S3Error('InvalidArgument', 'Server Side Encryption with the given algorithm is not supported.', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: sse })
    }
    out.serverSideEncryption = sse
  }
  const keyId = header(headers, 'x-amz-server-side-encryption-aws-kms-key-id')
  if (keyId !== undefined) out.masterKeyId = keyId
  const bucketKey = header(headers, 'x-amz-server-side-encryption-bucket-key-enabled')
  if (bucketKey !== undefined) out.bucketKeyEnabled = bucketKey.toLowerCase() === 'true'
  const customerKey = customerKeyOf(headers)
  if (customerKey !== undefined) out.customerKey = customerKey
  return out
}

/** The response headers that report how an object is encrypted. */
export function encryptionHeaders (info: EncryptionInfo): Headers {
  const out: Headers = {}
  if (info.customerKeyMD5 !== undefined) {
    out['x-amz-server-side-encryption-customer-algorithm'] = 'AES256'
    out['x-amz-server-side-encryption-customer-key-md5'] = info.customerKeyMD5
    return out
  }
  if (info.serverSideEncryption !== undefined) out['x-amz-server-side-encryption'] = info.serverSideEncryption
  // S3 answers the key's ARN whichever form the request named it in.
  const keyId = info.masterKeyArn ?? info.masterKeyId
  if (keyId !== undefined) out['x-amz-server-side-encryption-aws-kms-key-id'] = keyId
  if (info.bucketKeyEnabled === true) out['x-amz-server-side-encryption-bucket-key-enabled'] = 'true'
  return out
}

/** `x-amz-checksum-*` response headers for checksums (none for composite values shown nowhere). */
export function checksumHeaders (checksums: Checksums, type?: string): Headers {
  const out: Headers = {}
  for (const [algorithm, value] of Object.entries(checksums)) out[`x-amz-checksum-${algorithm.toLowerCase()}`] = value
  if (type !== undefined && Object.keys(out).length > 0) out['x-amz-checksum-type'] = type
  return out
}

// response-* parameters of GetObject/HeadObject and the header each replaces.
const OVERRIDES: Array<[string, string]> = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding']
]

/**
 * The headers of a GetObject or HeadObject response. Checksums only when asked for
 * (`x-amz-checksum-mode: ENABLED`) and only for whole objects: a client would check a range
 * against the whole object's value and fail.
 */
export function objectHeaders (info: ObjectInfo, query: Map<string, string>, withChecksums: boolean): Headers {
  const out: Headers = {
    'last-modified': httpDate(info.lastModified),
    etag: info.etag,
    'accept-ranges': 'bytes',
    'content-type': sendable(info.contentType)
  }
  // Stored through the engine API, these may hold what no header can carry as it is.
  if (info.contentEncoding !== undefined) out['content-encoding'] = sendable(info.contentEncoding)
  if (info.contentDisposition !== undefined) out['content-disposition'] = sendable(info.contentDisposition)
  if (info.contentLanguage !== undefined) out['content-language'] = sendable(info.contentLanguage)
  if (info.cacheControl !== undefined) out['cache-control'] = sendable(info.cacheControl)
  if (info.expires !== undefined) out.expires = sendable(info.expires)
  for (const [name, value] of Object.entries(info.metadata)) out[`x-amz-meta-${name}`] = sendable(value)
  if (info.versionId !== undefined) out['x-amz-version-id'] = info.versionId
  if (info.expiration !== undefined) out['x-amz-expiration'] = expirationHeader(info.expiration)
  // S3 names every class but STANDARD.
  if (info.storageClass !== 'STANDARD') out['x-amz-storage-class'] = info.storageClass
  Object.assign(out, encryptionHeaders(info))
  if (withChecksums) {
    const composite = Object.values(info.checksums).some(v => v?.includes('-'))
    Object.assign(out, checksumHeaders(info.checksums, composite ? 'COMPOSITE' : 'FULL_OBJECT'))
  }
  for (const [param, name] of OVERRIDES) {
    const value = query.get(param)
    if (value === undefined) continue
    // Sent as given, as S3 does: a latin-1 value goes out as latin-1 bytes (browsers read a
    // Content-Disposition filename so, RFC 2047 they would not decode); anything else is refused.
    if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) {
      throw new S3Error('InvalidArgument', 'Header value cannot be represented using ISO-8859-1.', { ArgumentName: param, ArgumentValue: value })
    }
    out[name] = value
  }
  return out
}

// The canned ACLs a store keeps, and those S3 has that it does not: the latter are refused as
// not implemented rather than stored as something they are not.
const KEPT_ACLS: readonly string[] = ['private', 'public-read', 'public-read-write', 'authenticated-read']
const UNKEPT_ACLS = { bucket: ['aws-exec-read', 'log-delivery-write'], object: ['aws-exec-read'] }
// On an object they name the bucket owner, who is the one owner of everything here: private.
// S3 ignores them on a bucket.
const OWNER_ACLS: readonly string[] = ['bucket-owner-read', 'bucket-owner-full-control']

/** Whether a request carries `x-amz-grant-*` headers (explicit grants). */
export function hasGrantHeaders (headers: IncomingHttpHeaders): boolean {
  return Object.keys(headers).some(name => name.startsWith('x-amz-grant-'))
}

/** S3's answer to a canned ACL and grant headers in one request. */
export function bothAclKinds (): S3Error {
  return new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed')
}

/**
 * The canned ACL a write (PutObject, CopyObject, CreateMultipartUpload, CreateBucket) or a
 * PutBucketAcl / PutObjectAcl asks for with `x-amz-acl`; undefined when none. An unknown name is
 * InvalidArgument naming x-amz-acl, as S3 answers (S3's Message is empty; ours says what is
 * accepted). Grant headers are NotImplemented: they name grantees one by one, and a store with
 * one owner and no accounts keeps canned ACLs only. Whether the caller may publish is the
 * engine's check.
 */
export function cannedAclOf (headers: IncomingHttpHeaders, on: 'bucket' | 'object'): CannedAcl | undefined {
  const acl = header(headers, 'x-amz-acl')
  const grants = hasGrantHeaders(headers)
  if (acl !== undefined && grants) throw bothAclKinds()
  if (grants) {
    throw new S3Error('NotImplemented',
      'x-amz-grant-* headers are not supported: spacebox keeps canned ACLs only. Use x-amz-acl with private, public-read, public-read-write or authenticated-read.')
  }
  if (acl === undefined) return undefined
  if (KEPT_ACLS.includes(acl)) return acl as CannedAcl
  if (OWNER_ACLS.includes(acl)) return 'private'
  if (UNKEPT_ACLS[on].includes(acl)) {
    throw new S3Error('NotImplemented', `The canned ACL ${acl} is not supported: spacebox keeps private, public-read, public-read-write and authenticated-read.`)
  }
  throw new S3Error('InvalidArgument', 'x-amz-acl must be a canned ACL: private, public-read, public-read-write or authenticated-read.', {
    ArgumentName: 'x-amz-acl', ArgumentValue: acl
  })
}

/** The `acl` option of an engine write, from the request's headers. */
export function aclOption (headers: IncomingHttpHeaders, on: 'bucket' | 'object'): { acl?: CannedAcl } {
  const acl = cannedAclOf(headers, on)
  return acl === undefined ? {} : { acl }
}

/**
 * The `storageClass` option of a write (PutObject, CopyObject, CreateMultipartUpload, a POST form)
 * from `x-amz-storage-class`, as given: the engine refuses a class S3 does not know. DigitalOcean
 * Spaces has STANDARD only, so the `spaces` profile refuses every other class the same way.
 */
export function storageClassOption (headers: IncomingHttpHeaders, profile: 'aws' | 'spaces'): { storageClass?: StorageClass } {
  const value = header(headers, 'x-amz-storage-class')
  if (value === undefined) return {}
  if (profile === 'spaces' && value !== 'STANDARD') {
    throw new S3Error('InvalidStorageClass', 'The storage class you specified is not valid', { StorageClassRequested: value })
  }
  return { storageClass: value as StorageClass }
}
