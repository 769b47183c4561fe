import { isSpaceboxError } from '../errors.js'
import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { DeleteObjectsResult } from '../types.js'
import { assertObjectKey } from '../validate.js'
import { deleteHead } from './heads.js'

export const MAX_DELETE_KEYS = 1000

/** Deleting a key that does not exist succeeds, as in S3. */
export async function deleteObject (ctx: Context, buckets: Buckets, bucket: string, key: string): Promise<void> {
  await deleteHead(ctx, buckets.get(bucket).record.id, key)
}

/** One result per key: an invalid key is reported in `errors` and does not stop the others. */
export async function deleteObjects (ctx: Context, buckets: Buckets, bucket: string, keys: string[]): Promise<DeleteObjectsResult> {
  const bucketId = buckets.get(bucket).record.id
  const result: DeleteObjectsResult = { deleted: [], errors: [] }
  for (const key of keys) {
    try {
      assertObjectKey(key, bucket)
      await deleteHead(ctx, bucketId, key)
      result.deleted.push(key)
    } catch (err) {
      if (!isSpaceboxError(err)) throw err
      result.errors.push({ key: String(key), code: err.code, message: err.message })
    }
  }
  return result
}
