import { createHash, type Hash } from 'node:crypto'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { isSpaceboxError } from '../errors.js'
import type { StoreCalls } from '../mirror/store-calls.js'
import type { MirrorItem } from '../mirror/mirror.js'
import { storeEndpoint } from '../mirror/store-endpoint.js'
import { endOfArchive, fileHeader, filePadding } from './tar.js'
import { CHECKSUMS, dataName, FORMAT, KEYS, MANIFEST, recordName, VERSION, type BucketRecord, type Manifest, type ObjectRecord } from './format.js'

export interface ExportOptions {
  /** Buckets to export (default every bucket). */
  buckets?: string[]
  /** Every version and delete marker, not only current objects. */
  versions?: boolean
  /** Export encrypted objects, as plaintext; otherwise they are left out and listed. */
  decrypt?: boolean
  /** Export the access keys too, their secrets sealed: only a store under the same master key can import them. */
  includeKeys?: boolean
  signal?: AbortSignal
  onEvent?: (event: ArchiveEvent) => void
}

export type ArchiveEvent =
  | { type: 'plan', objects: number, bytes: number }
  | { type: 'data', bytes: number }
  | (MirrorItem & { type: 'object', size: number })
  | (MirrorItem & { type: 'skipped', reason: 'encrypted' | 'sse-c' })

export interface ArchiveResult {
  buckets: number
  /** Access keys (deleted ones included: their ids are never issued again). */
  keys: number
  /** Objects, versions and delete markers. */
  objects: number
  bytes: number
  skipped: Array<MirrorItem & { reason: 'encrypted' | 'sse-c' }>
}

/** Settings a bucket may have none of: their absence is an error code, not a value. */
const ABSENT = new Set(['NoSuchBucketPolicy', 'NoSuchCORSConfiguration', 'NoSuchLifecycleConfiguration', 'NoSuchWebsiteConfiguration',
  'ServerSideEncryptionConfigurationNotFoundError', 'NoSuchTagSet'])

async function optional<T> (read: Promise<T>): Promise<T | undefined> {
  try {
    return await read
  } catch (err) {
    if (isSpaceboxError(err) && ABSENT.has(err.code)) return undefined
    throw err
  }
}

