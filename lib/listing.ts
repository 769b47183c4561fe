import { createHmac, timingSafeEqual } from 'node:crypto'
import { SpaceboxError } from './errors.js'
import { objectKey, objectKeyName, objectPrefixRange, upperBound } from './schema/keys.js'
import { decodeHead, isMarker } from './schema/records.js'
import type { Context } from './context.js'
import type { BucketState } from './bucket-state.js'
import type { ListObjectsOptions, ListObjectsResult, ListObjectsV2Options, ListObjectsV2Result, ObjectSummary } from './types.js'
import { compareUtf8 } from './internal/utf8.js'
import { walk, type WalkResult } from './walk.js'
import { storageClassOf } from './objects/storage-class.js'

export const MAX_KEYS = 1000

/**
 * A page of object summaries after `after`, under `prefix`, rolled up at `delimiter`. `scope`, a
 * longer prefix than `prefix`, clips the keys read (a prefix-scoped access key) while roll-ups
 * still count from `prefix`.
 */
async function page (ctx: Context, bucket: BucketState, prefix: string, delimiter: string | undefined,
  after: string | undefined, limit: number, fetchOwner: boolean, scope: string): Promise<WalkResult<ObjectSummary>> {
  const bucketId = bucket.record.id
  const bounds = scope.length > prefix.length ? scope : prefix
  const range = objectPrefixRange(bucketId, bounds)
  const start = after !== undefined && compareUtf8(after, bounds) >= 0 ? { gt: objectKey(bucketId, after) } : { gte: range.gte }
  return await walk({
    iterator: ctx.sub.objects.iterator({ ...start, lt: range.lt }),
    nameOf: objectKeyName,
    seekPast: commonPrefix => upperBound(objectKey(bucketId, commonPrefix)),
    item: (key, _, value) => summary(key, value, fetchOwner ? ctx.owner : undefined),
    hidden: isMarker,
    prefix,
    delimiter,
    after,
    limit,
    stats: ctx.stats
  })
}

function summary (key: string, value: Buffer, owner: ObjectSummary['owner']): ObjectSummary {
  const { head } = decodeHead(value)
  const out: ObjectSummary = { key, size: head.size, etag: `"${head.etag}"`, lastModified: new Date(head.modified), storageClass: storageClassOf(head) }
  if (owner !== undefined) out.owner = owner
  return out
}

/** A page size as given (maxKeys, maxParts, maxUploads): default and cap 1000, as S3. TypeError unless a number. */
export function pageSize (value: unknown, name: string, where: { bucket: string, key?: string }): number {
  if (value === undefined) return MAX_KEYS
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`)
  if (!Number.isSafeInteger(value) || value < 0) throw new SpaceboxError('InvalidArgument', `${name} must be a non-negative integer`, where)
  return Math.min(value as number, MAX_KEYS)
}

interface CommonOptions { prefix: string, delimiter: string | undefined, maxKeys: number }

/** Checks and defaults shared by both listing versions. */
function common (options: { prefix?: string, delimiter?: string, maxKeys?: number }, bucket: string): CommonOptions {
  const { prefix = '', delimiter } = options
  const maxKeys = pageSize(options.maxKeys, 'maxKeys', { bucket })
  optionalString(prefix, 'prefix')
  optionalString(delimiter, 'delimiter')
  return { prefix, delimiter: delimiter === '' ? undefined : delimiter, maxKeys }
}

/** A string option, undefined when absent or empty. TypeError for another type (the error rule: a wrong type is the caller's bug). */
export function optionalString (value: unknown, name: string): string | undefined {
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`)
  return value
}

