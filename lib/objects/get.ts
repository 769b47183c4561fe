import { SpaceboxError } from '../errors.js'
import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { GetObjectOptions, GetObjectResult, ObjectInfo, ReadConditions } from '../types.js'
import { checkReadConditions } from './conditions.js'
import { toInfo } from './fields.js'
import { readHead, type StoredObject } from './heads.js'
import { resolveRange } from './range.js'
import { openBody } from './reader.js'

export function noSuchKey (bucket: string, key: string): SpaceboxError {
  return new SpaceboxError('NoSuchKey', 'The specified key does not exist.', { bucket, key })
}

async function storedObject (ctx: Context, bucketId: string, bucket: string, key: string): Promise<StoredObject> {
  const stored = await readHead(ctx, bucketId, key)
  if (stored === undefined) throw noSuchKey(bucket, key)
  return stored
}

export async function headObject (ctx: Context, buckets: Buckets, bucket: string, key: string, options: ReadConditions): Promise<ObjectInfo> {
  const { head } = await storedObject(ctx, buckets.get(bucket).record.id, bucket, key)
  checkReadConditions(head, options, { bucket, key })
  return toInfo(bucket, key, head)
}

/**
 * An inline object is answered from its record alone. A chunked one is read again under a
 * snapshot, which the body then streams from: the record and every chunk come from one
 * instant, whatever commits while the body is read.
 */
export async function getObject (ctx: Context, buckets: Buckets, bucket: string, key: string, options: GetObjectOptions): Promise<GetObjectResult> {
  const bucketId = buckets.get(bucket).record.id
  let stored = await storedObject(ctx, bucketId, bucket, key)
  const snapshot = stored.inline === undefined ? ctx.db.snapshot() : undefined
  try {
    if (snapshot !== undefined) {
      const again = await readHead(ctx, bucketId, key, snapshot)
      if (again === undefined) throw noSuchKey(bucket, key)
      stored = again
    }
    checkReadConditions(stored.head, options, { bucket, key })
    const range = resolveRange(options.range, stored.head.size, { bucket, key })
    const body = openBody(ctx, stored, range, snapshot)
    return { info: toInfo(bucket, key, stored.head), body, ...(range === undefined ? {} : { range }) }
  } catch (err) {
    await snapshot?.close()
    throw err
  }
}
