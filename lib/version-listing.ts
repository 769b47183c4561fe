/**
 * ListObjectVersions: every version and delete marker of a bucket, by key, newest first within a
 * key. It reads `objects` (current versions) and `versions` (noncurrent ones) as one ordered
 * stream: a key's `objects` key is a prefix of its `versions` keys, and the separator after it is
 * the lowest byte, so byte order alone puts a key's current version first, then its noncurrent
 * ones newest first, then the next key. Roll-ups seek both at once, as object listings do.
 */
import type { AbstractIterator } from 'abstract-level'
import { SpaceboxError } from './errors.js'
import { ID_LENGTH, objectKey, objectPrefixRange, upperBound, versionsOfKey, type AnyLevel } from './schema/keys.js'
import { decodeHead } from './schema/records.js'
import type { Context } from './context.js'
import type { BucketState } from './bucket-state.js'
import type { ListObjectVersionsOptions, ListObjectVersionsResult, ObjectVersion, Owner } from './types.js'
import type { ChecksumAlgorithm } from './internal/checksums.js'
import { compareUtf8 } from './internal/utf8.js'
import { MAX_KEYS, optionalString, pageSize } from './listing.js'
import { walk, type WalkIterator, type WalkResult } from './walk.js'
import { checkVersionId, findVersion, idOf } from './objects/versions.js'
import { storageClassOf } from './objects/storage-class.js'

interface Entry {
  raw: Buffer
  latest: boolean
}

// Read ahead per side: enough to amortise the native call, small enough that a seek wastes little.
const READ_AHEAD = 64

class Side {
  buffer: Array<[Buffer, Buffer]> = []
  at = 0
  done = false

  constructor (readonly iterator: AbstractIterator<AnyLevel, Buffer, Buffer>, readonly latest: boolean) {}

  async peek (): Promise<[Buffer, Buffer] | undefined> {
    if (this.at === this.buffer.length) {
      if (this.done) return undefined
      this.buffer = await this.iterator.nextv(READ_AHEAD)
      this.at = 0
      if (this.buffer.length === 0) {
        this.done = true
        return undefined
      }
    }
    return this.buffer[this.at]
  }

  seek (target: Buffer): void {
    this.iterator.seek(target)
    this.buffer = []
    this.at = 0
    this.done = false
  }
}

/** The current and noncurrent versions as one iterator, in byte order of their keys. */
class Merged implements WalkIterator<Entry> {
  readonly #sides: [Side, Side]

  constructor (current: Side, noncurrent: Side) {
    this.#sides = [current, noncurrent]
  }

  async next (): Promise<[Buffer, Entry] | undefined> {
    const [current, noncurrent] = this.#sides
    const a = await current.peek()
    const b = await noncurrent.peek()
    if (a === undefined && b === undefined) return undefined
    const side = b === undefined || (a !== undefined && Buffer.compare(a[0], b[0]) < 0) ? current : noncurrent
    const [key, raw] = side.buffer[side.at++] as [Buffer, Buffer]
    return [key, { raw, latest: side.latest }]
  }

  async nextv (size: number): Promise<Array<[Buffer, Entry]>> {
    const out: Array<[Buffer, Entry]> = []
    while (out.length < size) {
      const entry = await this.next()
      if (entry === undefined) break
      out.push(entry)
    }
    return out
  }

