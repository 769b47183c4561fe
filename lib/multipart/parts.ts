import { SpaceboxError } from '../errors.js'
import { partKey, partRange, uploadKey } from '../schema/keys.js'
import type { PartRecord, UploadRecord } from '../schema/records.js'
import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type {
  Body, CreateMultipartUploadOptions, CustomerKey, MultipartUpload, UploadPartCopyOptions, UploadPartCopyResult, UploadPartOptions, UploadPartResult
} from '../types.js'
import { newId } from '../internal/ids.js'
import { checkAtCommit } from '../internal/view-options.js'
import { assertWriteConditions, checkReadConditions, copySourceConditions } from '../objects/conditions.js'
import { checksumPlan, encryptionInfo, objectFields } from '../objects/fields.js'
import { checkVersionId, readVersion, reportedId } from '../objects/versions.js'
import { chunkDeletes } from '../objects/heads.js'
import { readingSnapshot, storedBody } from '../objects/reader.js'
import { receive, type Received } from '../objects/receive.js'
import { cipherOf, encryptionFor } from '../crypto/encryption.js'
import { tagsField } from '../tags.js'
import type { ObjectCipher } from '../crypto/object-cipher.js'
import { isUploadId, uploadLock } from './abort.js'
import { assertPartNumber } from '../validate.js'

export { uploadLock }

type Where = { bucket: string, key: string }

export function noSuchUpload (where: Where, uploadId: string): SpaceboxError {
  return new SpaceboxError('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', {
    ...where, detail: { uploadId: String(uploadId) }
  })
}

/** The upload's record; NoSuchUpload if there is none for this bucket and key. */
export async function readUpload (ctx: Context, bucketId: string, where: Where, uploadId: string): Promise<UploadRecord> {
  const record = isUploadId(uploadId)
    ? await ctx.sub.uploads.get(uploadKey(bucketId, where.key, uploadId)) as UploadRecord | undefined
    : undefined
  if (record === undefined) throw noSuchUpload(where, uploadId)
  return record
}

/** Every part of an upload, in part-number order. */
export async function readParts (ctx: Context, uploadId: string): Promise<PartRecord[]> {
  return await ctx.sub.parts.values(partRange(uploadId)).all() as PartRecord[]
}

