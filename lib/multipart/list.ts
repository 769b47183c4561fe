import { SpaceboxError } from '../errors.js'
import { afterUploadsOf, objectKey, partRange, uploadKey, uploadKeyParts, uploadPrefixRange, upperBound } from '../schema/keys.js'
import type { PartRecord, UploadRecord } from '../schema/records.js'
import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { ListMultipartUploadsOptions, ListMultipartUploadsResult, ListPartsOptions, ListPartsResult, UploadSummary } from '../types.js'
import { optionalString, pageSize } from '../listing.js'
import { walk } from '../walk.js'
import { readUpload } from './parts.js'
import { MAX_PART_NUMBER } from '../validate.js'
import { storageClassOf } from '../objects/storage-class.js'

/** The parts of an upload in part-number order, a page at a time. NoSuchUpload. */
export async function listParts (ctx: Context, buckets: Buckets, bucketName: string, key: string, uploadId: string, options: ListPartsOptions): Promise<ListPartsResult> {
  const where = { bucket: bucketName, key }
  const bucket = buckets.get(bucketName)
  const maxParts = pageSize(options.maxParts, 'maxParts', where)
  const marker = options.partNumberMarker ?? 0
  if (!Number.isSafeInteger(marker) || marker < 0) throw new SpaceboxError('InvalidArgument', 'partNumberMarker must be a non-negative integer', where)
  const upload = await readUpload(ctx, bucket.record.id, where, uploadId)
  const records = marker >= MAX_PART_NUMBER || maxParts === 0
    ? []
    : await ctx.sub.parts.values({ ...partRange(upload.id, marker), limit: maxParts + 1 }).all() as PartRecord[]
  const page = records.slice(0, maxParts)
  const result: ListPartsResult = {
    bucket: bucketName,
    key,
    uploadId: upload.id,
    parts: page.map(part => ({ partNumber: part.number, etag: `"${part.etag}"`, size: part.size, lastModified: new Date(part.modified), checksums: { ...part.checksums } })),
    isTruncated: records.length > maxParts,
    partNumberMarker: marker,
    maxParts,
    initiated: new Date(upload.initiated),
    storageClass: storageClassOf(upload),
    owner: ctx.owner
  }
  const last = page[page.length - 1]
  if (last !== undefined) result.nextPartNumberMarker = last.number
  if (upload.checksumAlgorithm !== undefined) result.checksumAlgorithm = upload.checksumAlgorithm
  if (upload.checksumType !== undefined) result.checksumType = upload.checksumType
  return result
}

/**
 * Uploads in progress, by key then age, with S3's prefix, delimiter and marker semantics. `scope`
 * clips the keys read as for object listings (a prefix-scoped access key); roll-ups count from `prefix`.
 */
export async function listMultipartUploads (ctx: Context, buckets: Buckets, bucketName: string, options: ListMultipartUploadsOptions, scope = ''): Promise<ListMultipartUploadsResult> {
  const where = { bucket: bucketName }
  const bucketId = buckets.get(bucketName).record.id
  const maxUploads = pageSize(options.maxUploads, 'maxUploads', where)
  const { prefix = '', keyMarker, uploadIdMarker } = options
  for (const [name, value] of Object.entries({ prefix, delimiter: options.delimiter, keyMarker, uploadIdMarker })) optionalString(value, name)
  const delimiter = options.delimiter === '' ? undefined : options.delimiter
  const result: ListMultipartUploadsResult = {
    bucket: bucketName,
    uploads: [],
    commonPrefixes: [],
    isTruncated: false,
    keyMarker: keyMarker ?? '',
    uploadIdMarker: uploadIdMarker ?? '',
    maxUploads,
    prefix
  }
  if (delimiter !== undefined) result.delimiter = delimiter
  if (maxUploads === 0) return result
  const range = uploadPrefixRange(bucketId, scope.length > prefix.length ? scope : prefix)
  // With a key marker, start after its uploads; with an upload-id marker too, after that upload.
  let start: { gt: Buffer } | { gte: Buffer } = { gte: range.gte }
  if (keyMarker !== undefined && keyMarker !== '') {
    const marked = uploadIdMarker !== undefined && uploadIdMarker !== ''
      ? { gt: uploadKey(bucketId, keyMarker, uploadIdMarker) }
      : { gte: afterUploadsOf(bucketId, keyMarker) }
    if (Buffer.compare('gt' in marked ? marked.gt : marked.gte, range.gte) > 0) start = marked
  }
  const found = await walk<UploadSummary, unknown>({
    iterator: ctx.sub.uploads.iterator({ ...start, lt: range.lt }),
    nameOf: stored => uploadKeyParts(stored).key,
    seekPast: commonPrefix => upperBound(objectKey(bucketId, commonPrefix)),
    item: (name, _, value) => {
      const record = value as UploadRecord
      const summary: UploadSummary = { key: name, uploadId: record.id, initiated: new Date(record.initiated), storageClass: storageClassOf(record), owner: ctx.owner }
      if (record.checksumAlgorithm !== undefined) summary.checksumAlgorithm = record.checksumAlgorithm
      return summary
    },
    prefix,
    delimiter,
    after: keyMarker === '' ? undefined : keyMarker,
    limit: maxUploads,
    stats: ctx.stats
  })
  result.uploads = found.items
  result.commonPrefixes = found.commonPrefixes
  result.isTruncated = found.truncated
  if (found.truncated && found.last !== undefined) {
    result.nextKeyMarker = found.last.name
    if (found.last.item !== undefined) result.nextUploadIdMarker = found.last.item.uploadId
  }
  return result
}
