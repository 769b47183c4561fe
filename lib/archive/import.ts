import { createHash } from 'node:crypto'
import { isSpaceboxError } from '../errors.js'
import type { StoreCalls } from '../mirror/store-calls.js'
import type { SealedKeys } from '../types.js'
import { headersOf, type EndpointEntry } from '../mirror/endpoint.js'
import { historyOf, same } from '../mirror/history.js'
import { storeEndpoint } from '../mirror/store-endpoint.js'
import type { ArchiveEvent, ArchiveResult } from './export.js'
import { TarReader } from './tar.js'
import {
  CHECKSUMS, checkManifest, checkRecord, dataName, invalid, KEYS, MANIFEST, MAX_MANIFEST, MAX_RECORD, recordName, type BucketRecord, type Manifest, type ObjectRecord
} from './format.js'

export interface ImportOptions {
  signal?: AbortSignal
  onEvent?: (event: ArchiveEvent) => void
}

export interface ImportResult extends Omit<ArchiveResult, 'skipped'> {
  /** Objects and versions the store already had, in the same order: an interrupted import run again goes on from there. */
  unchanged: number
}

/** The archive's bytes, from the start, each time it is called: import reads it twice. */
export type ArchiveSource = () => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>

/**
 * Imports an archive into `box`: first reads all of it and checks every entry against
 * checksums.json, every record's shape and every object's bytes against its ETag, so a damaged
 * archive is refused (InvalidArchive) before anything is written; then creates the buckets, sets
 * their settings, and writes each key's versions in order through the store's own calls. What the
 * store already has of a key, the same and in the same order, is left as it is.
 */
export async function importArchive (box: StoreCalls, open: ArchiveSource, options: ImportOptions = {}): Promise<ImportResult> {
  const { manifest, sums, md5s, keys } = await verify(await open(), options)
  const result: ImportResult = { buckets: manifest.buckets.length, keys: 0, objects: 0, bytes: 0, unchanged: 0 }
  // The keys are checked (every secret opened) before anything is written, and written first.
  if (keys !== undefined) await checkKeys(box, keys, true)
  if (keys !== undefined) result.keys = (await checkKeys(box, keys, false)).imported
  for (const bucket of manifest.buckets) await restoreBucket(box, bucket)

  const tar = new TarReader(await open())
  const endpoint = storeEndpoint(box)
  const histories = new Map<string, Map<string, EndpointEntry[]>>()
  // The versions of one key as the store has them, and how many the archive's first ones matched.
  let current: { bucket: string, key: string, have: EndpointEntry[], at: number } | undefined
  let pending: { record: ObjectRecord, md5s: Buffer[] } | undefined
  for await (const entry of tar.entries()) {
    options.signal?.throwIfAborted()
    const n = Number(/^objects\/(\d+)\.json$/.exec(entry.name)?.[1] ?? 0)
    if (n > 0) {
      // The archive may have changed since it was verified: each record is checked again, each object's bytes by their MD5s.
      const body = await bounded(tar, entry.size, MAX_RECORD, entry.name)
      if (sums.get(entry.name) !== sha256(body)) throw invalid(`${entry.name} changed while it was imported`)
      const record = JSON.parse(body.toString('utf8')) as ObjectRecord
      let history = histories.get(record.bucket)
      if (history === undefined) {
        history = await historyOf(manifest.versions ? endpoint.listVersions(record.bucket, '') : endpoint.list(record.bucket, ''))
        histories.set(record.bucket, history)
      }
      if (current?.bucket !== record.bucket || current.key !== record.key) current = { bucket: record.bucket, key: record.key, have: history.get(record.key) ?? [], at: 0 }
      const there = current.have[current.at]
      const entryOf: EndpointEntry = { key: record.key, deleteMarker: record.deleteMarker === true, size: record.size, etag: record.etag, lastModified: new Date(record.lastModified) }
      if (there !== undefined && same(there, entryOf)) {
        current.at++
        result.unchanged++
        continue
      }
      // Past the first difference, every later version of the key is written.
      current.at = current.have.length
      if (record.deleteMarker === true) {
        await box.deleteObject(record.bucket, record.key)
        result.objects++
        options.onEvent?.({ type: 'object', bucket: record.bucket, key: record.key, size: 0 })
      } else {
        pending = { record, md5s: md5s.get(n) ?? [] }
      }
      continue
    }
    if (pending === undefined || !entry.name.endsWith('.data')) continue
    const { record } = pending
    await restoreObject(box, record, pending.md5s, tar, options)
    pending = undefined
    result.objects++
    result.bytes += record.size
    options.onEvent?.({ type: 'object', bucket: record.bucket, key: record.key, size: record.size })
  }
  return result
}

