/**
 * Codecs of stored records. Every record carries `v`, its record version, so that a later format
 * can read what an earlier one wrote.
 */
import type { ChecksumAlgorithm, Checksums } from '../internal/checksums.js'
import type { Grant } from '../access/policy.js'
import type { StoredAcl } from '../access/acl.js'
import type { CorsRule, EncryptionInfo, WebsiteConfiguration } from '../types.js'
import type { LifecycleRule } from '../lifecycle/types.js'
import type { StorageClass } from '../objects/storage-class.js'

export interface FormatRecord {
  v: number
  created: number
}

/** Made on first open. */
export interface IdentityRecord {
  v: 1
  ownerId: string
}

/** The store's live bytes, saved by a clean close and removed by the next open (a crash leaves none: they are counted again). */
export interface SpaceRecord {
  v: 1
  liveBytes: number
}

/** The keyring data key, wrapped by the key provider (base64). */
export interface KeyringRecord {
  v: 1
  wrapped: string
  masterKeyId: string
}

export interface BucketRecord {
  v: 1
  id: string
  name: string
  created: number
  region: string
  /** Default encryption of new objects (PutBucketEncryption). */
  encryption?: BucketEncryption
  /** Versioning (PutBucketVersioning); absent while it was never enabled. */
  versioning?: 'Enabled' | 'Suspended'
  /** Cross-origin rules (PutBucketCors), checked before they are stored. */
  cors?: CorsRule[]
  /** Static website (PutBucketWebsite), checked before it is stored. */
  website?: WebsiteConfiguration
  /** The bucket key new objects derive their keys from, while it is fresh. */
  bucketKey?: { id: string, created: number, masterKeyId: string }
  /** Canned ACL; absent is private. */
  acl?: StoredAcl
  /** Bucket policy, the JSON text as given, checked before it was stored. */
  policy?: string
  /** Lifecycle rules (PutBucketLifecycleConfiguration), checked before they are stored: ids given, dates ISO. */
  lifecycle?: LifecycleRule[]
  /** The lifecycle index holds every version of the bucket (its build is complete); absent while it is built. */
  lifecycleIndexed?: true
  /** Bucket tags (PutBucketTagging), checked before they are stored; absent when none. */
  tags?: Array<[string, string]>
}

export interface BucketEncryption {
  algorithm: 'AES256' | 'aws:kms'
  masterKeyId?: string
  bucketKeyEnabled: boolean
}

/** A bucket key, wrapped by the key provider (base64); kept while any object may need it. */
export interface BucketKeyRecord {
  v: 1
  id: string
  wrapped: string
  masterKeyId: string
  created: number
}

/** How one object version is encrypted at rest; absent for plaintext objects. */
export interface ObjectEncryption {
  /** SSE-S3 (AES256), SSE-KMS (aws:kms) or SSE-C (a key the caller brings to every request). */
  alg: 'AES256' | 'aws:kms' | 'SSE-C'
  /** Unique per version: HKDF salt of a derived key, and part of every chunk's additional data. */
  salt: string
  masterKeyId?: string
  /** Bucket-key mode: the object's key is derived from this bucket key. */
  bucketKeyId?: string
  /** Otherwise the object's own data key, wrapped by the provider (or, SSE-C, by the customer key). */
  wrapped?: string
  /** SSE-C: the key's MD5 (reported) and an HMAC of it under the salt (to recognise it). */
  customerKeyMD5?: string
  customerKeyHmac?: string
}

/** A run of chunks holding consecutive bytes of an object: one for a put, one per multipart part. */
export interface Segment {
  id: string
  size: number
  chunkSize: number
  /**
   * A segment file (storage/files.ts) instead of chunks: the bytes a whole chunk takes in it (the
   * chunk size, plus the seal's overhead when encrypted); chunk i starts at i times this.
   */
  file?: number
}

/** Standard headers stored with an object and returned on reads. */
export interface StoredHeaders {
  contentEncoding?: string
  contentDisposition?: string
  contentLanguage?: string
  cacheControl?: string
  expires?: string
}

export interface ObjectHead {
  v: 1
  /** Unquoted: hex MD5, or hex MD5 of the part MD5s plus `-N` for a multipart object. */
  etag: string
  size: number
  modified: number
  contentType: string
  headers: StoredHeaders
  metadata: Record<string, string>
  checksums: Checksums
  /** Where the bytes are; absent when they are stored inline, after the record. */
  segments?: Segment[]
  enc?: ObjectEncryption
  /** The version id; absent for the `null` version (written while versioning was off or suspended). */
  vid?: string
  /** Time-ordered id giving the version's place among the key's versions (versions.ts); absent before versioning. */
  order?: string
  /** A delete marker: no bytes, and the key reads as missing while it is current. */
  marker?: true
  /** Canned ACL of this version; absent is private. */
  acl?: StoredAcl
  /** The version's tags in the order given; absent when none. */
  tags?: Array<[string, string]>
  /** Its storage class, a label only; absent is STANDARD. */
  storageClass?: StorageClass
  /** When a later version made this one noncurrent (its lifecycle age counts from then); absent while current. */
  noncurrentSince?: number
}

