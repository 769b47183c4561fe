import { createHash } from 'node:crypto'
import { SpaceboxError } from '../errors.js'
import type { ObjectHead } from '../schema/records.js'
import type { BatchOp, Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { Checksums, CompleteMultipartUploadOptions, CompleteMultipartUploadResult, CompletedPart } from '../types.js'
import { multipartChecksum } from '../internal/checksums.js'
import { assertWriteConditions, bareEtag } from '../objects/conditions.js'
import { chunkDeletes } from '../objects/heads.js'
import { commitHead } from '../objects/commit.js'
import { encryptionInfo } from '../objects/fields.js'
import { noSuchUpload, readParts, readUpload, uploadLock } from './parts.js'
import { assertPartNumber } from '../validate.js'
import { abortUpload, uploadDeletes } from './abort.js'
import { completedBefore, completionOps, expiredCompletionOps, partListDigest } from './completions.js'

/**
 * Complete an upload in O(parts): the object's record points at the listed parts' chunks, and
 * one batch makes it visible, drops the upload and frees unlisted parts. No byte is copied.
 */
export async function completeMultipartUpload (ctx: Context, buckets: Buckets, bucketName: string, key: string, uploadId: string,
  parts: CompletedPart[], options: CompleteMultipartUploadOptions): Promise<CompleteMultipartUploadResult> {
  const where = { bucket: bucketName, key }
  const bucket = buckets.get(bucketName)
  assertWriteConditions(options, where)
  if (!Array.isArray(parts)) throw new TypeError('parts must be an array of { partNumber, etag }')
  const bucketId = bucket.record.id
  return await ctx.locks.run(uploadLock(uploadId), async () => {
    let upload
    try {
      upload = await readUpload(ctx, bucketId, where, uploadId)
    } catch (err) {
      // Completed already (an SDK's retry after a lost answer): the same list gets the same answer.
      const before = await completedBefore(ctx, bucketName, bucketId, key, uploadId, partListDigest(parts))
      if (before !== undefined) return before
      throw err
    }
    if (parts.length === 0) throw new SpaceboxError('InvalidRequest', 'You must specify at least one part', where)
    const listed: CompletedPart[] = []
    for (const part of parts) {
      assertPartNumber(part?.partNumber, where)
      const last = listed.at(-1)
      if (last !== undefined && part.partNumber < last.partNumber) {
        throw new SpaceboxError('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', where)
      }
      // A number listed twice (a part sent again while its first upload was in flight, both ETags
      // listed): the later entry stands, and must name the part that finished last, as in S3.
      if (last?.partNumber === part.partNumber) listed[listed.length - 1] = part
      else listed.push(part)
    }
    const stored = new Map((await readParts(ctx, upload.id)).map(p => [p.number, p]))
    const chosen = listed.map(part => {
      const record = stored.get(part.partNumber)
      if (record === undefined || typeof part.etag !== 'string' || bareEtag(part.etag) !== record.etag || !checksumsMatch(part.checksums, record.checksums)) {
        throw new SpaceboxError('InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', {
          ...where, detail: { partNumber: part.partNumber }
        })
      }
      return record
    })
    chosen.forEach((record, i) => {
      if (i < chosen.length - 1 && record.size < ctx.minPartSize) {
        throw new SpaceboxError('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
          ...where, detail: { partNumber: record.number, size: record.size, minSizeAllowed: ctx.minPartSize }
        })
      }
    })
    const md5 = createHash('md5')
    for (const record of chosen) md5.update(Buffer.from(record.etag, 'hex'))
    const checksums: Checksums = {}
    if (upload.checksumAlgorithm !== undefined && upload.checksumType !== undefined) {
      const value = multipartChecksum(upload.checksumAlgorithm, upload.checksumType, chosen)
      if (value !== undefined) checksums[upload.checksumAlgorithm] = value
    }
    const head: ObjectHead = {
      v: 1,
      etag: `${md5.digest('hex')}-${chosen.length}`,
      size: chosen.reduce((sum, record) => sum + record.size, 0),
      modified: ctx.now(),
      contentType: upload.contentType,
      headers: upload.headers,
      metadata: upload.metadata,
      checksums,
      segments: chosen.map(record => record.segment),
      ...(upload.enc === undefined ? {} : { enc: upload.enc }),
      ...(upload.acl === undefined ? {} : { acl: upload.acl }),
      ...(upload.tags === undefined ? {} : { tags: upload.tags }),
      ...(upload.storageClass === undefined ? {} : { storageClass: upload.storageClass })
    }
    const used = new Set(chosen)
    const cleanup: BatchOp[] = [
      ...uploadDeletes(ctx, bucketId, key, upload.id, [...stored.values()]),
      ...chunkDeletes(ctx, [...stored.values()].filter(record => !used.has(record)).map(record => record.segment)),
      ...await expiredCompletionOps(ctx)
    ]
    const conditions = { ...options }
    if (conditions.ifNoneMatch === undefined && upload.ifNoneMatch !== undefined) conditions.ifNoneMatch = upload.ifNoneMatch
    const encryption = encryptionInfo(upload.enc, bucket.record.region)
    const result: CompleteMultipartUploadResult = {
      bucket: bucketName, key, etag: `"${head.etag}"`, size: head.size, lastModified: new Date(head.modified), checksums: { ...checksums }, ...encryption
    }
    if (upload.checksumType !== undefined && Object.keys(checksums).length > 0) result.checksumType = upload.checksumType
    const digest = partListDigest(parts)
    // The answer is kept in the batch that completes: a retry finds it whenever the object is there.
    await commitHead(ctx, buckets, bucket, key, head, undefined, conditions, versionId => {
      if (versionId !== undefined) result.versionId = versionId
      return [...cleanup, ...completionOps(ctx, bucketId, upload.id, digest, result, encryption)]
    })
    return result
  })
}

/** Abort an upload: its record, its parts and their chunks go in one batch. NoSuchUpload. */
export async function abortMultipartUpload (ctx: Context, buckets: Buckets, bucketName: string, key: string, uploadId: string): Promise<void> {
  const bucketId = buckets.get(bucketName).record.id
  if (await abortUpload(ctx, bucketId, key, uploadId) === undefined) throw noSuchUpload({ bucket: bucketName, key }, uploadId)
}

/** Lenient, as clients now send part checksums unasked: only a checksum the part has must match. */
function checksumsMatch (given: Checksums | undefined, stored: Checksums): boolean {
  return Object.entries(given ?? {}).every(([algorithm, value]) => {
    const own = stored[algorithm as keyof Checksums]
    return own === undefined || own === value
  })
}
