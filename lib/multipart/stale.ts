import { uploadKeyParts, uploadPrefixRange } from '../schema/keys.js'
import type { UploadRecord } from '../schema/records.js'
import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { AbortedUpload, AbortIncompleteUploadsOptions, AbortIncompleteUploadsResult } from '../types.js'
import { optionalString } from '../listing.js'
import { abortUpload } from './abort.js'

/** Uploads read per step: a bucket of many uploads is walked in bounded pieces, never loaded whole. */
const PAGE = 500

/**
 * Abort a bucket's uploads initiated at or before a cutoff, one at a time as AbortMultipartUpload
 * does (each in its own batch: a crash part way leaves the rest whole). `scope` clips the keys read,
 * as for listings; `allowed`, a scoped caller's write on each key, is asked just before its abort,
 * and a refusal leaves that upload in place, reported in `denied`. An upload completed or aborted
 * meanwhile is passed over. `dryRun` changes nothing and reports what would be aborted.
 */
export async function abortIncompleteUploads (ctx: Context, buckets: Buckets, bucketName: string, options: AbortIncompleteUploadsOptions,
  scope = '', allowed?: (key: string) => boolean): Promise<AbortIncompleteUploadsResult> {
  const bucketId = buckets.get(bucketName).record.id
  const cutoff = cutoffOf(options.olderThan, ctx.now())
  const prefix = optionalString(options.prefix, 'prefix') ?? ''
  const range = uploadPrefixRange(bucketId, scope.length > prefix.length ? scope : prefix)
  const result: AbortIncompleteUploadsResult = { aborted: [], denied: [] }
  let start: { gte: Buffer } | { gt: Buffer } = { gte: range.gte }
  for (;;) {
    const page: Array<[Buffer, unknown]> = await ctx.sub.uploads.iterator({ ...start, lt: range.lt, limit: PAGE }).all()
    for (const [stored, value] of page) {
      const record = value as UploadRecord
      if (record.initiated > cutoff) continue
      const { key } = uploadKeyParts(stored)
      const upload: AbortedUpload = { key, uploadId: record.id, initiated: new Date(record.initiated) }
      if (allowed !== undefined && !allowed(key)) result.denied.push(upload)
      else if (options.dryRun === true || await abortUpload(ctx, bucketId, key, record.id) !== undefined) result.aborted.push(upload)
    }
    const last = page[page.length - 1]
    if (last === undefined || page.length < PAGE) return result
    start = { gt: last[0] }
  }
}

/** The latest initiation time that counts as stale: `olderThan` ms before now, or the Date itself. */
function cutoffOf (olderThan: unknown, now: number): number {
  if (olderThan instanceof Date && !Number.isNaN(olderThan.getTime())) return olderThan.getTime()
  if (typeof olderThan === 'number' && Number.isFinite(olderThan) && olderThan >= 0) return now - olderThan
  throw new TypeError('olderThan must be a number of milliseconds (0 or more) or a valid Date')
}