const MARKER_BIT = 0x80000000

/**
 * Layout: u32 big-endian length of the JSON, the JSON, then the inline bytes if any. The length's
 * top bit marks a delete marker, so that listings pass over markers without parsing them.
 */
export function encodeHead (head: ObjectHead, inline?: Uint8Array): Buffer {
  const json = JSON.stringify(head)
  const jsonLength = Buffer.byteLength(json)
  const out = Buffer.allocUnsafe(4 + jsonLength + (inline?.length ?? 0))
  out.writeUInt32BE(head.marker === true ? (jsonLength | MARKER_BIT) >>> 0 : jsonLength, 0)
  out.write(json, 4, 'utf8')
  if (inline !== undefined) out.set(inline, 4 + jsonLength)
  return out
}

/** Whether a stored record is a delete marker, read without decoding it. */
export function isMarker (value: Buffer): boolean {
  return (value.readUInt32BE(0) & MARKER_BIT) !== 0
}

export function decodeHead (value: Buffer): { head: ObjectHead, inline: Buffer | undefined } {
  const jsonLength = (value.readUInt32BE(0) & ~MARKER_BIT) >>> 0
  const head = JSON.parse(value.toString('utf8', 4, 4 + jsonLength)) as ObjectHead
  return { head, inline: head.segments === undefined ? value.subarray(4 + jsonLength) : undefined }
}

/** Number of chunks of a segment. */
export function chunkCount (segment: Segment): number {
  return Math.ceil(segment.size / segment.chunkSize)
}

/** A multipart upload in progress; what it will give the completed object. */
export interface UploadRecord {
  v: 1
  id: string
  key: string
  initiated: number
  contentType: string
  headers: StoredHeaders
  metadata: Record<string, string>
  checksumAlgorithm?: ChecksumAlgorithm
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT'
  /** `'*'`: the completed object may only be created, not replace one. */
  ifNoneMatch?: string
  /** The completed object's encryption; every part is sealed under it. */
  enc?: ObjectEncryption
  /** The completed object's canned ACL. */
  acl?: StoredAcl
  /** The completed object's tags. */
  tags?: Array<[string, string]>
  /** The completed object's storage class; absent is STANDARD. */
  storageClass?: StorageClass
}

/** One uploaded part; its chunks become the object's when the upload completes. */
export interface PartRecord {
  v: 1
  number: number
  size: number
  /** Unquoted hex MD5 of the part. */
  etag: string
  modified: number
  checksums: Checksums
  segment: Segment
}

/** What a completed upload answered, kept so that the same completion again answers the same. */
export interface CompletionRecord {
  v: 1
  bucketId: string
  key: string
  /** When it completed (ms); the record expires a day later. */
  at: number
  /** Digest of the part list it was completed with: only the same list is answered. */
  parts: string
  etag: string
  size: number
  lastModified: number
  checksums: Checksums
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT'
  versionId?: string
  /** The answer's encryption fields, as given the first time. */
  encryption: EncryptionInfo
}

/** An access key, or the tombstone of a deleted one (which keeps its id from being issued again). */
export interface AccessKeyRecord {
  v: 1
  id: string
  name: string
  grants: Grant[]
  created: number
  expiresAt?: number
  disabled: boolean
  /** Bumped by every regenerate; bound into the sealed secret. */
  generation: number
  /** The secret, sealed under the keyring key (base64); empty once deleted. */
  secret: string
  /** Requests per second. */
  rateLimit?: number
  deleted?: number
}

/** One hour of a key's usage: requests counted in it (never 0) and their bytes. */
export interface UsageHour {
  /** ms epoch of the hour's start (UTC), by the store's clock. */
  hour: number
  requests: number
  bytesIn: number
  bytesOut: number
}

/**
 * A key's usage figures. v1 (before hourly history) has no `history`; v2 adds it. Read back through
 * access/usage.ts `decodeUsage`, which validates and bounds what it finds.
 */
export interface UsageRecord {
  v: 2
  requests: Record<string, number>
  bytesIn: number
  bytesOut: number
  denied: number
  lastUsed?: number
  lastDenied?: { at: number, operation: string, reason: string }
  /** Hours with requests, oldest first, one entry an hour, all within 168 hours of the newest. */
  history: UsageHour[]
}
