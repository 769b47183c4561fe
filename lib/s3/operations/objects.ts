import {
  isSpaceboxError, type CopyObjectOptions, type GetObjectOptions, type HeadObjectOptions, type ObjectIdentifier, type PutObjectOptions, type ReadConditions
} from '../../index.js'
import { payloadOf, smallBody } from '../body.js'
import { send, sendStream, sendXml, type Call } from '../call.js'
import { S3Error } from '../errors.js'
import {
  aclOption, checksumAlgorithmOf, checksumHeaders, checksumsOf, customerKeyOf, encryptionHeaders, encryptionOf, httpDate,
  objectHeaders, objectHeadersOf, storageClassOption
} from '../headers.js'
import { children, MAX_XML_BYTES, optionalText, parseXml, text } from '../xml.js'
import { header } from '../request.js'
import { expirationHeader } from '../lifecycle-xml.js'
import { copyTaggingOptions, tagCountHeader, taggingOption } from './tagging.js'
import { versionOf } from './version-id.js'

/**
 * PutObject: stream the body into the store; the object appears only once every byte has arrived
 * and every declared digest matched.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
 */
export async function putObject (call: Call): Promise<void> {
  const { headers } = call.req
  const acl = aclOption(headers, 'object')
  const payload = payloadOf(call.req, call.identity?.v4)
  const options: PutObjectOptions = {
    ...acl,
    ...objectHeadersOf(headers),
    ...storageClassOption(headers, call.settings.profile),
    ...encryptionOf(headers),
    ...writeConditions(call),
    ...digestOptions(call),
    ...taggingOption(headers)
  }
  if (payload.length !== undefined) options.contentLength = payload.length
  if (payload.trailer !== undefined) {
    options.checksumAlgorithm = payload.trailer.algorithm
    options.trailingChecksums = payload.trailer.checksums
  }
  continueIfAsked(call)
  const result = await call.store.putObject(call.bucket, call.key, payload.body, options)
  send(call, 200, {
    etag: result.etag,
    ...writtenVersion(result.versionId),
    ...checksumHeaders(result.checksums, 'FULL_OBJECT'),
    ...encryptionHeaders(result),
    ...(result.expiration === undefined ? {} : { 'x-amz-expiration': expirationHeader(result.expiration) })
  })
}

/**
 * x-amz-version-id of a PutObject or CompleteMultipartUpload: only a real id. S3 sends none for
 * the null version a Suspended bucket writes (GET and HEAD of it then say `null`).
 */
export function writtenVersion (versionId: string | undefined): Record<string, string> {
  return versionId === undefined || versionId === 'null' ? {} : { 'x-amz-version-id': versionId }
}