/** Writes an archive of `box` to `out` (see format.ts), entry by entry, as fast as `out` takes it. */
export async function exportArchive (box: StoreCalls, out: Writable, options: ExportOptions = {}): Promise<ArchiveResult> {
  const infos = new Map((await box.listBuckets()).map(b => [b.name, b]))
  const names = options.buckets ?? [...infos.keys()]
  const buckets: BucketRecord[] = []
  for (const name of names) {
    const info = infos.get(name) ?? await box.headBucket(name)
    const record: BucketRecord = { name, region: info.region, acl: (await box.getBucketAcl(name)).acl }
    const versioning = (await box.getBucketVersioning(name)).status
    if (versioning !== undefined) record.versioning = versioning
    const settings = {
      policy: await optional(box.getBucketPolicy(name)),
      cors: await optional(box.getBucketCors(name)),
      lifecycle: await optional(box.getBucketLifecycleConfiguration(name)),
      website: await optional(box.getBucketWebsite(name)),
      encryption: await optional(box.getBucketEncryption(name)),
      tags: await optional(box.getBucketTagging(name))
    }
    for (const [field, value] of Object.entries(settings)) if (value !== undefined) Object.assign(record, { [field]: value })
    buckets.push(record)
  }

  const writer = new EntryWriter(out)
  const result: ArchiveResult = { buckets: buckets.length, keys: 0, objects: 0, bytes: 0, skipped: [] }
  const manifest: Manifest = { format: FORMAT, version: VERSION, created: new Date().toISOString(), versions: options.versions === true, buckets }
  await writer.file(MANIFEST, Buffer.from(JSON.stringify(manifest, null, 2)))
  if (options.includeKeys === true) {
    const sealed = await box.keys.exportSealed()
    await writer.file(KEYS, Buffer.from(JSON.stringify(sealed, null, 2)))
    result.keys = sealed.keys.length
  }
  const endpoint = storeEndpoint(box)
  let n = 0
  for (const { name } of buckets) {
    const entries = []
    for await (const entry of options.versions === true ? endpoint.listVersions(name, '') : endpoint.list(name, '')) entries.push(entry)
    options.onEvent?.({ type: 'plan', objects: entries.length, bytes: entries.reduce((sum, e) => sum + e.size, 0) })
    // Versions come newest first within a key; an archive holds them oldest first.
    for (let i = 0; i < entries.length;) {
      let j = i
      while (j < entries.length && entries[j]?.key === entries[i]?.key) j++
      for (const entry of entries.slice(i, j).reverse()) {
        options.signal?.throwIfAborted()
        const item: MirrorItem = { bucket: name, key: entry.key, ...(entry.versionId === undefined ? {} : { versionId: entry.versionId }) }
        const version = entry.versionId === undefined ? {} : { versionId: entry.versionId }
        if (entry.deleteMarker === true) {
          const record: ObjectRecord = { bucket: name, key: entry.key, ...version, deleteMarker: true, lastModified: entry.lastModified.toISOString(), size: 0, etag: '' }
          await writer.file(recordName(++n), Buffer.from(JSON.stringify(record)))
          result.objects++
          options.onEvent?.({ type: 'object', ...item, size: 0 })
          continue
        }
        const info = await endpoint.head(name, entry.key, version).catch((err: unknown) => {
          if (isSpaceboxError(err, 'InvalidRequest')) return undefined
          throw err
        })
        if (info === undefined || info.encryption === 'SSE-C' || (info.encryption !== undefined && options.decrypt !== true)) {
          const reason = info === undefined || info.encryption === 'SSE-C' ? 'sse-c' : 'encrypted'
          result.skipped.push({ ...item, reason })
          options.onEvent?.({ type: 'skipped', ...item, reason })
          continue
        }
        const { encryption, ...fields } = info
        const record: ObjectRecord = { bucket: name, key: entry.key, ...version, ...fields, lastModified: info.lastModified.toISOString() }
        const tags = (await box.getObjectTagging(name, entry.key, version)).tags
        if (Object.keys(tags).length > 0) record.tags = tags
        const acl = (await box.getObjectAcl(name, entry.key, version)).acl
        if (acl !== 'private') record.acl = acl
        const count = Number(/-(\d+)"$/.exec(info.etag)?.[1] ?? 0)
        if (count > 0) {
          record.parts = []
          for (let part = 1; part <= count; part++) record.parts.push((await endpoint.head(name, entry.key, { ...version, partNumber: part })).size)
        }
        n++
        await writer.file(recordName(n), Buffer.from(JSON.stringify(record)))
        await writer.stream(dataName(n), info.size, await endpoint.get(name, entry.key, version), bytes => { options.onEvent?.({ type: 'data', bytes }) })
        result.objects++
        result.bytes += info.size
        options.onEvent?.({ type: 'object', ...item, size: info.size })
      }
      i = j
    }
  }
  await writer.end()
  return result
}

/** Writes tar entries to a stream with backpressure, remembering each entry's SHA-256 for checksums.json. */
class EntryWriter {
  readonly #out: Writable
  readonly #sums: Record<string, string> = {}

  constructor (out: Writable) {
    this.#out = out
  }

  async file (name: string, bytes: Buffer): Promise<void> {
    this.#sums[name] = createHash('sha256').update(bytes).digest('hex')
    await this.#write(Buffer.concat([fileHeader(name, bytes.length), bytes, filePadding(bytes.length)]))
  }

  async stream (name: string, size: number, body: AsyncIterable<Uint8Array>, progress: (bytes: number) => void): Promise<void> {
    await this.#write(fileHeader(name, size))
    const hash: Hash = createHash('sha256')
    let written = 0
    for await (const chunk of body) {
      written += chunk.length
      if (written > size) throw new Error(`${name}: the object grew while it was read`)
      hash.update(chunk)
      await this.#write(chunk)
      progress(chunk.length)
    }
    if (written !== size) throw new Error(`${name}: the object shrank while it was read`)
    this.#sums[name] = hash.digest('hex')
    await this.#write(filePadding(size))
  }

  async end (): Promise<void> {
    await this.file(CHECKSUMS, Buffer.from(JSON.stringify(this.#sums, null, 2)))
    await this.#write(endOfArchive())
  }

  async #write (bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return
    if (!this.#out.write(bytes)) await once(this.#out, 'drain')
  }
}
