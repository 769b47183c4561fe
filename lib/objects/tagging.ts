/**
 * An object version's tags, read and replaced in place as S3's `?tagging` calls do: the version
 * keeps its id, bytes and place; only its record changes, rewritten under its lock.
 */
import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import { encodeHead } from '../schema/records.js'
import type { ObjectTagging } from '../types.js'
import { tagsOf, type StoredTags } from '../tags.js'
import { objectLock } from './heads.js'
import { locate } from './acl.js'
import { checkVersionId, readVersion, reportedId } from './versions.js'

/**
 * S3 PutObjectTagging, with tags already checked; undefined removes them (DeleteObjectTagging).
 * NoSuchBucket, NoSuchKey, NoSuchVersion, MethodNotAllowed (a delete marker), InvalidArgument.
 */
export async function setObjectTags (ctx: Context, buckets: Buckets, bucket: string, key: string,
  tags: StoredTags | undefined, versionId: string | undefined): Promise<{ versionId?: string }> {
  const where = { bucket, key }
  checkVersionId(versionId, where)
  const state = buckets.get(bucket)
  const bucketId = state.record.id
  return await buckets.commit(state, async () => await ctx.locks.run(objectLock(bucketId, key), async () => {
    const found = await locate(ctx, bucketId, where, versionId)
    // Removing tags a version does not have writes nothing.
    if (tags !== undefined || found.head.tags !== undefined) {
      const head = { ...found.head }
      if (tags === undefined) delete head.tags
      else head.tags = tags
      await (found.current ? ctx.sub.objects : ctx.sub.versions).put(found.stored, encodeHead(head, found.inline), ctx.write)
    }
    const id = reportedId(state.record.versioning, found.head)
    return id === undefined ? {} : { versionId: id }
  }))
}

/** S3 GetObjectTagging: the version's tags (none is an empty set, not an error). */
export async function getObjectTagging (ctx: Context, buckets: Buckets, bucket: string, key: string, versionId: string | undefined): Promise<ObjectTagging> {
  const where = { bucket, key }
  const state = buckets.get(bucket)
  const { head } = await readVersion(ctx, state.record.id, where, checkVersionId(versionId, where))
  const result: ObjectTagging = { tags: tagsOf(head.tags) }
  const id = reportedId(state.record.versioning, head)
  if (id !== undefined) result.versionId = id
  return result
}
