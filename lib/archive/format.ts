/**
 * A spacebox archive: a tar of
 *
 *   manifest.json        { format: 'spacebox-archive', version: 1, created, versions, buckets: [BucketRecord] }
 *   keys.json            with includeKeys only: the access keys, secrets sealed (SealedKeys)
 *   objects/N.json       an ObjectRecord: one object, or with versions one version or delete marker
 *   objects/N.data       its bytes (none for a delete marker)
 *   checksums.json       { entry name: SHA-256 hex } of every entry before it
 *
 * in that order, N counting from 1: each key's versions oldest first, keys in listing order.
 */
import { SpaceboxError } from '../errors.js'
import type { BucketEncryptionConfig, CannedAcl, CorsRule, ObjectCannedAcl, Tags, WebsiteConfiguration } from '../types.js'
import type { LifecycleRule } from '../lifecycle/types.js'
import { OBJECT_HEADERS, type EndpointWrite } from '../mirror/endpoint.js'

export const FORMAT = 'spacebox-archive'
export const VERSION = 1
export const MANIFEST = 'manifest.json'
export const CHECKSUMS = 'checksums.json'
export const KEYS = 'keys.json'
/** Bounds on what is parsed whole: an archive is hostile input until verified. */
export const MAX_MANIFEST = 64 * 1024 * 1024
export const MAX_RECORD = 1024 * 1024

export interface BucketRecord {
  name: string
  region: string
  acl: CannedAcl
  versioning?: 'Enabled' | 'Suspended'
  policy?: string
  cors?: CorsRule[]
  lifecycle?: LifecycleRule[]
  website?: WebsiteConfiguration
  encryption?: BucketEncryptionConfig
  tags?: Tags
}

export interface Manifest {
  format: typeof FORMAT
  version: typeof VERSION
  created: string
  versions: boolean
  buckets: BucketRecord[]
}

export interface ObjectRecord extends Partial<EndpointWrite> {
  bucket: string
  key: string
  /** The id it had where it was exported (a new one is given on import). */
  versionId?: string
  deleteMarker?: boolean
  lastModified: string
  size: number
  etag: string
  tags?: Tags
  acl?: ObjectCannedAcl
  /** A multipart object's part sizes, so that its ETag comes out the same. */
  parts?: number[]
}

export function recordName (n: number): string {
  return `objects/${n}.json`
}

export function dataName (n: number): string {
  return `objects/${n}.data`
}

export function invalid (message: string): SpaceboxError {
  return new SpaceboxError('InvalidArchive', `The archive is not valid: ${message}`)
}

const isString = (v: unknown): v is string => typeof v === 'string'
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const isStrings = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every(isString)

/** The manifest's shape; what each setting holds is checked by the engine when import applies it. */
export function checkManifest (value: unknown): Manifest {
  if (!isObject(value) || value.format !== FORMAT) throw invalid('its manifest is not a spacebox archive\'s')
  if (value.version !== VERSION) throw invalid(`its format version ${String(value.version)} is not ${VERSION} (made by a newer spacebox?)`)
  if (!Array.isArray(value.buckets) || typeof value.versions !== 'boolean') throw invalid('its manifest has no bucket list')
  const names = new Set<string>()
  for (const b of value.buckets as unknown[]) {
    if (!isObject(b) || !isString(b.name) || !isString(b.region) || !isString(b.acl)) throw invalid('a bucket in its manifest has no name, region or ACL')
    if (names.has(b.name)) throw invalid(`bucket ${b.name} is in its manifest twice`)
    names.add(b.name)
    if (b.tags !== undefined && !isStrings(b.tags)) throw invalid(`bucket ${b.name}'s tags are not text`)
  }
  return value as unknown as Manifest
}

/** An object record's shape, against the manifest's buckets. */
export function checkRecord (value: unknown, buckets: ReadonlySet<string>, name: string): ObjectRecord {
  if (!isObject(value)) throw invalid(`${name} is not an object record`)
  const { bucket, key, size, etag, lastModified, parts, metadata, checksums, tags } = value
  if (!isString(bucket) || !buckets.has(bucket)) throw invalid(`${name} names a bucket the manifest does not list`)
  if (!isString(key) || key === '' || !isString(etag) || !isString(lastModified)) throw invalid(`${name} has no key, ETag or date`)
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${name} has no size`)
  if (value.deleteMarker !== undefined && typeof value.deleteMarker !== 'boolean') throw invalid(`${name}: deleteMarker is not true or false`)
  if (value.deleteMarker === true) return value as unknown as ObjectRecord
  if (!isString(value.contentType)) throw invalid(`${name} has no content type`)
  if (!isStrings(metadata) || !isStrings(checksums) || (tags !== undefined && !isStrings(tags))) throw invalid(`${name}: metadata, checksums and tags must be text`)
  if (parts !== undefined) {
    if (!Array.isArray(parts) || parts.length === 0 || parts.length > 10_000 || !parts.every(p => Number.isSafeInteger(p) && (p as number) >= 0)) throw invalid(`${name} has unreadable part sizes`)
    if ((parts as number[]).reduce((a, b) => a + b, 0) !== size) throw invalid(`${name}'s parts do not add up to its size`)
  }
  for (const field of [...OBJECT_HEADERS, 'storageClass', 'acl', 'versionId'] as const) {
    if (value[field] !== undefined && !isString(value[field])) throw invalid(`${name}: ${field} is not text`)
  }
  return value as unknown as ObjectRecord
}
