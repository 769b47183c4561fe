/**
 * Mirror buckets from one endpoint to another. What the target already has with the same size and
 * ETag is left alone, so a second run copies only what changed and an interrupted run resumes
 * where it stopped. A multipart object is copied in the same parts, so its `-N` ETag comes out the
 * same; every other object's bytes are checked on arrival against its ETag (or its checksums).
 */
import { SpaceboxError } from '../errors.js'
import type { EndpointEntry, EndpointObject, EndpointWrite, MirrorEndpoint, ReadOptions } from './endpoint.js'
import { historyOf, same } from './history.js'

export interface MirrorOptions {
  /** The source bucket (default: every bucket the source lists, each to a bucket of the same name). */
  bucket?: string
  /** Only keys under this prefix. */
  prefix?: string
  /** The target bucket, with `bucket` (default the same name). */
  targetBucket?: string
  /** Replaces `prefix` at the front of each key written (default: keys keep their prefix). */
  targetPrefix?: string
  /** Every version and delete marker, oldest first, into a bucket with versioning Enabled. */
  versions?: boolean
  /** Remove from the target what the source no longer has (under the prefix). */
  delete?: boolean
  /** Copy objects the source stores encrypted (they arrive as plaintext, and the target's bucket settings apply); otherwise they are skipped and listed. */
  decrypt?: boolean
  /** Carry each object's ACL, as the canned ACL it amounts to (public-read and the like): one request more per object. */
  acl?: boolean
  /** Carry each object's tags: one request more per object. */
  tags?: boolean
  /**
   * The SSE-C key (32 bytes) of objects stored with one: they are read with it and written with
   * it, so they stay SSE-C on the target. Objects under another key are skipped and named.
   */
  customerKey?: Buffer
  /** Objects copied at once (default 4, at most 64). */
  concurrency?: number
  signal?: AbortSignal
  onEvent?: (event: MirrorEvent) => void
}

export interface MirrorItem { bucket: string, key: string, versionId?: string | undefined }

export type MirrorEvent =
  | { type: 'plan', bucket: string, objects: number, bytes: number }
  | { type: 'data', bytes: number }
  | (MirrorItem & { type: 'copied', size: number })
  | (MirrorItem & { type: 'skipped', reason: SkipReason })
  | (MirrorItem & { type: 'deleted' })
  | (MirrorItem & { type: 'failed', code: string, message: string })

/** Why an object was not copied: the target has it already, or it is encrypted and `decrypt` was not given, or it needs a customer key. */
export type SkipReason = 'unchanged' | 'encrypted' | 'sse-c'

export interface MirrorResult {
  copied: number
  /** Bytes copied. */
  bytes: number
  /** Left alone because the target has the same. */
  unchanged: number
  deleted: number
  /** Encrypted objects not copied, with why: never dropped without a word. */
  skipped: Array<MirrorItem & { reason: Exclude<SkipReason, 'unchanged'> }>
  failed: Array<MirrorItem & { code: string, message: string }>
}

const MAX_CONCURRENCY = 64
/** Part size of a multipart source whose parts cannot be asked for one by one. */
const FALLBACK_PART = 8 * 1024 * 1024

/** Copy from `source` to `target` as `options` say; a failure of one object is reported and the rest go on. */
export async function mirror (source: MirrorEndpoint, target: MirrorEndpoint, options: MirrorOptions = {}): Promise<MirrorResult> {
  const run = new Run(source, target, checkOptions(options))
  const buckets = options.bucket !== undefined ? [options.bucket] : await source.listBuckets()
  for (const bucket of buckets) {
    run.signal?.throwIfAborted()
    await run.bucket(bucket, options.targetBucket ?? bucket)
  }
  return run.result
}

