import type { Checksums, CompletedPart, CreateMultipartUploadOptions, ListMultipartUploadsOptions, UploadPartCopyOptions, UploadPartOptions } from '../../index.js'
import { CHECKSUM_ALGORITHMS } from '../../index.js'
import { payloadOf, smallBody } from '../body.js'
import { send, sendXml, type Call } from '../call.js'
import { S3Error } from '../errors.js'
import { aclOption, checksumAlgorithmOf, checksumHeaders, customerKeyOf, encryptionHeaders, encryptionOf, objectHeadersOf, storageClassOption } from '../headers.js'
import { header, protocolOf } from '../request.js'
import { children, MAX_XML_BYTES, optionalText, ownerXml, parseXml, text } from '../xml.js'
import { continueIfAsked, copiedVersion, copySourceOf, digestOptions, sourceConditions, writeConditions, writtenVersion } from './objects.js'
import { maxOf, nameEncoder, prefixAndDelimiter } from './listing.js'
import { taggingOption } from './tagging.js'

function uploadIdOf (call: Call): string {
  return call.target.query.get('uploadId') ?? ''
}

function partNumberOf (call: Call): number {
  const raw = call.target.query.get('partNumber') ?? ''
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 10000) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: raw })
  }
  return Number(raw)
}

/** Checksum elements of a result (composite values keep their -N, as S3 reports them). */
function checksumElements (checksums: Checksums): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [algorithm, value] of Object.entries(checksums)) out[`Checksum${algorithm}`] = value
  return out
}

/**
 * CreateMultipartUpload: the object's headers, encryption and checksum algorithm are fixed here.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
 */
export async function createMultipartUpload (call: Call): Promise<void> {
  const { headers } = call.req
  const options: CreateMultipartUploadOptions = { ...aclOption(headers, 'object'), ...objectHeadersOf(headers), ...storageClassOption(headers, call.settings.profile), ...encryptionOf(headers), ...taggingOption(headers) }
  const algorithm = checksumAlgorithmOf(header(headers, 'x-amz-checksum-algorithm'))
  if (algorithm !== undefined) options.checksumAlgorithm = algorithm
  const type = header(headers, 'x-amz-checksum-type')?.toUpperCase()
  if (type !== undefined) {
    if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.')
    options.checksumType = type
  }
  const upload = await call.store.createMultipartUpload(call.bucket, call.key, options)
  const responseHeaders = encryptionHeaders(upload)
  if (upload.checksumAlgorithm !== undefined) responseHeaders['x-amz-checksum-algorithm'] = upload.checksumAlgorithm
  if (upload.checksumType !== undefined) responseHeaders['x-amz-checksum-type'] = upload.checksumType
  sendXml(call, 'InitiateMultipartUploadResult', { Bucket: call.bucket, Key: call.key, UploadId: upload.uploadId }, responseHeaders)
}

/**
 * UploadPart: one part's bytes, checked like a PutObject body.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
 */
export async function uploadPart (call: Call): Promise<void> {
  const partNumber = partNumberOf(call)
  const payload = payloadOf(call.req, call.identity?.v4)
  const options: UploadPartOptions = digestOptions(call)
  if (payload.length !== undefined) options.contentLength = payload.length
  if (payload.trailer !== undefined) {
    options.checksumAlgorithm = payload.trailer.algorithm
    options.trailingChecksums = payload.trailer.checksums
  }
  const customerKey = customerKeyOf(call.req.headers)
  if (customerKey !== undefined) options.customerKey = customerKey
  continueIfAsked(call)
  const result = await call.store.uploadPart(call.bucket, call.key, uploadIdOf(call), partNumber, payload.body, options)
  send(call, 200, { etag: result.etag, ...checksumHeaders(result.checksums) })
}

/**
 * UploadPartCopy: a part made of (a range of) an existing object.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html
 */
export async function uploadPartCopy (call: Call): Promise<void> {
  const partNumber = partNumberOf(call)
  const source = copySourceOf(call)
  const options: UploadPartCopyOptions = sourceConditions(call)
  const range = header(call.req.headers, 'x-amz-copy-source-range')
  if (range !== undefined) options.range = range
  const customerKey = customerKeyOf(call.req.headers)
  if (customerKey !== undefined) options.customerKey = customerKey
  const sourceKey = customerKeyOf(call.req.headers, 'x-amz-copy-source-')
  if (sourceKey !== undefined) options.sourceCustomerKey = sourceKey
  if (source.versionId !== undefined) options.sourceVersionId = source.versionId
  const result = await call.store.uploadPartCopy(call.bucket, call.key, uploadIdOf(call), partNumber, source.bucket, source.key, options)
  sendXml(call, 'CopyPartResult', {
    LastModified: result.lastModified.toISOString(),
    ETag: result.etag,
    ...checksumElements(result.checksums)
  }, copiedVersion(result.copySourceVersionId))
}

/** The parts listed in a CompleteMultipartUpload body, with any per-part checksums. */
function completedParts (xml: string): CompletedPart[] {
  const doc = parseXml(xml, 'CompleteMultipartUpload', ['Part'])
  const parts = children(doc, 'Part')
  if (parts.length === 0) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema')
  return parts.map(part => {
    const number = text(part, 'PartNumber').trim()
    if (!/^\d{1,5}$/.test(number)) throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: number })
    const completed: CompletedPart = { partNumber: Number(number), etag: text(part, 'ETag').trim() }
    const checksums: Checksums = {}
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const value = optionalText(part, `Checksum${algorithm}`)
      if (value !== undefined) checksums[algorithm] = value.trim()
    }
    if (Object.keys(checksums).length > 0) completed.checksums = checksums
    return completed
  })
}

