/**
 * Taking an upload away: its record, its parts and their chunks in one batch, under the upload's
 * lock, so a part committing meanwhile either lands before (and goes too) or finds the upload gone
 * (and discards its bytes). A crash leaves the upload whole or gone, never a part without it.
 * AbortMultipartUpload, the stale-upload sweep and DeleteBucket all end here.
 */
import { partKey, partRange, uploadKey } from '../schema/keys.js'
import type { PartRecord, UploadRecord } from '../schema/records.js'
import type { BatchOp, Context } from '../context.js'
import { chunkDeletes } from '../objects/heads.js'

const UPLOAD_ID = /^[0-9a-f]{24}$/

/** Whether `id` has the shape of an upload id (anything else names no upload). */
export function isUploadId (id: unknown): id is string {
  return typeof id === 'string' && UPLOAD_ID.test(id)
}

/** The lock every change of one upload (a part, completion, abort) holds. */
export function uploadLock (uploadId: string): string {
  return `upload\0${uploadId}`
}

/** Batch operations deleting an upload's record and its part records (not their chunks). */
export function uploadDeletes (ctx: Context, bucketId: string, key: string, uploadId: string, parts: PartRecord[]): BatchOp[] {
  return [
    { type: 'del', sublevel: ctx.sub.uploads, key: uploadKey(bucketId, key, uploadId) },
    ...parts.map((part): BatchOp => ({ type: 'del', sublevel: ctx.sub.parts, key: partKey(uploadId, part.number) }))
  ]
}

/** Remove an upload and everything it holds; its record, or undefined when there was no such upload. */
export async function abortUpload (ctx: Context, bucketId: string, key: string, uploadId: string): Promise<UploadRecord | undefined> {
  if (!isUploadId(uploadId)) return undefined
  return await ctx.locks.run(uploadLock(uploadId), async () => {
    const upload = await ctx.sub.uploads.get(uploadKey(bucketId, key, uploadId)) as UploadRecord | undefined
    if (upload === undefined) return undefined
    const parts = await ctx.sub.parts.values(partRange(uploadId)).all() as PartRecord[]
    await ctx.db.batch([...uploadDeletes(ctx, bucketId, key, uploadId, parts), ...chunkDeletes(ctx, parts.map(part => part.segment))], ctx.write)
    return upload
  })
}
