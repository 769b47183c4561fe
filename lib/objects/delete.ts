import { isSpaceboxError } from '../errors.js'
import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { BucketState } from '../bucket-state.js'
import type { DeletedObject, DeleteObjectResult, DeleteObjectsResult, ObjectIdentifier } from '../types.js'
import { assertObjectKey } from '../validate.js'
import { objectLock, readHead } from './heads.js'
import { objectKey } from '../schema/keys.js'
import { checkVersionId, idOf, markerHead, removeVersion, supersede, versionGone } from './versions.js'

export const MAX_DELETE_KEYS = 1000

/**
 * Delete a key as S3 does. With `versionId`, that version (or delete marker) goes for good, and
 * the next newest becomes current. Without, a versioned bucket gets a delete marker (Enabled: a
 * new version; Suspended: the null version, replacing it) and an unversioned one loses the object.
 * Deleting what does not exist succeeds.
 */
export async function deleteObject (ctx: Context, buckets: Buckets, bucket: string, key: string, versionId?: string): Promise<DeleteObjectResult> {
  checkVersionId(versionId, { bucket, key })
  return await deleteIn(ctx, buckets, buckets.get(bucket), key, versionId)
}

async function deleteIn (ctx: Context, buckets: Buckets, bucket: BucketState, key: string, versionId: string | undefined): Promise<DeleteObjectResult> {
  const bucketId = bucket.record.id
  // Through the bucket's commit: a delete marker is a record, and must not outlive its bucket.
  return await buckets.commit(bucket, async () => await ctx.locks.run(objectLock(bucketId, key), async () => {
    if (versionId !== undefined) {
      const { ops, found } = await removeVersion(ctx, bucketId, key, versionId)
      if (ops.length > 0) await ctx.db.batch(ops, ctx.write)
      return found?.head.marker === true ? { versionId, deleteMarker: true } : { versionId }
    }
    const current = await readHead(ctx, bucketId, key)
    const state = bucket.record.versioning
    if (state === undefined) {
      if (current !== undefined) {
        await ctx.db.batch([{ type: 'del', sublevel: ctx.sub.objects, key: objectKey(bucketId, key) }, ...versionGone(ctx, bucketId, key, current.head)], ctx.write)
      }
      return {}
    }
    const marker = markerHead(ctx.now())
    await ctx.db.batch(await supersede(ctx, bucketId, key, state, current, marker, undefined), ctx.write)
    return { versionId: idOf(marker), deleteMarker: true }
  }))
}

/** One result per entry: an invalid key or version id is reported in `errors` and does not stop the others. */
export async function deleteObjects (ctx: Context, buckets: Buckets, bucket: string, objects: Array<string | ObjectIdentifier>): Promise<DeleteObjectsResult> {
  const state = buckets.get(bucket)
  const result: DeleteObjectsResult = { deleted: [], errors: [] }
  for (const entry of objects) {
    const { key, versionId } = typeof entry === 'string' ? { key: entry, versionId: undefined } : entry
    try {
      assertObjectKey(key, bucket)
      checkVersionId(versionId, { bucket, key })
      const done = await deleteIn(ctx, buckets, state, key, versionId)
      const deleted: DeletedObject = { key }
      if (versionId !== undefined) deleted.versionId = versionId
      if (done.deleteMarker === true) {
        deleted.deleteMarker = true
        deleted.deleteMarkerVersionId = done.versionId as string
      }
      result.deleted.push(deleted)
    } catch (err) {
      if (!isSpaceboxError(err)) throw err
      result.errors.push({ key: String(key), ...(versionId === undefined ? {} : { versionId: String(versionId) }), code: err.code, message: err.message })
    }
  }
  return result
}