/** Start an upload: headers, metadata and checksum settings given now apply to the completed object. */
export async function createMultipartUpload (ctx: Context, buckets: Buckets, bucketName: string, key: string, options: CreateMultipartUploadOptions): Promise<MultipartUpload> {
  const where = { bucket: bucketName, key }
  const bucket = buckets.get(bucketName)
  const fields = { ...objectFields(options, where), ...tagsField(options.tags, where) }
  assertWriteConditions(options, where)
  const [algorithm] = checksumPlan(undefined, options.checksumAlgorithm, undefined, where)
  // As S3: COMPOSITE by default, but CRC64NVME exists only as FULL_OBJECT, and SHA only as COMPOSITE.
  const type = options.checksumType ?? (algorithm === undefined ? undefined : algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE')
  if (type !== undefined && (algorithm === undefined || (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') ||
    (type === 'FULL_OBJECT' && algorithm !== 'CRC32' && algorithm !== 'CRC32C' && algorithm !== 'CRC64NVME') ||
    (type === 'COMPOSITE' && algorithm === 'CRC64NVME'))) {
    throw new SpaceboxError('InvalidRequest', 'The checksum type needs a checksum algorithm; FULL_OBJECT is for CRCs only, and CRC64NVME is FULL_OBJECT only', where)
  }
  const { enc } = await encryptionFor(ctx, buckets.keys, bucket, options, where)
  const record: UploadRecord = { v: 1, id: newId(), key, initiated: ctx.now(), ...fields, ...(enc === undefined ? {} : { enc }) }
  const upload: MultipartUpload = { bucket: bucketName, key, uploadId: record.id, ...encryptionInfo(enc, bucket.record.region) }
  if (algorithm !== undefined && type !== undefined) {
    record.checksumAlgorithm = upload.checksumAlgorithm = algorithm
    record.checksumType = upload.checksumType = type
  }
  if (options.ifNoneMatch !== undefined) record.ifNoneMatch = options.ifNoneMatch
  await buckets.commit(bucket, async () => { await ctx.sub.uploads.put(uploadKey(bucket.record.id, key, record.id), record, ctx.write) })
  return upload
}

/** Store one part; uploading a part number again replaces that part. */
export async function uploadPart (ctx: Context, buckets: Buckets, bucketName: string, key: string, uploadId: string,
  partNumber: number, body: Body, options: UploadPartOptions): Promise<UploadPartResult> {
  const where = { bucket: bucketName, key }
  const bucket = buckets.get(bucketName)
  assertPartNumber(partNumber, where)
  const upload = await readUpload(ctx, bucket.record.id, where, uploadId)
  const algorithms = checksumPlan(options.checksums, options.checksumAlgorithm, options.contentMD5, where)
  if (upload.checksumAlgorithm !== undefined) algorithms.push(upload.checksumAlgorithm)
  const cipher = await uploadCipher(ctx, buckets, bucket.record.id, upload, options.customerKey, where)
  const received = await receive(ctx, body, options, algorithms, where, false, cipher)
  const part = await commitPart(ctx, bucket.record.id, where, upload.id, partNumber, received, options)
  return { etag: `"${part.etag}"`, size: part.size, checksums: { ...part.checksums } }
}

/** A byte range of an existing object as a part, read under one snapshot of the source. */
export async function uploadPartCopy (ctx: Context, buckets: Buckets, bucketName: string, key: string, uploadId: string,
  partNumber: number, srcBucket: string, srcKey: string, options: UploadPartCopyOptions): Promise<UploadPartCopyResult> {
  const where = { bucket: bucketName, key }
  const bucket = buckets.get(bucketName)
  const source = buckets.get(srcBucket)
  assertPartNumber(partNumber, where)
  const sourceVersionId = checkVersionId(options.sourceVersionId, { bucket: srcBucket, key: srcKey }, 'sourceVersionId')
  const upload = await readUpload(ctx, bucket.record.id, where, uploadId)
  const snapshot = readingSnapshot(ctx)
  let body
  let copySourceVersionId
  try {
    const stored = await readVersion(ctx, source.record.id, { bucket: srcBucket, key: srcKey }, sourceVersionId, snapshot, true)
    copySourceVersionId = reportedId(source.record.versioning, stored.head)
    checkReadConditions(stored.head, copySourceConditions(options), { bucket: srcBucket, key: srcKey }, true)
    const range = copyRange(options.range, stored.head.size, where)
    if ((range === undefined ? stored.head.size : range.end - range.start + 1) > ctx.maxObjectSize) {
      throw new SpaceboxError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size', where)
    }
    const sourceCipher = stored.head.enc === undefined ? undefined : await cipherOf(ctx, buckets.keys, source.record.id, stored.head.enc, options.sourceCustomerKey, { bucket: srcBucket, key: srcKey })
    body = storedBody(ctx, stored, range, snapshot, sourceCipher)
  } catch (err) {
    await snapshot.close()
    throw err
  }
  const cipher = await uploadCipher(ctx, buckets, bucket.record.id, upload, options.customerKey, where)
  const received = await receive(ctx, body, {}, upload.checksumAlgorithm === undefined ? [] : [upload.checksumAlgorithm], where, false, cipher)
  const part = await commitPart(ctx, bucket.record.id, where, upload.id, partNumber, received, options)
  return { etag: `"${part.etag}"`, lastModified: new Date(part.modified), checksums: { ...part.checksums }, ...(copySourceVersionId === undefined ? {} : { copySourceVersionId }) }
}

/** The cipher parts of an encrypted upload are sealed with (an SSE-C upload needs its key on every part). */
async function uploadCipher (ctx: Context, buckets: Buckets, bucketId: string, upload: UploadRecord, customerKey: CustomerKey | undefined, where: Where): Promise<ObjectCipher | undefined> {
  return upload.enc === undefined ? undefined : await cipherOf(ctx, buckets.keys, bucketId, upload.enc, customerKey, where)
}

const COPY_RANGE = /^bytes=(\d+)-(\d+)$/

/**
 * x-amz-copy-source-range: `bytes=first-last`, both bounds required, first <= last (InvalidArgument
 * otherwise), and inside the source (InvalidRange, as S3 answers a range past its end).
 */
function copyRange (range: string | undefined, size: number, where: Where): { start: number, end: number } | undefined {
  if (range === undefined) return undefined
  const m = typeof range === 'string' ? COPY_RANGE.exec(range) : null
  const start = Number(m?.[1])
  const end = Number(m?.[2])
  if (m === null || start > end) {
    throw new SpaceboxError('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', {
      ...where, detail: { argumentName: 'x-amz-copy-source-range', argumentValue: String(range) }
    })
  }
  if (end >= size) throw new SpaceboxError('InvalidRange', `Range specified is not valid for source object of size: ${size}`, where)
  return { start, end }
}

/** Record a received part, replacing (and freeing) an earlier part of the same number, if the options' commit check passes. */
async function commitPart (ctx: Context, bucketId: string, where: Where, uploadId: string, partNumber: number, received: Received, options: object): Promise<PartRecord> {
  const segment = received.written.segment as NonNullable<Received['written']['segment']>
  const part: PartRecord = {
    v: 1, number: partNumber, size: segment.size, etag: received.md5.toString('hex'), modified: ctx.now(), checksums: received.checksums, segment
  }
  try {
    await ctx.locks.run(uploadLock(uploadId), async () => {
      await readUpload(ctx, bucketId, where, uploadId)
      const previous = await ctx.sub.parts.get(partKey(uploadId, partNumber)) as PartRecord | undefined
      checkAtCommit(options, { acl: undefined })
      await ctx.db.batch([
        { type: 'put', sublevel: ctx.sub.parts, key: partKey(uploadId, partNumber), value: part },
        { type: 'del', sublevel: ctx.sub.pending, key: segment.id },
        ...chunkDeletes(ctx, previous === undefined ? undefined : [previous.segment])
      ], ctx.write)
    })
  } catch (err) {
    await received.discard()
    throw err
  }
  return part
}
