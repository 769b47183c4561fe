/**
 * What each completed upload answered, kept a day: an SDK that lost the answer to its
 * CompleteMultipartUpload sends the same request again, and S3 answers that retry with the same
 * success (ETag, checksums, version) rather than NoSuchUpload for an upload that is gone. Only the
 * same part list is answered; every other call on the upload id stays NoSuchUpload.
 */
import { createHash } from 'node:crypto'
import type { BatchOp, Context } from '../context.js'
import { DAY_MS, completionAgeId, completionAgeKey, completionKey, completionsBefore } from '../schema/keys.js'
import type { CompletionRecord } from '../schema/records.js'
import type { CompleteMultipartUploadResult, CompletedPart, EncryptionInfo } from '../types.js'
import { bareEtag } from '../objects/conditions.js'

export const COMPLETION_KEPT_MS = DAY_MS

/** Expired records each completion removes: more than it adds, so they never pile up. */
const SWEEP = 4

/** A digest of a part list as sent: numbers and ETags, in order. */
export function partListDigest (parts: readonly CompletedPart[]): string {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(`${String(part?.partNumber)}:${typeof part?.etag === 'string' ? bareEtag(part.etag) : ''}\n`)
  return hash.digest('base64url')
}

/** Operations that record a completion, in the batch that commits it. */
export function completionOps (ctx: Context, bucketId: string, uploadId: string, digest: string, result: CompleteMultipartUploadResult, encryption: EncryptionInfo): BatchOp[] {
  const at = ctx.now()
  const { etag, size, lastModified, checksums, checksumType, versionId } = result
  const record: CompletionRecord = {
    v: 1,
    bucketId,
    key: result.key,
    at,
    parts: digest,
    etag,
    size,
    lastModified: lastModified.getTime(),
    checksums,
    encryption,
    ...(checksumType === undefined ? {} : { checksumType }),
    ...(versionId === undefined ? {} : { versionId })
  }
  return [
    { type: 'put', sublevel: ctx.sub.done, key: completionKey(uploadId), value: record },
    { type: 'put', sublevel: ctx.sub.done, key: completionAgeKey(at, uploadId), value: '' }
  ]
}

/** Operations that drop a few records past their day, with their index entries: each completion carries some. */
export async function expiredCompletionOps (ctx: Context): Promise<BatchOp[]> {
  const ops: BatchOp[] = []
  for (const aged of await ctx.sub.done.keys({ ...completionsBefore(ctx.now() - COMPLETION_KEPT_MS + 1), limit: SWEEP }).all()) {
    ops.push({ type: 'del', sublevel: ctx.sub.done, key: aged }, { type: 'del', sublevel: ctx.sub.done, key: completionKey(completionAgeId(aged)) })
  }
  return ops
}

/** The answer a completion of this upload gave, if it was completed with the same part list within a day. */
export async function completedBefore (ctx: Context, bucketName: string, bucketId: string, key: string, uploadId: string, digest: string): Promise<CompleteMultipartUploadResult | undefined> {
  const record = await ctx.sub.done.get(completionKey(uploadId)) as CompletionRecord | undefined
  if (record === undefined || record.bucketId !== bucketId || record.key !== key || record.parts !== digest || record.at + COMPLETION_KEPT_MS <= ctx.now()) return undefined
  return {
    bucket: bucketName,
    key,
    etag: record.etag,
    size: record.size,
    lastModified: new Date(record.lastModified),
    checksums: { ...record.checksums },
    ...record.encryption,
    ...(record.checksumType === undefined ? {} : { checksumType: record.checksumType }),
    ...(record.versionId === undefined ? {} : { versionId: record.versionId })
  }
}
