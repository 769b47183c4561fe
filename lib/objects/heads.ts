/**
 * Reading object records, and what replacing or deleting one involves: its lock and the deletes of
 * its chunks. A record is changed only under the object's lock (commit.ts, delete.ts).
 */
import type { AbstractSnapshot } from 'abstract-level'
import { chunkKey, objectKey } from '../schema/keys.js'
import { chunkCount, decodeHead, type ObjectHead, type Segment } from '../schema/records.js'
import type { BatchOp, Context } from '../context.js'
import { frees } from '../storage/space.js'

export interface StoredObject {
  head: ObjectHead
  inline: Buffer | undefined
  /** The record as stored. */
  raw: Buffer
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
  return value === undefined ? undefined : { ...decodeHead(value), raw: value }
}

/**
 * Batch operations deleting every chunk of an object version (or part). Every delete of stored
 * bytes is built here: the first delete of a segment carries its size, counted (and its range
 * handed to compaction) once the batch commits.
 */
export function chunkDeletes (ctx: Context, segments: Segment[] | undefined): BatchOp[] {
  const ops: BatchOp[] = []
  for (const segment of segments ?? []) {
    if (segment.file !== undefined) {
      // Its file goes once the batch is written (storage/space.ts hands it to storage/files.ts).
      ops.push(frees({ type: 'put', sublevel: ctx.sub.dead, key: segment.id, value: '' }, segment.size))
      continue
    }
    for (let i = 0, n = chunkCount(segment); i < n; i++) {
      const op: BatchOp = { type: 'del', sublevel: ctx.sub.chunks, key: chunkKey(segment.id, i) }
      ops.push(i === 0 ? frees(op, segment.size) : op)
    }
  }
  return ops
}

/** The lock every change of one object's record holds. */
export function objectLock (bucketId: string, key: string): string {
  return `object\0${bucketId}\0${key}`
}