/** Content-MD5 and x-amz-checksum-* of a write, and the algorithm the SDK asks us to compute. */
export function digestOptions (call: Call): Pick<PutObjectOptions, 'contentMD5' | 'checksums' | 'checksumAlgorithm'> {
  const { headers } = call.req
  const out: Pick<PutObjectOptions, 'contentMD5' | 'checksums' | 'checksumAlgorithm'> = {}
  const md5 = header(headers, 'content-md5')
  if (md5 !== undefined) out.contentMD5 = md5
  const checksums = checksumsOf(headers)
  if (Object.keys(checksums).length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.')
  if (Object.keys(checksums).length > 0) out.checksums = checksums
  const algorithm = checksumAlgorithmOf(header(headers, 'x-amz-sdk-checksum-algorithm') ?? header(headers, 'x-amz-checksum-algorithm'))
  if (algorithm !== undefined) out.checksumAlgorithm = algorithm
  return out
}

/** If-Match / If-None-Match on a write. */
export function writeConditions (call: Call): { ifMatch?: string, ifNoneMatch?: string } {
  const out: { ifMatch?: string, ifNoneMatch?: string } = {}
  const ifMatch = header(call.req.headers, 'if-match')
  if (ifMatch !== undefined) out.ifMatch = ifMatch
  const ifNoneMatch = header(call.req.headers, 'if-none-match')
  if (ifNoneMatch !== undefined) out.ifNoneMatch = ifNoneMatch
  return out
}

/** Tell a client waiting on `Expect: 100-continue` to send its body, now the request is authorised. */
export function continueIfAsked (call: Call): void {
  if (header(call.req.headers, 'expect')?.toLowerCase() === '100-continue' && !call.res.headersSent) call.res.writeContinue()
}

function readConditions (call: Call, prefix = ''): ReadConditions {
  const { headers } = call.req
  const out: ReadConditions = {}
  const ifMatch = header(headers, `${prefix}if-match`)
  if (ifMatch !== undefined) out.ifMatch = ifMatch
  const ifNoneMatch = header(headers, `${prefix}if-none-match`)
  if (ifNoneMatch !== undefined) out.ifNoneMatch = ifNoneMatch
  const since = validDate(header(headers, `${prefix}if-modified-since`))
  if (since !== undefined) out.ifModifiedSince = since
  const unmodified = validDate(header(headers, `${prefix}if-unmodified-since`))
  if (unmodified !== undefined) out.ifUnmodifiedSince = unmodified
  return out
}

/** S3 ignores a conditional date it cannot parse. */
function validDate (value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date
}

function getOptions (call: Call): GetObjectOptions {
  const options: GetObjectOptions = { ...readConditions(call), ...versionOf(call) }
  const range = header(call.req.headers, 'range')
  if (range !== undefined) options.range = range
  const customerKey = customerKeyOf(call.req.headers)
  if (customerKey !== undefined) options.customerKey = customerKey
  const partNumber = call.target.query.get('partNumber')
  // Anything but digits is no number: the engine refuses it as it refuses 0 or 10001.
  if (partNumber !== undefined) options.partNumber = /^\d{1,9}$/.test(partNumber) ? Number(partNumber) : NaN
  return options
}

/**
 * GetObject: stream the object (or one range of it) with its headers; 304 and 412 for conditions.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 */
export async function getObject (call: Call): Promise<void> {
  const options = getOptions(call)
  let result
  try {
    result = await call.store.getObject(call.bucket, call.key, options)
  } catch (err) {
    if (notModified(call, err)) return
    throw err
  }
  const { info, body, range } = result
  const withChecksums = range === undefined && header(call.req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED'
  let headers: Record<string, string>
  try {
    headers = { ...objectHeaders(info, call.target.query, withChecksums), ...tagCountHeader(call, info) }
  } catch (err) {
    body.destroy()
    throw err
  }
  if (info.partsCount !== undefined) headers['x-amz-mp-parts-count'] = String(info.partsCount)
  // An empty part has no byte a Content-Range could name: it is sent as an empty object is.
  if (range === undefined || range.end < range.start) {
    headers['content-length'] = String(range === undefined ? info.size : 0)
    await sendStream(call, 200, headers, body)
    return
  }
  headers['content-length'] = String(range.end - range.start + 1)
  headers['content-range'] = `bytes ${range.start}-${range.end}/${info.size}`
  await sendStream(call, 206, headers, body)
}

/**
 * HeadObject: GetObject's headers without the body.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
 */
export async function headObject (call: Call): Promise<void> {
  const options = getOptions(call)
  if (options.range !== undefined || options.partNumber !== undefined) {
    await getObject(call) // a ranged HEAD reports the range (or part): the engine resolves it as for a read
    return
  }
  let info
  try {
    info = await call.store.headObject(call.bucket, call.key, options)
  } catch (err) {
    if (notModified(call, err)) return
    throw err
  }
  const withChecksums = header(call.req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED'
  send(call, 200, { ...objectHeaders(info, call.target.query, withChecksums), ...tagCountHeader(call, info), 'content-length': String(info.size) })
}

/** A 304 answers a failed If-None-Match / If-Modified-Since, with the object's validators. */
function notModified (call: Call, err: unknown): boolean {
  if (!isSpaceboxError(err, 'NotModified')) return false
  const headers: Record<string, string> = {}
  if (err.detail?.etag !== undefined) headers.etag = String(err.detail.etag)
  if (err.detail?.lastModified !== undefined) headers['last-modified'] = httpDate(new Date(Number(err.detail.lastModified)))
  send(call, 304, headers)
  return true
}

/**
 * DeleteObject: 204 whether or not the key (or the version named) existed. In a versioned bucket
 * it writes a delete marker, or with a versionId removes that version or marker for good; the
 * headers say which.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
 */
export async function deleteObject (call: Call): Promise<void> {
  const result = await call.store.deleteObject(call.bucket, call.key, versionOf(call))
  const headers: Record<string, string> = {}
  if (result.deleteMarker === true) headers['x-amz-delete-marker'] = 'true'
  if (result.versionId !== undefined) headers['x-amz-version-id'] = result.versionId
  send(call, 204, headers)
}

/**
 * DeleteObjects: up to 1000 keys in one request. Needs Content-MD5 or any x-amz-checksum-*:
 * current SDKs send only a CRC32.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
 */
export async function deleteObjects (call: Call): Promise<void> {
  // 1000 keys of 1024 bytes are a megabyte before their XML: twice the usual cap.
  const doc = parseXml(await smallBody(call, MAX_XML_BYTES * 2, true), 'Delete', ['Object'])
  const objects = children(doc, 'Object')
  if (objects.length === 0 || objects.length > 1000) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema')
  const entries = objects.map((o): string | ObjectIdentifier => {
    const key = text(o, 'Key')
    const versionId = optionalText(o, 'VersionId')
    return versionId === undefined ? key : { key, versionId }
  })
  const quiet = optionalText(doc, 'Quiet')?.trim().toLowerCase() === 'true'
  const result = await call.store.deleteObjects(call.bucket, entries)
  // Children in S3's order; those left undefined are not written.
  const deleted = result.deleted.map(d => ({
    Key: d.key,
    VersionId: d.versionId,
    DeleteMarker: d.deleteMarker === true ? 'true' : undefined,
    DeleteMarkerVersionId: d.deleteMarkerVersionId
  }))
  sendXml(call, 'DeleteResult', {
    Deleted: quiet ? undefined : deleted,
    Error: result.errors.map(e => ({ Key: e.key, VersionId: e.versionId, Code: e.code, Message: e.message }))
  })
}

const VERSION_SUFFIX = '?versionId='

/**
 * The bucket, key and version of `x-amz-copy-source` (URL-encoded, leading '/' optional, then
 * optionally `?versionId=<id>`). Decoded whole before the split, so an encoded separator splits
 * too, as versitygw's parity tests show; at the last one, since an id never holds a '?'.
 */
export function copySourceOf (call: Call): { bucket: string, key: string, versionId?: string } {
  const raw = header(call.req.headers, 'x-amz-copy-source') ?? ''
  let decoded: string
  try {
    decoded = decodeURIComponent(raw)
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source', ArgumentValue: raw })
  }
  const mark = decoded.lastIndexOf(VERSION_SUFFIX)
  const path = mark === -1 ? decoded : decoded.slice(0, mark)
  const trimmed = path.startsWith('/') ? path.slice(1) : path
  const slash = trimmed.indexOf('/')
  if (slash <= 0 || slash === trimmed.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source', ArgumentValue: raw })
  }
  const source = { bucket: trimmed.slice(0, slash), key: trimmed.slice(slash + 1) }
  return mark === -1 ? source : { ...source, versionId: decoded.slice(mark + VERSION_SUFFIX.length) }
}

/** x-amz-copy-source-version-id: the source version copied, when its bucket was ever versioned. */
export function copiedVersion (copySourceVersionId: string | undefined): Record<string, string> {
  return copySourceVersionId === undefined ? {} : { 'x-amz-copy-source-version-id': copySourceVersionId }
}

/** x-amz-copy-source-if-* conditions. */
export function sourceConditions (call: Call): Pick<CopyObjectOptions, 'sourceIfMatch' | 'sourceIfNoneMatch' | 'sourceIfModifiedSince' | 'sourceIfUnmodifiedSince'> {
  const c = readConditions(call, 'x-amz-copy-source-')
  const out: Pick<CopyObjectOptions, 'sourceIfMatch' | 'sourceIfNoneMatch' | 'sourceIfModifiedSince' | 'sourceIfUnmodifiedSince'> = {}
  if (c.ifMatch !== undefined) out.sourceIfMatch = c.ifMatch
  if (c.ifNoneMatch !== undefined) out.sourceIfNoneMatch = c.ifNoneMatch
  if (c.ifModifiedSince !== undefined) out.sourceIfModifiedSince = c.ifModifiedSince
  if (c.ifUnmodifiedSince !== undefined) out.sourceIfUnmodifiedSince = c.ifUnmodifiedSince
  return out
}

/**
 * CopyObject: server-side copy; metadata from the source (COPY) or from this request (REPLACE).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
 */
export async function copyObject (call: Call): Promise<void> {
  const { headers } = call.req
  const acl = aclOption(headers, 'object')
  const source = copySourceOf(call)
  const directive = header(headers, 'x-amz-metadata-directive')?.toUpperCase() ?? 'COPY'
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive })
  }
  const options: CopyObjectOptions = {
    metadataDirective: directive,
    ...acl,
    ...(directive === 'REPLACE' ? objectHeadersOf(headers) : {}),
    ...storageClassOption(headers, call.settings.profile),
    ...encryptionOf(headers),
    ...writeConditions(call),
    ...sourceConditions(call),
    ...copyTaggingOptions(headers)
  }
  const sourceKey = customerKeyOf(headers, 'x-amz-copy-source-')
  if (sourceKey !== undefined) options.sourceCustomerKey = sourceKey
  if (source.versionId !== undefined) options.sourceVersionId = source.versionId
  const result = await call.store.copyObject(source.bucket, source.key, call.bucket, call.key, options)
  const checksums = Object.entries(result.checksums).filter(([, v]) => v !== undefined && !v.includes('-'))
  sendXml(call, 'CopyObjectResult', {
    LastModified: result.lastModified.toISOString(),
    ETag: result.etag,
    ...Object.fromEntries(checksums.map(([alg, v]) => [`Checksum${alg}`, v])),
    ...(checksums.length > 0 ? { ChecksumType: 'FULL_OBJECT' } : {})
  }, {
    // Unlike PutObject's, `null` too: the CopyObject reference says so for a Suspended destination.
    ...(result.versionId === undefined ? {} : { 'x-amz-version-id': result.versionId }),
    ...copiedVersion(result.copySourceVersionId),
    ...encryptionHeaders(result)
  })
}