/** S3 ListObjectsV2: pages continue by an opaque, tamper-evident token. */
export async function listObjectsV2 (ctx: Context, bucket: BucketState, options: ListObjectsV2Options, scope = ''): Promise<ListObjectsV2Result> {
  const name = bucket.record.name
  const { prefix, delimiter, maxKeys } = common(options, name)
  const startAfter = optionalString(options.startAfter, 'startAfter')
  const continuationToken = optionalString(options.continuationToken, 'continuationToken')
  const after = continuationToken !== undefined ? readToken(ctx, bucket, continuationToken) : startAfter
  const result: ListObjectsV2Result = { contents: [], commonPrefixes: [], isTruncated: false, keyCount: 0, maxKeys, prefix }
  if (delimiter !== undefined) result.delimiter = delimiter
  if (startAfter !== undefined) result.startAfter = startAfter
  if (continuationToken !== undefined) result.continuationToken = continuationToken
  if (maxKeys === 0) return result
  const found = await page(ctx, bucket, prefix, delimiter, after, maxKeys, options.fetchOwner === true, scope)
  result.contents = found.items
  result.commonPrefixes = found.commonPrefixes
  result.keyCount = found.items.length + found.commonPrefixes.length
  result.isTruncated = found.truncated
  if (found.truncated && found.last !== undefined) result.nextContinuationToken = makeToken(ctx, bucket, found.last.name)
  return result
}

/** S3 ListObjects (v1): pages continue after a marker; NextMarker only with a delimiter, as S3. */
export async function listObjects (ctx: Context, bucket: BucketState, options: ListObjectsOptions, scope = ''): Promise<ListObjectsResult> {
  const name = bucket.record.name
  const { prefix, delimiter, maxKeys } = common(options, name)
  const marker = optionalString(options.marker, 'marker')
  const result: ListObjectsResult = { contents: [], commonPrefixes: [], isTruncated: false, maxKeys, prefix, marker: marker ?? '' }
  if (delimiter !== undefined) result.delimiter = delimiter
  if (maxKeys === 0) return result
  const found = await page(ctx, bucket, prefix, delimiter, marker, maxKeys, true, scope)
  result.contents = found.items
  result.commonPrefixes = found.commonPrefixes
  result.isTruncated = found.truncated
  if (found.truncated && delimiter !== undefined && found.last !== undefined) result.nextMarker = found.last.name
  return result
}

/** Every object under `prefix`, page by page, each page read from its own snapshot. */
export async function * listAll (ctx: Context, bucket: BucketState, options: { prefix?: string, startAfter?: string }, scope = ''): AsyncGenerator<ObjectSummary> {
  const { prefix } = common(options, bucket.record.name)
  let after = optionalString(options.startAfter, 'startAfter')
  for (;;) {
    const found = await page(ctx, bucket, prefix, undefined, after, MAX_KEYS, false, scope)
    yield * found.items
    if (!found.truncated || found.last === undefined) return
    after = found.last.name
  }
}

// A token names the bucket (by id, so a token from a deleted namesake is foreign) and where the
// page ended, signed with the store's own key so that it cannot be forged or altered.
function makeToken (ctx: Context, bucket: BucketState, after: string): string {
  const payload = Buffer.from(JSON.stringify([bucket.record.id, after])).toString('base64url')
  return `${payload}.${sign(ctx, payload)}`
}

function readToken (ctx: Context, bucket: BucketState, token: string): string {
  const [payload = '', signature = '', extra] = token.split('.')
  const expected = Buffer.from(sign(ctx, payload))
  const given = Buffer.from(signature)
  if (extra === undefined && given.length === expected.length && timingSafeEqual(given, expected)) {
    const [bucketId, after] = JSON.parse(Buffer.from(payload, 'base64url').toString()) as [string, string]
    if (bucketId === bucket.record.id && typeof after === 'string') return after
  }
  throw new SpaceboxError('InvalidArgument', 'The continuation token provided is incorrect', { bucket: bucket.record.name })
}

function sign (ctx: Context, payload: string): string {
  return createHmac('sha256', ctx.tokenKey).update(payload).digest('base64url').slice(0, 22)
}