/**
 * CompleteMultipartUpload: the listed parts become the object, without copying a byte.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 */
export async function completeMultipartUpload (call: Call): Promise<void> {
  const xml = await smallBody(call, MAX_XML_BYTES * 2, false)
  if (xml.trim() === '') throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema')
  const parts = completedParts(xml)
  const result = await call.store.completeMultipartUpload(call.bucket, call.key, uploadIdOf(call), parts, writeConditions(call))
  const host = call.req.headers.host ?? 'localhost'
  // The object's URL in the addressing style the client used: the bucket is in the Host already
  // when it came from there.
  const path = `${call.target.virtualHosted ? '' : `${call.bucket}/`}${encodeURIComponent(call.key).replaceAll('%2F', '/')}`
  sendXml(call, 'CompleteMultipartUploadResult', {
    Location: `${protocolOf(call.req)}://${host}/${path}`,
    Bucket: call.bucket,
    Key: call.key,
    ETag: result.etag,
    ...checksumElements(result.checksums),
    ...(result.checksumType !== undefined && Object.keys(result.checksums).length > 0 ? { ChecksumType: result.checksumType } : {})
  }, { ...writtenVersion(result.versionId), ...encryptionHeaders(result) })
}

/**
 * AbortMultipartUpload: the upload and its parts are gone.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
 */
export async function abortMultipartUpload (call: Call): Promise<void> {
  await call.store.abortMultipartUpload(call.bucket, call.key, uploadIdOf(call))
  send(call, 204, {})
}

/**
 * ListParts: the parts uploaded so far, by part number.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
 */
export async function listParts (call: Call): Promise<void> {
  const marker = call.target.query.get('part-number-marker')
  if (marker !== undefined && !/^\d{1,5}$/.test(marker)) {
    throw new S3Error('InvalidArgument', 'Provided part-number-marker not an integer or within integer range', { ArgumentName: 'part-number-marker', ArgumentValue: marker })
  }
  const maxParts = maxOf(call, 'max-parts')
  const page = await call.store.listParts(call.bucket, call.key, uploadIdOf(call), {
    ...(marker === undefined ? {} : { partNumberMarker: Number(marker) }),
    ...(maxParts === undefined ? {} : { maxParts })
  })
  sendXml(call, 'ListPartsResult', {
    Bucket: page.bucket,
    Key: page.key,
    UploadId: page.uploadId,
    Initiator: ownerXml(call.store.owner),
    Owner: ownerXml(call.store.owner),
    StorageClass: page.storageClass,
    PartNumberMarker: String(page.partNumberMarker),
    ...(page.nextPartNumberMarker === undefined ? {} : { NextPartNumberMarker: String(page.nextPartNumberMarker) }),
    MaxParts: String(page.maxParts),
    IsTruncated: String(page.isTruncated),
    ...(page.checksumAlgorithm === undefined ? {} : { ChecksumAlgorithm: page.checksumAlgorithm }),
    ...(page.checksumType === undefined ? {} : { ChecksumType: page.checksumType }),
    Part: page.parts.map(p => ({
      PartNumber: String(p.partNumber),
      LastModified: p.lastModified.toISOString(),
      ETag: p.etag,
      Size: String(p.size),
      ...checksumElements(p.checksums)
    }))
  })
}

/**
 * ListMultipartUploads: uploads in progress, by key then initiation.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
 */
export async function listMultipartUploads (call: Call): Promise<void> {
  const q = call.target.query
  const encode = nameEncoder(call)
  const options: ListMultipartUploadsOptions = prefixAndDelimiter(call)
  const keyMarker = q.get('key-marker')
  if (keyMarker !== undefined) options.keyMarker = keyMarker
  const uploadIdMarker = q.get('upload-id-marker')
  if (uploadIdMarker !== undefined) options.uploadIdMarker = uploadIdMarker
  const maxUploads = maxOf(call, 'max-uploads')
  if (maxUploads !== undefined) options.maxUploads = maxUploads
  const page = await call.store.listMultipartUploads(call.bucket, options)
  sendXml(call, 'ListMultipartUploadsResult', {
    Bucket: page.bucket,
    KeyMarker: encode(page.keyMarker),
    UploadIdMarker: page.uploadIdMarker,
    ...(page.nextKeyMarker === undefined ? {} : { NextKeyMarker: encode(page.nextKeyMarker) }),
    ...(page.nextUploadIdMarker === undefined ? {} : { NextUploadIdMarker: page.nextUploadIdMarker }),
    Prefix: encode(page.prefix),
    ...(page.delimiter === undefined ? {} : { Delimiter: encode(page.delimiter) }),
    MaxUploads: String(page.maxUploads),
    IsTruncated: String(page.isTruncated),
    ...(q.get('encoding-type') === undefined ? {} : { EncodingType: 'url' }),
    Upload: page.uploads.map(u => ({
      Key: encode(u.key),
      UploadId: u.uploadId,
      Initiator: ownerXml(call.store.owner),
      Owner: ownerXml(call.store.owner),
      StorageClass: u.storageClass,
      Initiated: u.initiated.toISOString(),
      ...(u.checksumAlgorithm === undefined ? {} : { ChecksumAlgorithm: u.checksumAlgorithm })
    })),
    CommonPrefixes: page.commonPrefixes.map(p => ({ Prefix: encode(p) }))
  })
}