function checkOptions (options: MirrorOptions): MirrorOptions & { concurrency: number } {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object')
  for (const name of ['bucket', 'prefix', 'targetBucket', 'targetPrefix'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'string') throw new TypeError(`${name} must be a string`)
  }
  if (options.targetBucket !== undefined && options.bucket === undefined) throw new TypeError('targetBucket needs bucket')
  if (options.customerKey !== undefined && (!Buffer.isBuffer(options.customerKey) || options.customerKey.length !== 32)) throw new TypeError('customerKey must be a Buffer of 32 bytes')
  const concurrency = options.concurrency ?? 4
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) throw new RangeError(`concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}`)
  return { ...options, concurrency }
}

type Task = () => Promise<void>

class Run {
  readonly result: MirrorResult = { copied: 0, bytes: 0, unchanged: 0, deleted: 0, skipped: [], failed: [] }
  readonly signal: AbortSignal | undefined
  readonly #source: MirrorEndpoint
  readonly #target: MirrorEndpoint
  readonly #options: MirrorOptions & { concurrency: number }
  readonly #prefix: string

  constructor (source: MirrorEndpoint, target: MirrorEndpoint, options: MirrorOptions & { concurrency: number }) {
    this.#source = source
    this.#target = target
    this.#options = options
    this.#prefix = options.prefix ?? ''
    this.signal = options.signal
  }

