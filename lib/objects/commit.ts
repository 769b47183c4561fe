/**
 * The last step of every write: make a record the current version of its key, in one batch under
 * the object's lock, if the write conditions hold and the writer may still write (the scoped view's
 * commit check). The batch also clears the new segments' pending marks and, where the bucket's
 * versioning replaces a version, deletes its chunks: a reader holding a snapshot keeps the old
 * version whole, and no chunk is ever left without a record. put, copy and complete all end here.
 */
import type { ObjectEncryption, ObjectHead } from '../schema/records.js'
import type { BatchOp, Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { BucketState } from '../bucket-state.js'
import type { WriteConditions } from '../types.js'
import { checkWriteConditions } from './conditions.js'
import { objectLock, readHead } from './heads.js'
import type { Received } from './receive.js'
import { checkAtCommit } from '../internal/view-options.js'
import { reportedId, supersede } from './versions.js'

/**
 * Make `head` the current version at `key`, if the write conditions hold against the current one
 * (a delete marker counts as no object) and the conditions' commit check (the writer's
 * authorisation) passes. The new segments stop being pending in the same batch, which also
 * carries `extra` (a completed upload's records, which may name the version id). Returns the
 * version id to report, if any.
 */
export async function commitHead (ctx: Context, buckets: Buckets, bucket: BucketState, key: string,
  head: ObjectHead, inline: Buffer | undefined, conditions: WriteConditions, extra: BatchOp[] | ((versionId: string | undefined) => BatchOp[]) = []): Promise<string | undefined> {
  const bucketId = bucket.record.id
  return await buckets.commit(bucket, async () => await ctx.locks.run(objectLock(bucketId, key), async () => {
    const current = await readHead(ctx, bucketId, key)
    checkWriteConditions(current?.head.marker === true ? undefined : current?.head, conditions, { bucket: bucket.record.name, key })
    const state = bucket.record.versioning
    const ops = await supersede(ctx, bucketId, key, state, current, head, inline)
    for (const segment of head.segments ?? []) ops.push({ type: 'del', sublevel: ctx.sub.pending, key: segment.id })
    const versionId = reportedId(state, head)
    ops.push(...(typeof extra === 'function' ? extra(versionId) : extra))
    checkAtCommit(conditions, { acl: head.acl })
    // Asked before the batch ends the segments' pending marks; counted once it is written.
    const fresh = ctx.space.freshBytes(head, inline)
    // A lone record write skips the batch machinery: the common case of a small put.
    const first = ops[0] as { key: Buffer, value: Buffer }
    if (ops.length === 1) await ctx.sub.objects.put(first.key, first.value, ctx.write)
    else await ctx.db.batch(ops, ctx.write)
    ctx.space.add(fresh)
    return versionId
  }))
}

/**
 * Make a received body the object at `key`: its record (ETag, size, checksums, the given headers
 * and encryption) is committed, or on failure the received bytes are removed. Returns the record and its reported version id.
 */
export async function commitReceived (ctx: Context, buckets: Buckets, bucket: BucketState, key: string, received: Received,
  fields: Pick<ObjectHead, 'contentType' | 'headers' | 'metadata'>, enc: ObjectEncryption | undefined, conditions: WriteConditions): Promise<{ head: ObjectHead, versionId: string | undefined }> {
  const { written } = received
  const head: ObjectHead = {
    v: 1,
    etag: received.md5.toString('hex'),
    size: written.size,
    modified: ctx.now(),
    ...fields,
    checksums: received.checksums,
    ...(written.segment === undefined ? {} : { segments: [written.segment] }),
    ...(enc === undefined ? {} : { enc })
  }
  try {
    return { head, versionId: await commitHead(ctx, buckets, bucket, key, head, written.inline, conditions) }
  } catch (err) {
    await received.discard()
    throw err
  }
}