/** The archive's keys into the store (or, as a dry run, only checked); a fault in them is the archive's. */
async function checkKeys (box: StoreCalls, keys: SealedKeys, dryRun: boolean): Promise<{ imported: number }> {
  try {
    return await box.keys.importSealed(keys, { dryRun })
  } catch (err) {
    if (isSpaceboxError(err, 'InvalidArgument')) throw invalid(`${KEYS}: ${err.message}`)
    throw err
  }
}

async function restoreBucket (box: StoreCalls, bucket: BucketRecord): Promise<void> {
  try {
    await box.createBucket(bucket.name, { region: bucket.region, acl: bucket.acl })
  } catch (err) {
    if (!isSpaceboxError(err, 'BucketAlreadyOwnedByYou')) throw err
  }
  // Settings are set each time, so an import cut short and run again leaves none behind.
  if (bucket.versioning !== undefined && (await box.getBucketVersioning(bucket.name)).status !== bucket.versioning) await box.putBucketVersioning(bucket.name, bucket.versioning)
  if (bucket.policy !== undefined) await box.putBucketPolicy(bucket.name, bucket.policy)
  if (bucket.cors !== undefined) await box.putBucketCors(bucket.name, bucket.cors)
  if (bucket.lifecycle !== undefined) await box.putBucketLifecycleConfiguration(bucket.name, bucket.lifecycle)
  if (bucket.website !== undefined) await box.putBucketWebsite(bucket.name, bucket.website)
  if (bucket.encryption !== undefined) await box.putBucketEncryption(bucket.name, bucket.encryption)
  if (bucket.tags !== undefined) await box.putBucketTagging(bucket.name, bucket.tags)
}

/** One version, written with its headers, metadata, tags, ACL and storage class; a multipart one in its parts. */
async function restoreObject (box: StoreCalls, record: ObjectRecord, md5s: Buffer[], tar: TarReader, options: ImportOptions): Promise<void> {
  const fields = {
    contentType: record.contentType as string,
    metadata: record.metadata ?? {},
    ...headersOf(record),
    ...(record.storageClass === undefined ? {} : { storageClass: record.storageClass }),
    ...(record.tags === undefined ? {} : { tags: record.tags }),
    ...(record.acl === undefined ? {} : { acl: record.acl })
  }
  const counted = async function * (length: number): AsyncGenerator<Buffer> {
    for await (const piece of tar.take(length)) {
      options.onEvent?.({ type: 'data', bytes: piece.length })
      yield piece
    }
  }
  if (record.parts === undefined) {
    const contentMD5 = (md5s[0] as Buffer).toString('base64')
    await box.putObject(record.bucket, record.key, counted(record.size), { ...fields, checksums: record.checksums ?? {}, contentMD5, contentLength: record.size })
    return
  }
  const { uploadId } = await box.createMultipartUpload(record.bucket, record.key, fields)
  try {
    const parts = []
    for (const [i, size] of record.parts.entries()) {
      const contentMD5 = (md5s[i] as Buffer).toString('base64')
      parts.push({ partNumber: i + 1, etag: (await box.uploadPart(record.bucket, record.key, uploadId, i + 1, counted(size), { contentMD5, contentLength: size })).etag })
    }
    await box.completeMultipartUpload(record.bucket, record.key, uploadId, parts)
  } catch (err) {
    await box.abortMultipartUpload(record.bucket, record.key, uploadId).catch(() => {})
    throw err
  }
}

/** What the first reading found: the second must read the same. */
interface Verified {
  manifest: Manifest
  /** SHA-256 of each entry. */
  sums: Map<string, string>
  /** Each object's MD5s (one per part of a multipart object), by record number: every write is checked against them. */
  md5s: Map<number, Buffer[]>
  keys?: SealedKeys
}

/**
 * Reads the whole archive once: the manifest first, records and data in order, checksums.json last
 * and matching every entry; each record's shape, each data entry's size and MD5 (the ETag, or the
 * parts' ETags') as its record says. Nothing is written; any fault is InvalidArchive.
 */
