/**
 * What a bucket makes public, and why, for `box.publicAccess()`: its ACL, the policy statements
 * that let anyone in, and the versions whose ACL is public, read a page at a time from the index
 * the writes keep (schema/keys.ts), so the cost follows the page, not the bucket.
 */
import type { Context } from './context.js'
import type { Buckets } from './buckets.js'
import { SpaceboxError } from './errors.js'
import { objectKey, publicKey, publicKeyParts, upperBound } from './schema/keys.js'
import type { CannedAcl, PublicAccess, PublicAccessOptions } from './types.js'
import { publicStatements } from './access/bucket-policy.js'
import { pageSize } from './listing.js'

export async function publicAccess (ctx: Context, buckets: Buckets, bucket: string, options: PublicAccessOptions): Promise<PublicAccess> {
  const state = buckets.get(bucket)
  const max = pageSize(options.maxObjects, 'maxObjects', { bucket })
  const bucketId = state.record.id
  const access = buckets.access(bucket)
  const result: PublicAccess = {
    bucket,
    acl: state.record.acl ?? 'private',
    policy: access?.policy === undefined || access.policy === null ? [] : publicStatements(access.policy),
    objects: [],
    isTruncated: false
  }
  if (max === 0) return result
  const range = { gt: objectKey(bucketId, ''), lt: upperBound(objectKey(bucketId, '')), limit: max + 1 }
  if (options.startAfter !== undefined) {
    if (typeof options.startAfter !== 'string') throw new TypeError('startAfter must be a string')
    range.gt = startAfter(bucketId, options.startAfter, bucket)
  }
  for await (const [stored, acl] of ctx.sub.public.iterator(range)) {
    const { key, versionId } = publicKeyParts(stored)
    if (result.objects.length === max) {
      result.isTruncated = true
      const last = result.objects[max - 1] as { key: string, versionId: string }
      result.nextStartAfter = `${last.key}\0${last.versionId}`
      break
    }
    result.objects.push({ key, versionId, acl: acl as CannedAcl })
  }
  return result
}

/** `key` alone resumes after every version of it; `key` U+0000 `versionId` after that version. */
function startAfter (bucketId: string, marker: string, bucket: string): Buffer {
  const at = marker.indexOf('\0')
  if (at === -1) return upperBound(Buffer.concat([objectKey(bucketId, marker), Buffer.from([0])]))
  const versionId = marker.slice(at + 1)
  if (!/^[\x21-\x7e]{1,32}$/.test(versionId)) throw new SpaceboxError('InvalidArgument', 'startAfter names no version', { bucket })
  return publicKey(bucketId, marker.slice(0, at), versionId)
}
