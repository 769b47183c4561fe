import { isSpaceboxError, type CopyObjectOptions, type GetObjectOptions, type PutObjectOptions, type ReadConditions } from '../../index.js'
import { payloadOf } from '../body.js'
import { send, sendStream, sendXml, type Ctx } from '../context.js'
import { S3Error } from '../errors.js'
import {
  assertOwnerOnlyAcl, checksumAlgorithmOf, checksumHeaders, checksumsOf, customerKeyOf, encryptionHeaders, encryptionOf, httpDate,
  objectHeaders, objectHeadersOf
} from '../headers.js'
import { children, MAX_XML_BYTES, optionalText, parseXml, text } from '../xml.js'
import { readSmall } from '../body.js'
import { verifyIntegrity } from '../integrity.js'
import { header } from '../request.js'

/**
 * PutObject: stream the body into the store; the object appears only once every byte has arrived
 * and every declared digest matched.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
 */
export async function putObject (ctx: Ctx): Promise<void> {
  const { headers } = ctx.req
  assertOwnerOnlyAcl(headers)
  const payload = payloadOf(ctx.req, ctx.identity?.v4)
  const options: PutObjectOptions = {
    ...objectHeadersOf(headers),
    ...encryptionOf(headers),
    ...writeConditions(ctx),
    ...digestOptions(ctx)
  }
  if (payload.length !== undefined) options.contentLength = payload.length
  if (payload.trailer !== undefined) {
    options.checksumAlgorithm = payload.trailer.algorithm
    options.trailingChecksums = payload.trailer.checksums
  }
  continueIfAsked(ctx)
  const result = await ctx.store.putObject(ctx.bucket, ctx.key, payload.body, options)
  send(ctx, 200, {
    etag: result.etag,
    ...checksumHeaders(result.checksums, 'FULL_OBJECT'),
    ...encryptionHeaders(result)
  })
}