  seek (target: Buffer): void {
    for (const side of this.#sides) side.seek(target)
  }

  async close (): Promise<void> {
    await Promise.all(this.#sides.map(async side => { await side.iterator.close() }))
  }
}

/** The object key of an `objects` or `versions` key: up to the separator, if any. */
function nameOf (stored: Buffer): string {
  const end = stored.indexOf(0, ID_LENGTH)
  return stored.toString('utf8', ID_LENGTH, end < 0 ? stored.length : end)
}

function toVersion (key: string, { raw, latest }: Entry, owner: Owner): ObjectVersion {
  const { head } = decodeHead(raw)
  const out: ObjectVersion = { key, versionId: idOf(head), isLatest: latest, lastModified: new Date(head.modified), deleteMarker: head.marker === true, owner }
  if (head.marker === true) return out
  out.etag = `"${head.etag}"`
  out.size = head.size
  out.storageClass = storageClassOf(head)
  const algorithms = Object.keys(head.checksums) as ChecksumAlgorithm[]
  if (algorithms.length > 0) out.checksumAlgorithm = algorithms
  return out
}

/**
 * A page of versions under `prefix`, rolled up at `delimiter`, after (`keyMarker`,
 * `versionIdMarker`). `scope`, a longer prefix, clips what is read (a prefix-scoped key).
 */
async function page (ctx: Context, bucket: BucketState, prefix: string, delimiter: string | undefined,
  keyMarker: string | undefined, versionIdMarker: string | undefined, limit: number, scope: string): Promise<WalkResult<ObjectVersion>> {
  const bucketId = bucket.record.id
  const bounds = scope.length > prefix.length ? scope : prefix
  const range = objectPrefixRange(bucketId, bounds)
  let currentStart: { gte: Buffer } | { gt: Buffer } = { gte: range.gte }
  let noncurrentStart: { gte: Buffer } | { gt: Buffer } = { gte: range.gte }
  if (keyMarker !== undefined && compareUtf8(keyMarker, bounds) >= 0) {
    const marker = objectKey(bucketId, keyMarker)
    currentStart = { gt: marker }
    noncurrentStart = { gte: versionsOfKey(bucketId, keyMarker).lt }
    const found = versionIdMarker === undefined ? undefined : await findVersion(ctx, bucketId, keyMarker, versionIdMarker)
    if (found !== undefined) noncurrentStart = { gt: found.current ? marker : found.stored }
  }
  const owner = ctx.owner
  return await walk<ObjectVersion, Entry>({
    iterator: new Merged(
      new Side(ctx.sub.objects.iterator({ ...currentStart, lt: range.lt }), true),
      new Side(ctx.sub.versions.iterator({ ...noncurrentStart, lt: range.lt }), false)
    ),
    nameOf,
    seekPast: commonPrefix => upperBound(objectKey(bucketId, commonPrefix)),
    item: (key, _, entry) => toVersion(key, entry, owner),
    prefix,
    delimiter,
    after: keyMarker,
    limit,
    stats: ctx.stats
  })
}

function checkOptions (options: ListObjectVersionsOptions, bucket: string): {
  prefix: string, delimiter: string | undefined, keyMarker: string | undefined, versionIdMarker: string | undefined, maxKeys: number
} {
  const maxKeys = pageSize(options.maxKeys, 'maxKeys', { bucket })
  const prefix = optionalString(options.prefix, 'prefix') ?? ''
  const delimiter = optionalString(options.delimiter, 'delimiter')
  const keyMarker = optionalString(options.keyMarker, 'keyMarker')
  const versionIdMarker = optionalString(options.versionIdMarker, 'versionIdMarker')
  if (versionIdMarker !== undefined && keyMarker === undefined) {
    throw new SpaceboxError('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', {
      bucket, detail: { argumentName: 'version-id-marker', argumentValue: versionIdMarker }
    })
  }
  checkVersionId(versionIdMarker, { bucket }, 'versionIdMarker', 'version-id-marker')
  return { prefix, delimiter, keyMarker, versionIdMarker, maxKeys }
}

/** S3 ListObjectVersions. NoSuchBucket, InvalidArgument. */
export async function listObjectVersions (ctx: Context, bucket: BucketState, options: ListObjectVersionsOptions, scope = ''): Promise<ListObjectVersionsResult> {
  const { prefix, delimiter, keyMarker, versionIdMarker, maxKeys } = checkOptions(options, bucket.record.name)
  const result: ListObjectVersionsResult = {
    versions: [], commonPrefixes: [], isTruncated: false, keyMarker: keyMarker ?? '', versionIdMarker: versionIdMarker ?? '', maxKeys, prefix
  }
  if (delimiter !== undefined) result.delimiter = delimiter
  if (maxKeys === 0) return result
  const found = await page(ctx, bucket, prefix, delimiter, keyMarker, versionIdMarker, maxKeys, scope)
  result.versions = found.items
  result.commonPrefixes = found.commonPrefixes
  result.isTruncated = found.truncated
  if (found.truncated && found.last !== undefined) {
    result.nextKeyMarker = found.last.name
    if (found.last.item !== undefined) result.nextVersionIdMarker = found.last.item.versionId
  }
  return result
}

/** Every version and delete marker under a prefix, in listing order, a page at a time. */
export async function * listAllVersions (ctx: Context, bucket: BucketState, options: { prefix?: string }, scope = ''): AsyncGenerator<ObjectVersion> {
  const { prefix } = checkOptions(options.prefix === undefined ? {} : { prefix: options.prefix }, bucket.record.name)
  let keyMarker: string | undefined
  let versionIdMarker: string | undefined
  for (;;) {
    const found = await page(ctx, bucket, prefix, undefined, keyMarker, versionIdMarker, MAX_KEYS, scope)
    yield * found.items
    const last = found.last?.item
    if (!found.truncated || last === undefined) return
    keyMarker = last.key
    versionIdMarker = last.versionId
  }
}