  async bucket (from: string, to: string): Promise<void> {
    const status = await this.#source.getVersioning(from)
    const created = await this.#target.ensureBucket(to)
    if (this.#options.versions === true) {
      if (await this.#target.getVersioning(to) !== 'Enabled') await this.#target.putVersioning(to, 'Enabled')
    } else if (created && status !== undefined) {
      await this.#target.putVersioning(to, status)
    }
    const tasks = this.#options.versions === true ? await this.#versionTasks(from, to) : await this.#objectTasks(from, to)
    await this.#pool(tasks)
  }

  #targetKey (key: string): string {
    const targetPrefix = this.#options.targetPrefix
    return targetPrefix === undefined ? key : targetPrefix + key.slice(this.#prefix.length)
  }

  /** Current objects: each the target lacks or has otherwise is copied; with `delete`, what only the target has goes. */
  async #objectTasks (from: string, to: string): Promise<Task[]> {
    const there = new Map<string, EndpointEntry>()
    for await (const entry of this.#target.list(to, this.#options.targetPrefix ?? this.#prefix)) there.set(entry.key, entry)
    const tasks: Task[] = []
    let objects = 0
    let bytes = 0
    for await (const entry of this.#source.list(from, this.#prefix)) {
      const key = this.#targetKey(entry.key)
      const have = there.get(key)
      there.delete(key)
      if (have !== undefined && same(have, entry)) {
        this.#skip({ bucket: from, key: entry.key }, 'unchanged')
        continue
      }
      objects++
      bytes += entry.size
      tasks.push(async () => { await this.#copy(from, entry.key, undefined, to, key) })
    }
    if (this.#options.delete === true) {
      for (const key of there.keys()) tasks.push(async () => { await this.#delete(to, key) })
    }
    this.#emit({ type: 'plan', bucket: from, objects, bytes })
    return tasks
  }

  /**
   * Every version, oldest first, key by key. The versions the target already has in the same order
   * (same ETag and size, or both delete markers) are left; the rest are written after them.
   */
  async #versionTasks (from: string, to: string): Promise<Task[]> {
    const there = await historyOf(this.#target.listVersions(to, this.#options.targetPrefix ?? this.#prefix))
    const tasks: Task[] = []
    let objects = 0
    let bytes = 0
    for (const [sourceKey, history] of await historyOf(this.#source.listVersions(from, this.#prefix))) {
      const key = this.#targetKey(sourceKey)
      const have = there.get(key) ?? []
      there.delete(key)
      let kept = 0
      while (kept < history.length && kept < have.length && same(have[kept] as EndpointEntry, history[kept] as EndpointEntry)) kept++
      for (const entry of history.slice(0, kept)) this.#skip({ bucket: from, key: sourceKey, versionId: entry.versionId }, 'unchanged')
      const rest = history.slice(kept)
      if (rest.length === 0) continue
      for (const entry of rest) {
        objects++
        bytes += entry.size
      }
      // One key's versions in order; keys side by side.
      tasks.push(async () => {
        for (const entry of rest) {
          if (entry.deleteMarker === true) await this.#marker(from, entry, to, key)
          else await this.#copy(from, sourceKey, entry.versionId, to, key)
        }
      })
    }
    if (this.#options.delete === true) {
      for (const [key, versions] of there) {
        tasks.push(async () => { for (const v of versions) await this.#delete(to, key, v.versionId) })
      }
    }
    this.#emit({ type: 'plan', bucket: from, objects, bytes })
    return tasks
  }

  async #pool (tasks: Task[]): Promise<void> {
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < tasks.length) {
        this.signal?.throwIfAborted()
        await (tasks[next++] as Task)()
      }
    }
    // Every worker settles before the run ends, an aborted one too: nothing lands after it returns.
    const settled = await Promise.allSettled(Array.from({ length: Math.min(this.#options.concurrency, tasks.length) }, worker))
    for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason
  }

  async #copy (from: string, sourceKey: string, versionId: string | undefined, to: string, key: string): Promise<void> {
    const item: MirrorItem = { bucket: from, key: sourceKey, ...(versionId === undefined ? {} : { versionId }) }
    const skip = (reason: 'encrypted' | 'sse-c'): void => {
      this.result.skipped.push({ ...item, reason })
      this.#emit({ type: 'skipped', ...item, reason })
    }
    try {
      const read: ReadOptions = { versionId }
      // S3 will not even describe an SSE-C object without its key.
      let info = await this.#source.head(from, sourceKey, read).catch(ifCustomerKeyed)
      if (info === undefined || info.encryption === 'SSE-C') {
        if (this.#options.customerKey === undefined) return skip('sse-c')
        read.customerKey = this.#options.customerKey
        // Under another key, it is refused again: skipped, as without a key.
        info = await this.#source.head(from, sourceKey, read).catch(ifCustomerKeyed)
        if (info === undefined) return skip('sse-c')
      } else if (info.encryption !== undefined && this.#options.decrypt !== true) {
        return skip('encrypted')
      }
      const write = writeOf(info)
      if (read.customerKey !== undefined) write.customerKey = read.customerKey
      if (this.#options.tags === true) write.tags = await this.#source.getTags(from, sourceKey, versionId)
      if (this.#options.acl === true) write.acl = await this.#source.getAcl(from, sourceKey, versionId)
      // A multipart ETag ends in its number of parts (HEAD reports a count only for one part).
      const count = Number(/-(\d+)"$/.exec(info.etag)?.[1] ?? 0)
      const parts = count > 0 ? await this.#partSizes(from, sourceKey, read, info, count) : undefined
      let etag: string
      if (parts === undefined) {
        etag = (await this.#target.put(to, key, this.#counted(await this.#source.get(from, sourceKey, read)), info.size, write)).etag
      } else {
        etag = await this.#multipart(from, sourceKey, read, to, key, write, parts)
      }
      // The bytes must arrive as they left. An ETag under SSE-KMS or SSE-C (either side) need be no
      // MD5, so tells nothing; nor does a multipart one from a service that does not make S3's (s3rver).
      if (etag !== info.etag && info.encryption !== 'aws:kms' && read.customerKey === undefined && (parts === undefined || (parts.exact && /-\d+"$/.test(etag))) &&
        (await this.#target.head(to, key)).encryption !== 'aws:kms') {
        throw new SpaceboxError('BadDigest', `the copy's ETag ${etag} is not the source's ${info.etag}`)
      }
      this.result.copied++
      this.result.bytes += info.size
      this.#emit({ type: 'copied', ...item, size: info.size })
    } catch (err) {
      this.#fail(item, err)
    }
  }

  /** The source's part sizes, asked part by part; where it cannot say, even parts (and the ETag will differ). */
  async #partSizes (bucket: string, key: string, read: ReadOptions, info: EndpointObject, count: number): Promise<{ sizes: number[], exact: boolean }> {
    const sizes: number[] = []
    try {
      let total = 0
      for (let n = 1; n <= count; n++) {
        const part = await this.#source.head(bucket, key, { ...read, partNumber: n })
        sizes.push(part.size)
        total += part.size
      }
      if (total === info.size) return { sizes, exact: true }
    } catch {}
    const even: number[] = []
    for (let left = info.size; left > 0; left -= FALLBACK_PART) even.push(Math.min(left, FALLBACK_PART))
    return { sizes: even.length === 0 ? [0] : even, exact: false }
  }

  async #multipart (from: string, sourceKey: string, read: ReadOptions, to: string, key: string, write: EndpointWrite,
    parts: { sizes: number[] }): Promise<string> {
    const uploadId = await this.#target.createMultipart(to, key, write)
    try {
      const etags: string[] = []
      let start = 0
      for (const [i, size] of parts.sizes.entries()) {
        const body = size === 0 ? emptyBody() : await this.#source.get(from, sourceKey, { ...read, range: [start, start + size - 1] })
        etags.push(await this.#target.uploadPart(to, key, uploadId, i + 1, this.#counted(body), size, read.customerKey))
        start += size
      }
      return (await this.#target.completeMultipart(to, key, uploadId, etags)).etag
    } catch (err) {
      await this.#target.abortMultipart(to, key, uploadId).catch(() => {})
      throw err
    }
  }

  async #marker (from: string, entry: EndpointEntry, to: string, key: string): Promise<void> {
    const item: MirrorItem = { bucket: from, key: entry.key, versionId: entry.versionId }
    try {
      await this.#target.delete(to, key)
      this.result.copied++
      this.#emit({ type: 'copied', ...item, size: 0 })
    } catch (err) {
      this.#fail(item, err)
    }
  }

  async #delete (bucket: string, key: string, versionId?: string): Promise<void> {
    const item: MirrorItem = { bucket, key, ...(versionId === undefined ? {} : { versionId }) }
    try {
      await this.#target.delete(bucket, key, versionId)
      this.result.deleted++
      this.#emit({ type: 'deleted', ...item })
    } catch (err) {
      this.#fail(item, err)
    }
  }

  /** The body as it streams, counted for progress, and cut when the run is aborted. */
  async * #counted (body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      this.signal?.throwIfAborted()
      this.#emit({ type: 'data', bytes: chunk.length })
      yield chunk
    }
  }

  #skip (item: MirrorItem, reason: 'unchanged'): void {
    this.result.unchanged++
    this.#emit({ type: 'skipped', ...item, reason })
  }

  #fail (item: MirrorItem, err: unknown): void {
    // An abort ends the run; it is no object's failure.
    if (this.signal?.aborted === true) throw err
    const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'InternalError'
    const message = err instanceof Error ? err.message : String(err)
    this.result.failed.push({ ...item, code, message })
    this.#emit({ type: 'failed', ...item, code, message })
  }

  #emit (event: MirrorEvent): void {
    this.#options.onEvent?.(event)
  }
}

/** A read S3 refuses for want of the right SSE-C key (400 without one, 403 with another): undefined. */
function ifCustomerKeyed (err: unknown): undefined {
  const code = (err as { code?: unknown })?.code
  if (code === 'InvalidRequest' || code === 'AccessDenied') return undefined
  throw err
}

function writeOf (info: EndpointObject): EndpointWrite {
  const { size, etag, lastModified, encryption, ...write } = info
  return write
}

async function * emptyBody (): AsyncGenerator<Uint8Array> {}