/**
 * GetObjectAttributes: ETag, size, checksum and storage class from the object's record (no
 * ObjectParts: part checksums are not kept once an upload completes, only the parts' sizes).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html
 */
export async function getObjectAttributes (call: Call): Promise<void> {
  const wanted = new Set((header(call.req.headers, 'x-amz-object-attributes') ?? '').split(',').map(s => s.trim()).filter(s => s !== ''))
  if (wanted.size === 0) throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', { ArgumentName: 'x-amz-object-attributes', ArgumentValue: '' })
  const options: HeadObjectOptions = { ...readConditions(call), ...versionOf(call) }
  const customerKey = customerKeyOf(call.req.headers)
  if (customerKey !== undefined) options.customerKey = customerKey
  const info = await call.store.headObject(call.bucket, call.key, options)
  const body: Record<string, unknown> = {}
  if (wanted.has('ETag')) body.ETag = info.etag.slice(1, -1)
  if (wanted.has('Checksum')) {
    const checksums = Object.entries(info.checksums).filter(([, v]) => v !== undefined)
    if (checksums.length > 0) {
      body.Checksum = {
        ...Object.fromEntries(checksums.map(([alg, v]) => [`Checksum${alg}`, v])),
        ChecksumType: checksums.some(([, v]) => v?.includes('-') === true) ? 'COMPOSITE' : 'FULL_OBJECT'
      }
    }
  }
  if (wanted.has('StorageClass')) body.StorageClass = info.storageClass
  if (wanted.has('ObjectSize')) body.ObjectSize = String(info.size)
  sendXml(call, 'GetObjectAttributesResponse', body, {
    'last-modified': httpDate(info.lastModified),
    ...(info.versionId === undefined ? {} : { 'x-amz-version-id': info.versionId })
  })
}