async function verify (source: AsyncIterable<Uint8Array>, options: ImportOptions): Promise<Verified> {
  const tar = new TarReader(source)
  const sums = new Map<string, string>()
  const digests = new Map<number, Buffer[]>()
  let manifest: Manifest | undefined
  let buckets = new Set<string>()
  let n = 0
  let pending: ObjectRecord | undefined
  let checksums: Record<string, unknown> | undefined
  let keys: SealedKeys | undefined
  let objects = 0
  let bytes = 0
  for await (const entry of tar.entries()) {
    options.signal?.throwIfAborted()
    if (checksums !== undefined) throw invalid(`${entry.name} comes after ${CHECKSUMS}`)
    if (sums.has(entry.name)) throw invalid(`${entry.name} is in it twice`)
    if (manifest === undefined) {
      if (entry.name !== MANIFEST) throw invalid(`it does not begin with ${MANIFEST}`)
      const body = await bounded(tar, entry.size, MAX_MANIFEST, entry.name)
      sums.set(entry.name, sha256(body))
      manifest = checkManifest(parse(body, entry.name))
      buckets = new Set(manifest.buckets.map(b => b.name))
      continue
    }
    if (entry.name === KEYS) {
      if (n > 0 || keys !== undefined) throw invalid(`${KEYS} is out of place (it comes right after ${MANIFEST})`)
      const body = await bounded(tar, entry.size, MAX_MANIFEST, entry.name)
      sums.set(entry.name, sha256(body))
      keys = parse(body, entry.name) as SealedKeys
      continue
    }
    if (entry.name === CHECKSUMS) {
      if (pending !== undefined) throw invalid(`${dataName(n)} is missing`)
      const parsed = parse(await bounded(tar, entry.size, MAX_MANIFEST, entry.name), entry.name)
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid(`${CHECKSUMS} is not a list of checksums`)
      checksums = parsed as Record<string, unknown>
      continue
    }
    if (pending === undefined) {
      if (entry.name !== recordName(n + 1)) throw invalid(`${entry.name} is out of place (${recordName(n + 1)} was next)`)
      n++
      const body = await bounded(tar, entry.size, MAX_RECORD, entry.name)
      sums.set(entry.name, sha256(body))
      const record = checkRecord(parse(body, entry.name), buckets, entry.name)
      if (record.deleteMarker !== true) pending = record
      else if (!manifest.versions) throw invalid(`${entry.name} is a delete marker in an archive without versions`)
      objects++
      continue
    }
    if (entry.name !== dataName(n)) throw invalid(`${entry.name} is out of place (${dataName(n)} was next)`)
    if (entry.size !== pending.size) throw invalid(`${entry.name} has ${entry.size} bytes, its record says ${pending.size}`)
    const hash = createHash('sha256')
    const md5s: Buffer[] = []
    for (const size of pending.parts ?? [pending.size]) {
      const md5 = createHash('md5')
      for await (const piece of tar.take(size)) {
        hash.update(piece)
        md5.update(piece)
      }
      md5s.push(md5.digest())
    }
    const etag = pending.parts === undefined
      ? `"${(md5s[0] as Buffer).toString('hex')}"`
      : `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${md5s.length}"`
    if (etag !== pending.etag) throw invalid(`${entry.name}'s bytes are not those of ETag ${pending.etag}`)
    digests.set(n, md5s)
    sums.set(entry.name, hash.digest('hex'))
    bytes += pending.size
    pending = undefined
  }
  if (manifest === undefined) throw invalid('it is empty')
  if (checksums === undefined) throw invalid(`it has no ${CHECKSUMS}: it was cut short`)
  for (const [name, sum] of sums) if (checksums[name] !== sum) throw invalid(`${name} does not match its checksum`)
  for (const name of Object.keys(checksums)) if (!sums.has(name)) throw invalid(`${name} is missing`)
  options.onEvent?.({ type: 'plan', objects, bytes })
  return { manifest, sums, md5s: digests, ...(keys === undefined ? {} : { keys }) }
}

async function bounded (tar: TarReader, size: number, limit: number, name: string): Promise<Buffer> {
  if (size > limit) throw invalid(`${name} is larger than ${limit} bytes`)
  const pieces: Buffer[] = []
  for await (const piece of tar.take(size)) pieces.push(piece)
  return Buffer.concat(pieces)
}

function parse (body: Buffer, name: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw invalid(`${name} is not JSON`)
  }
}

function sha256 (body: Buffer): string {
  return createHash('sha256').update(body).digest('hex')
}
