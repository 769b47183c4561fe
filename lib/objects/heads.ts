/**
 * Reading and switching object records. A record is replaced only under the object's lock, in
 * one batch that also deletes the chunks of the version it replaces: a reader holding a snapshot
 * keeps seeing the old version whole, and no chunk is ever left without a record.
 */
import type { AbstractSnapshot } from 'abstract-level'
import { chunkKey, objectKey } from '../schema/keys.js'
import { chunkCount, decodeHead, encodeHead, type ObjectHead, type Segment } from '../schema/records.js'
import type { BatchOp, Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { BucketState } from '../bucket-state.js'
import type { WriteConditions } from '../types.js'
import { checkWriteConditions } from './conditions.js'
import { checkAtCommit } from '../internal/view-options.js'

export interface StoredObject {
  head: ObjectHead
  inline: Buffer | undefined
}

/**
 * An object's record. Records are small and their blocks hot, so where the database can read
 * synchronously (classic-level and memory-level can) this skips the round trip through the thread
 * pool, which costs more than the read itself.
 */
export async function readHead (ctx: Context, bucketId: string, key: string, snapshot?: AbstractSnapshot): Promise<StoredObject | undefined> {
  const options = snapshot === undefined ? {} : { snapshot }
  const stored = objectKey(bucketId, key)
  const value = ctx.syncReads ? ctx.sub.objects.getSync(stored, options) : await ctx.sub.objects.get(stored, options)
  return value === undefined ? undefined : decodeHead(value)
}

/** Batch operations deleting every chunk of an object version. */
export function chunkDeletes (ctx: Context, segments: Segment[] | undefined): BatchOp[] {
  const ops: BatchOp[] = []
  for (const segment of segments ?? []) {
    for (let i = 0, n = chunkCount(segment); i < n; i++) {
      ops.push({ type: 'del', sublevel: ctx.sub.chunks, key: chunkKey(segment.id, i) })
    }
  }
  return ops
}

/** The lock every change of one object's record holds. */
export function objectLock (bucketId: string, key: string): string {
  return `object\0${bucketId}\0${key}`
}

/**
 * Make `head` the object at `key`, if the write conditions hold against the current one and the
 * conditions' commit check (the writer's authorisation) passes.
 * The new segments stop being pending in the same batch, which also carries `extra` (a completed
 * upload's records). Returns the replaced record.
 */
export async function commitHead (ctx: Context, buckets: Buckets, bucket: BucketState, key: string,
  head: ObjectHead, inline: Buffer | undefined, conditions: WriteConditions, extra: BatchOp[] = []): Promise<ObjectHead | undefined> {
  const bucketId = bucket.record.id
  return await buckets.commit(bucket, async () => await ctx.locks.run(objectLock(bucketId, key), async () => {
    const current = await readHead(ctx, bucketId, key)
    checkWriteConditions(current?.head, conditions, { bucket: bucket.record.name, key })
    const encoded = encodeHead(head, inline)
    const ops: BatchOp[] = [{ type: 'put', sublevel: ctx.sub.objects, key: objectKey(bucketId, key), value: encoded }]
    for (const segment of head.segments ?? []) ops.push({ type: 'del', sublevel: ctx.sub.pending, key: segment.id })
    ops.push(...chunkDeletes(ctx, current?.head.segments), ...extra)
    checkAtCommit(conditions)
    // A lone record write skips the batch machinery: the common case of a small put.
    if (ops.length === 1) await ctx.sub.objects.put(objectKey(bucketId, key), encoded, ctx.write)
    else await ctx.db.batch(ops, ctx.write)
    return current?.head
  }))
}

/** Delete the object at `key` with its chunks. Returns whether there was one. */
export async function deleteHead (ctx: Context, bucketId: string, key: string): Promise<boolean> {
  return await ctx.locks.run(objectLock(bucketId, key), async () => {
    const current = await readHead(ctx, bucketId, key)
    if (current === undefined) return false
    const ops: BatchOp[] = [{ type: 'del', sublevel: ctx.sub.objects, key: objectKey(bucketId, key) }, ...chunkDeletes(ctx, current.head.segments)]
    await ctx.db.batch(ops, ctx.write)
    return true
  })
}