/** Content-MD5 and x-amz-checksum-* of a write, and the algorithm the SDK asks us to compute. */
export function digestOptions (ctx: Ctx): Pick<PutObjectOptions, 'contentMD5' | 'checksums' | 'checksumAlgorithm'> {
  const { headers } = ctx.req
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
export function writeConditions (ctx: Ctx): { ifMatch?: string, ifNoneMatch?: string } {
  const out: { ifMatch?: string, ifNoneMatch?: string } = {}
  const ifMatch = header(ctx.req.headers, 'if-match')
  if (ifMatch !== undefined) out.ifMatch = ifMatch
  const ifNoneMatch = header(ctx.req.headers, 'if-none-match')
  if (ifNoneMatch !== undefined) out.ifNoneMatch = ifNoneMatch
  return out
}

/** Tell a client waiting on `Expect: 100-continue` to send its body, now the request is authorised. */
export function continueIfAsked (ctx: Ctx): void {
  if (header(ctx.req.headers, 'expect')?.toLowerCase() === '100-continue' && !ctx.res.headersSent) ctx.res.writeContinue()
}

function readConditions (ctx: Ctx, prefix = ''): ReadConditions {
  const { headers } = ctx.req
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

function getOptions (ctx: Ctx): GetObjectOptions {
  const options: GetObjectOptions = readConditions(ctx)
  const range = header(ctx.req.headers, 'range')
  if (range !== undefined) options.range = range
  const customerKey = customerKeyOf(ctx.req.headers)
  if (customerKey !== undefined) options.customerKey = customerKey
  const partNumber = ctx.target.query.get('partNumber')
  if (partNumber !== undefined) throw new S3Error('NotImplemented', 'GetObject by partNumber is not implemented.')
  return options
}

/**
 * GetObject: stream the object (or one range of it) with its headers; 304 and 412 for conditions.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 */
export async function getObject (ctx: Ctx): Promise<void> {
  const options = getOptions(ctx)
  let result
  try {
    result = await ctx.store.getObject(ctx.bucket, ctx.key, options)
  } catch (err) {
    if (notModified(ctx, err)) return
    throw err
  }
  const { info, body, range } = result
  const withChecksums = range === undefined && header(ctx.req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED'
  let headers: Record<string, string>
  try {
    headers = objectHeaders(info, ctx.target.query, withChecksums)
  } catch (err) {
    body.destroy()
    throw err
  }
  if (range === undefined) {
    headers['content-length'] = String(info.size)
    await sendStream(ctx, 200, headers, body)
    return
  }
  headers['content-length'] = String(range.end - range.start + 1)
  headers['content-range'] = `bytes ${range.start}-${range.end}/${info.size}`
  await sendStream(ctx, 206, headers, body)
}

/**
 * HeadObject: GetObject's headers without the body.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
 */
export async function headObject (ctx: Ctx): Promise<void> {
  const options = getOptions(ctx)
  if (options.range !== undefined) {
    await getObject(ctx) // a ranged HEAD reports the range: the engine resolves it as for a read
    return
  }
  let info
  try {
    info = await ctx.store.headObject(ctx.bucket, ctx.key, options)
  } catch (err) {
    if (notModified(ctx, err)) return
    throw err
  }
  const withChecksums = header(ctx.req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED'
  send(ctx, 200, { ...objectHeaders(info, ctx.target.query, withChecksums), 'content-length': String(info.size) })
}

/** A 304 answers a failed If-None-Match / If-Modified-Since, with the object's validators. */
function notModified (ctx: Ctx, err: unknown): boolean {
  if (!isSpaceboxError(err, 'NotModified')) return false
  const headers: Record<string, string> = {}
  if (err.detail?.etag !== undefined) headers.etag = String(err.detail.etag)
  if (err.detail?.lastModified !== undefined) headers['last-modified'] = httpDate(new Date(Number(err.detail.lastModified)))
  send(ctx, 304, headers)
  return true
}

/**
 * DeleteObject: 204 whether or not the key existed.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
 */
export async function deleteObject (ctx: Ctx): Promise<void> {
  await ctx.store.deleteObject(ctx.bucket, ctx.key)
  send(ctx, 204, {})
}

/**
 * DeleteObjects: up to 1000 keys in one request. Needs Content-MD5 or any x-amz-checksum-*:
 * current SDKs send only a CRC32.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
 */
export async function deleteObjects (ctx: Ctx): Promise<void> {
  const payload = payloadOf(ctx.req, ctx.identity?.v4)
  // 1000 keys of 1024 bytes are a megabyte before their XML: twice the usual cap.
  const bytes = await readSmall(payload.body, MAX_XML_BYTES * 2)
  verifyIntegrity(ctx.req.headers, bytes, payload.trailer?.checksums(), true)
  const doc = parseXml(bytes.toString('utf8'), 'Delete', ['Object'])
  const objects = children(doc, 'Object')
  if (objects.length === 0 || objects.length > 1000) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema')
  const keys = objects.map(o => text(o, 'Key'))
  const quiet = optionalText(doc, 'Quiet')?.trim().toLowerCase() === 'true'
  const result = await ctx.store.deleteObjects(ctx.bucket, keys)
  sendXml(ctx, 'DeleteResult', {
    ...(quiet ? {} : { Deleted: result.deleted.map(Key => ({ Key })) }),
    Error: result.errors.map(e => ({ Key: e.key, Code: e.code, Message: e.message }))
  })
}

/** The bucket, key and version of `x-amz-copy-source` (URL-encoded, leading '/' optional). */
export function copySourceOf (ctx: Ctx): { bucket: string, key: string } {
  const raw = header(ctx.req.headers, 'x-amz-copy-source') ?? ''
  const mark = raw.indexOf('?')
  const path = mark === -1 ? raw : raw.slice(0, mark)
  if (mark !== -1 && !/^versionId=null$/.test(raw.slice(mark + 1))) {
    throw new S3Error('NotImplemented', 'Copying a specific object version is not implemented.')
  }
  let decoded: string
  try {
    decoded = decodeURIComponent(path)
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source', ArgumentValue: raw })
  }
  const trimmed = decoded.startsWith('/') ? decoded.slice(1) : decoded
  const slash = trimmed.indexOf('/')
  if (slash <= 0 || slash === trimmed.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source', ArgumentValue: raw })
  }
  return { bucket: trimmed.slice(0, slash), key: trimmed.slice(slash + 1) }
}

/** x-amz-copy-source-if-* conditions. */
export function sourceConditions (ctx: Ctx): Pick<CopyObjectOptions, 'sourceIfMatch' | 'sourceIfNoneMatch' | 'sourceIfModifiedSince' | 'sourceIfUnmodifiedSince'> {
  const c = readConditions(ctx, 'x-amz-copy-source-')
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
export async function copyObject (ctx: Ctx): Promise<void> {
  const { headers } = ctx.req
  assertOwnerOnlyAcl(headers)
  const source = copySourceOf(ctx)
  const directive = header(headers, 'x-amz-metadata-directive')?.toUpperCase() ?? 'COPY'
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive })
  }
  const options: CopyObjectOptions = {
    metadataDirective: directive,
    ...(directive === 'REPLACE' ? objectHeadersOf(headers) : {}),
    ...encryptionOf(headers),
    ...writeConditions(ctx),
    ...sourceConditions(ctx)
  }
  const sourceKey = customerKeyOf(headers, 'x-amz-copy-source-')
  if (sourceKey !== undefined) options.sourceCustomerKey = sourceKey
  const result = await ctx.store.copyObject(source.bucket, source.key, ctx.bucket, ctx.key, options)
  const checksums = Object.entries(result.checksums).filter(([, v]) => v !== undefined && !v.includes('-'))
  sendXml(ctx, 'CopyObjectResult', {
    LastModified: result.lastModified.toISOString(),
    ETag: result.etag,
    ...Object.fromEntries(checksums.map(([alg, v]) => [`Checksum${alg}`, v])),
    ...(checksums.length > 0 ? { ChecksumType: 'FULL_OBJECT' } : {})
  }, encryptionHeaders(result))
}

/**
 * GetObjectAttributes: ETag, size, checksum and storage class from the object's record (no parts
 * listing: spacebox does not keep a completed object's part boundaries apart from its checksums).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html
 */
export async function getObjectAttributes (ctx: Ctx): Promise<void> {
  const wanted = new Set((header(ctx.req.headers, 'x-amz-object-attributes') ?? '').split(',').map(s => s.trim()).filter(s => s !== ''))
  if (wanted.size === 0) throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', { ArgumentName: 'x-amz-object-attributes', ArgumentValue: '' })
  const options: ReadConditions & { customerKey?: ReturnType<typeof customerKeyOf> & object } = readConditions(ctx)
  const customerKey = customerKeyOf(ctx.req.headers)
  if (customerKey !== undefined) options.customerKey = customerKey
  const info = await ctx.store.headObject(ctx.bucket, ctx.key, options)
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
  sendXml(ctx, 'GetObjectAttributesResponse', body, { 'last-modified': httpDate(info.lastModified) })
}
