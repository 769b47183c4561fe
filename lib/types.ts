import type { Readable } from 'node:stream'
import type { AnyLevel } from './schema/keys.js'
import type { ChecksumAlgorithm, Checksums } from './internal/checksums.js'
import type { KeyProvider } from './crypto/provider.js'
import type { Grant, Permission } from './access/policy.js'
import type { CannedAcl, ObjectCannedAcl } from './access/acl.js'
import type { PublicStatement } from './access/bucket-policy.js'
import type { ObjectExpiration } from './lifecycle/types.js'
import type { StorageClass } from './objects/storage-class.js'

export type { CannedAcl, ObjectCannedAcl, PublicStatement, ChecksumAlgorithm, Checksums, KeyProvider, Grant, Permission, StorageClass }

export interface OpenOptions {
  /** Directory of an on-disk LevelDB store (classic-level); created mode 0700 if absent, made 0700 if empty. */
  location?: string
  /** An in-memory store (memory-level): gone when closed. */
  memory?: boolean
  /**
   * Any abstract-level database with explicit snapshots (abstract-level 3). spacebox keeps its
   * records in sublevels of it and does not close it.
   */
  db?: AnyLevel
  /** Bytes per stored chunk of object data. Default 1 MiB (measured: the fastest streamed put and get). */
  chunkSize?: number
  /** Objects up to this size are stored inside their record, with no chunks. Default 4 KiB. */
  inlineThreshold?: number
  /** Largest object a single put or copy accepts (EntityTooLarge). Default 5 GiB, as S3. */
  maxObjectSize?: number
  /** Smallest part, but for the last, a multipart upload may complete with (EntityTooSmall). Default 5 MiB, as S3. */
  minPartSize?: number
  /** Region reported for buckets created without one. Default `us-east-1`. */
  region?: string
  /**
   * The "KMS" that wraps this store's data keys. Default: a local provider whose master key comes
   * from `masterKey`, else SPACEBOX_MASTER_KEY, else (on disk) the key file `<location>.key`,
   * created with mode 0600 with the store, else (in memory) a random key.
   */
  keyProvider?: KeyProvider
  /** A 256-bit master key for the local provider: 32 bytes, or their base64 or hex. */
  masterKey?: Buffer | string
  /**
   * Named master keys of the local provider that SSE-KMS requests may name (by name, alias or
   * ARN), made when missing: added to the key file on disk (not with masterKey or
   * SPACEBOX_MASTER_KEY), random in memory. Names: 1 to 64 letters, digits, `-` or `_`.
   */
  kmsKeys?: string[]
  /** How long a bucket key serves new objects before a new one is made, in ms. Default 24 h. */
  bucketKeyTtl?: number
  /**
   * The clock every time the engine reads comes from (ms since the epoch): object and upload dates,
   * access-key expiry, creation and usage times, rate limits, bucket-key expiry. Default Date.now;
   * tests inject one.
   */
  clock?: () => number
  /**
   * How often lifecycle rules are applied in the background, in ms (0: only by `applyLifecycle()`).
   * Default one hour; the first pass comes a few seconds after open.
   */
  lifecycleInterval?: number
  /** fsync every commit: survives power loss, not only a process crash. Default false. */
  sync?: boolean
  /**
   * LevelDB's Snappy compression of what it stores (a store on disk that spacebox opens; a caller's
   * db keeps its own setting). Default false: most object data is compressed already, and trying
   * costs large writes about 40% of their throughput. Turn it on for stores of text, JSON or logs,
   * which it shrinks; stores read either way, whatever they were written with.
   */
  compression?: boolean
  /**
   * In a store on disk that spacebox opens, a body of more than one chunk (a large object, a
   * multipart part) is written once to a file of its own under `<location>/blobs`, not through
   * LevelDB's log and compactions; its space comes back when it is deleted. Default true; false
   * keeps every byte in LevelDB. Files already written stay readable either way.
   */
  segmentFiles?: boolean
  /**
   * Background compaction, which gives deleted data's disk space back (on disk: classic-level;
   * elsewhere nothing to do). `false` leaves it to `compact()`. Default `{}`: the defaults below.
   */
  compaction?: false | CompactionOptions
}

/** When background compaction runs (README: `box.compact()`). */
export interface CompactionOptions {
  /** Bytes deleted (not yet compacted) that start a run. Default 64 MiB. */
  threshold?: number
  /** Each range waits until no call has run (or write landed) for this long, in ms. Default 1000. */
  idle?: number
  /** Most bytes (as LevelDB estimates them) one range covers: bounds how long a request or close waits for one. Default 64 MiB. */
  rangeBytes?: number
}

/** What `compact()` did. */
export interface CompactResult {
  /** compactRange calls made: 0 where the database cannot compact (memory-level). */
  ranges: number
  /** The database directory's size before and after; absent for a store not on disk. */
  bytesOnDiskBefore?: number
  bytesOnDiskAfter?: number
}

export type StoreStatus = 'opening' | 'open' | 'closing' | 'closed'

export interface BucketInfo {
  name: string
  created: Date
  region: string
}

/** An object body: bytes, text (UTF-8), a Node Readable or any async iterable of bytes. */
export type Body = Uint8Array | string | AsyncIterable<Uint8Array | string>

export interface ObjectHeaders {
  /** Given, else looked up from the key's extension, else `application/octet-stream`. */
  contentType?: string
  contentEncoding?: string
  contentDisposition?: string
  contentLanguage?: string
  cacheControl?: string
  /** Kept as an HTTP date string; a Date is converted. */
  expires?: string | Date
  /** User metadata; names are stored lower-cased. At most 2 KB in all (MetadataTooLarge). */
  metadata?: Record<string, string>
  /**
   * Canned ACL of the object written (default private; a copy never takes its source's). Anything
   * but private needs the publish right (a fullaccess key, or a readwrite grant with `publish`).
   */
  acl?: ObjectCannedAcl
  /**
   * Storage class of the object written (default STANDARD; a copy never takes its source's, under
   * either metadata directive). A label: every class is stored and served alike. InvalidStorageClass.
   */
  storageClass?: StorageClass
}

export interface WriteConditions {
  /** Only `'*'`: write only if no object has the key (PreconditionFailed otherwise). */
  ifNoneMatch?: string
  /** Overwrite only the object with this ETag (PreconditionFailed; NoSuchKey if absent). */
  ifMatch?: string
}

/** A customer-provided key (SSE-C): 32 bytes (or their base64), and optionally their base64 MD5. */
export interface CustomerKey {
  key: Buffer | string
  md5?: string
}

/** Encryption of the object written; absent, the bucket's default applies. */
export interface EncryptionOptions {
  serverSideEncryption?: 'AES256' | 'aws:kms'
  /** aws:kms only: which master key of the provider wraps the object's (or bucket's) key. */
  masterKeyId?: string
  /** Derive the object's key from the bucket key: no provider call per object. */
  bucketKeyEnabled?: boolean
  /** SSE-C: encrypt under this key; every read must bring it. */
  customerKey?: CustomerKey
}

export interface PutObjectOptions extends ObjectHeaders, WriteConditions, EncryptionOptions, TaggingOptions {
  /** Base64 MD5 the body must have (BadDigest; InvalidDigest if malformed). */
  contentMD5?: string
  /** Checksums the body must have, base64 as S3 sends them (BadDigest). They are stored. */
  checksums?: Checksums
  /** Compute and store this checksum as well. */
  checksumAlgorithm?: ChecksumAlgorithm
  /**
   * Checksums the body declares after its last byte (an aws-chunked trailer): called once the body
   * has ended, before anything is committed; checked like `checksums` (BadDigest, InvalidRequest).
   */
  trailingChecksums?: () => Checksums | undefined
  /** The exact number of bytes the body must have (IncompleteBody otherwise). */
  contentLength?: number
}

export interface PutObjectResult extends EncryptionInfo {
  /** Quoted, as S3 sends it. */
  etag: string
  size: number
  lastModified: Date
  checksums: Checksums
  /** The version written: its id with versioning Enabled, `null` while Suspended; absent in a bucket never versioned. */
  versionId?: string
  /** When a lifecycle rule expires the object written (S3's x-amz-expiration). */
  expiration?: ObjectExpiration
}

/** How an object is encrypted at rest, as S3 reports it; nothing for plaintext objects. */
export interface EncryptionInfo {
  /** 'AES256' for SSE-S3 and SSE-C, 'aws:kms' for SSE-KMS. */
  serverSideEncryption?: 'AES256' | 'aws:kms'
  masterKeyId?: string
  /** aws:kms: the master key as S3 names it, `arn:aws:kms:<bucket's region>:000000000000:key/<masterKeyId>`. */
  masterKeyArn?: string
  bucketKeyEnabled?: boolean
  customerKeyMD5?: string
}

export interface ObjectInfo extends EncryptionInfo {
  bucket: string
  key: string
  size: number
  /** Quoted, as S3 sends it. */
  etag: string
  lastModified: Date
  contentType: string
  contentEncoding?: string
  contentDisposition?: string
  contentLanguage?: string
  cacheControl?: string
  expires?: string
  metadata: Record<string, string>
  checksums: Checksums
  storageClass: StorageClass
  /** The version's id (`null` for the null version); absent in a bucket never versioned. */
  versionId?: string
  /** How many tags the version has; absent when none (S3's x-amz-tagging-count). */
  tagCount?: number
  /** When a lifecycle rule expires this current version (S3's x-amz-expiration); absent when none does. */
  expiration?: ObjectExpiration
  /** How many parts a multipart object has, given by a read of one part (`partNumber`; S3's x-amz-mp-parts-count). */
  partsCount?: number
}

export interface ReadConditions {
  ifMatch?: string
  ifNoneMatch?: string
  ifModifiedSince?: Date | string
  ifUnmodifiedSince?: Date | string
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number
  /** Last byte, inclusive. */
  end: number
}

export interface HeadObjectOptions extends ReadConditions {
  /** The key an SSE-C object was stored with. */
  customerKey?: CustomerKey
  /**
   * A version of the key, or `null`; default the current one. NoSuchVersion for an unknown id,
   * MethodNotAllowed for a delete marker's.
   */
  versionId?: string
}

export interface GetObjectOptions extends HeadObjectOptions {
  /**
   * One byte range: an HTTP Range value (`bytes=0-99`, `bytes=100-`, `bytes=-100`) or offsets.
   * Unsatisfiable: InvalidRange. A value S3 would not understand (several ranges, another unit) is
   * ignored, as S3 ignores it.
   */
  range?: string | { start: number, end?: number }
  /**
   * One part instead of a range: the N-th part (1..10000) of a multipart object, or part 1 of any
   * other object, which is all of it. InvalidPartNumber past the last part; InvalidRequest with `range`.
   */
  partNumber?: number
}

export interface GetObjectResult {
  info: ObjectInfo
  /** Streams the bytes chunk by chunk. Read it to the end or destroy it. */
  body: Readable
  /** The bytes the body holds, when a range or a part was asked for (`end < start`: an empty part). */
  range?: ByteRange
}

export interface CopyObjectOptions extends ObjectHeaders, WriteConditions, EncryptionOptions, TaggingOptions {
  /** The key an SSE-C source was stored with. */
  sourceCustomerKey?: CustomerKey
  /** COPY (default) keeps the source's headers and metadata; REPLACE takes them from these options. */
  metadataDirective?: 'COPY' | 'REPLACE'
  /** COPY (default) gives the copy the source version's tags, and takes no `tags`; REPLACE gives it `tags` (or none). */
  taggingDirective?: 'COPY' | 'REPLACE'
  sourceIfMatch?: string
  sourceIfNoneMatch?: string
  sourceIfModifiedSince?: Date | string
  sourceIfUnmodifiedSince?: Date | string
  /** The source's version; default its current one. A delete marker's id: InvalidRequest. */
  sourceVersionId?: string
}

export interface CopyObjectResult extends EncryptionInfo {
  etag: string
  lastModified: Date
  checksums: Checksums
  /** The version written: its id with versioning Enabled, `null` while Suspended; absent in a bucket never versioned. */
  versionId?: string
  /** The source version copied; absent when the source bucket was never versioned. */
  copySourceVersionId?: string
}

export interface DeleteObjectOptions {
  /** Delete this version (or delete marker) for good; without it a versioned bucket gets a delete marker. */
  versionId?: string
}

export interface DeleteObjectResult {
  /** The version removed, or the delete marker written. */
  versionId?: string
  /** The version removed was a delete marker, or a delete marker was written. */
  deleteMarker?: boolean
}

/** An entry of deleteObjects: a key, or a key and one of its versions. */
export interface ObjectIdentifier {
  key: string
  versionId?: string
}

export interface DeletedObject {
  key: string
  /** The version removed, when one was named. */
  versionId?: string
  /** A delete marker was written, or the version removed was one. */
  deleteMarker?: boolean
  deleteMarkerVersionId?: string
}

export interface DeleteObjectsResult {
  deleted: DeletedObject[]
  errors: Array<{ key: string, versionId?: string, code: string, message: string }>
}

export interface Owner {
  id: string
  displayName: string
}

export interface BucketAcl {
  owner: Owner
  acl: CannedAcl
}

export interface ObjectAcl extends BucketAcl {
  /** The version's id, in a bucket that was ever versioned. */
  versionId?: string
}

export interface ObjectAclOptions {
  versionId?: string
}

/** Tags as the API returns them: key → value. */
export type Tags = Record<string, string>

/**
 * Tags as a caller gives them: key → value, or `[key, value]` pairs, where a key given twice is
 * InvalidTag, as S3 answers a TagSet that repeats one. Keys are 1 to 128 UTF-16 code units and
 * values 0 to 256, of letters, numbers and spaces of any script and `_ . : / = + - @`; keys may
 * not begin with `aws:`. At most 10 on an object, 50 on a bucket.
 */
export type TagSet = Tags | Array<[string, string]>

export interface TaggingOptions {
  /** The tags of the version written (InvalidTag, BadRequest past 10). */
  tags?: TagSet
}

export interface ObjectTaggingOptions {
  /** A version of the key, or `null`; default the current one. */
  versionId?: string
}

export interface ObjectTagging {
  tags: Tags
  /** The version's id, in a bucket that was ever versioned. */
  versionId?: string
}

export interface BucketPolicyStatus {
  /** Whether a statement of the policy lets anyone in (S3's definition of public). */
  isPublic: boolean
}

/** What anyone may reach in a bucket without a key, and why. */
export interface PublicAccess {
  bucket: string
  /** The bucket's canned ACL: public-read lets anyone list it, public-read-write write to it too. */
  acl: CannedAcl
  /** Statements of the bucket policy that let anyone in. */
  policy: PublicStatement[]
  /** Versions whose ACL is not private, in key order, a page at a time. */
  objects: PublicObject[]
  isTruncated: boolean
  /** Pass as `startAfter` for the next page. */
  nextStartAfter?: string
}

export interface PublicObject {
  key: string
  versionId: string
  acl: CannedAcl
}

export interface PublicAccessOptions {
  /** Objects per page, 1 to 1000 (default 1000). */
  maxObjects?: number
  /** Resume after this key (and version id, as `nextStartAfter` gives them). */
  startAfter?: string
}

export interface ObjectSummary {
  key: string
  size: number
  etag: string
  lastModified: Date
  storageClass: StorageClass
  /** With `fetchOwner` (v2) and always in v1, as S3. */
  owner?: Owner
}

export interface ListObjectsV2Options {
  prefix?: string
  /** Any string: keys holding it after the prefix roll up into one common prefix. */
  delimiter?: string
  startAfter?: string
  /** From a previous page's `nextContinuationToken`; takes precedence over startAfter. */
  continuationToken?: string
  /** Default and cap 1000; 0 returns an empty page. */
  maxKeys?: number
  fetchOwner?: boolean
}

export interface ListObjectsV2Result {
  contents: ObjectSummary[]
  commonPrefixes: string[]
  isTruncated: boolean
  nextContinuationToken?: string
  /** Contents plus common prefixes in this page. */
  keyCount: number
  maxKeys: number
  prefix: string
  delimiter?: string
  startAfter?: string
  continuationToken?: string
}

export interface ListObjectsOptions {
  prefix?: string
  delimiter?: string
  marker?: string
  maxKeys?: number
}

export interface ListObjectsResult {
  contents: ObjectSummary[]
  commonPrefixes: string[]
  isTruncated: boolean
  /** Only when a delimiter was given, as S3; otherwise continue after the last key. */
  nextMarker?: string
  marker: string
  maxKeys: number
  prefix: string
  delimiter?: string
}

export type VersioningStatus = 'Enabled' | 'Suspended'

/** A bucket's versioning: no status while it was never enabled. */
export interface BucketVersioning {
  status?: VersioningStatus
}

export interface ListObjectVersionsOptions {
  prefix?: string
  delimiter?: string
  /** Start after this key's versions, or with versionIdMarker after that version of it. */
  keyMarker?: string
  versionIdMarker?: string
  maxKeys?: number
}

/** A version or a delete marker, as ListObjectVersions lists it. */
export interface ObjectVersion {
  key: string
  /** `null` for the null version. */
  versionId: string
  isLatest: boolean
  lastModified: Date
  deleteMarker: boolean
  owner: Owner
  /** The rest describe a version's bytes; a delete marker has none. */
  etag?: string
  size?: number
  storageClass?: StorageClass
  checksumAlgorithm?: ChecksumAlgorithm[]
}

export interface ListObjectVersionsResult {
  /** Versions and delete markers in one list: by key, newest first within a key, as S3 orders them. */
  versions: ObjectVersion[]
  commonPrefixes: string[]
  isTruncated: boolean
  nextKeyMarker?: string
  nextVersionIdMarker?: string
  keyMarker: string
  versionIdMarker: string
  maxKeys: number
  prefix: string
  delimiter?: string
}

export interface StoreStats {
  /** Records read by listings since open: proves that cost follows the page. */
  listRecordsRead: number
  /** Seeks past rolled-up common prefixes since open. */
  listSeeks: number
  /** Calls into the key provider since open (the keyring's unwrap at open included). */
  generateDataKey: number
  decrypt: number
  /**
   * Sizes of every object version and uploaded part the store holds, as their writers gave them
   * (plaintext): a counter kept as batches commit, costing nothing to read. Absent only while it is
   * counted again in the background after an open that followed a crash.
   */
  liveBytes?: number
  /**
   * Size of the database's directory on disk, read now (a readdir and a stat per file: about 500
   * for 1 GiB stored); absent for a store not on disk.
   */
  bytesOnDisk?: number
  /** Bytes deleted since open whose disk space compaction has not given back yet. */
  reclaimableBytes: number
  /** Ranges compacted since open, in the background or by `compact()`. */
  compactions: number
}

export interface CreateMultipartUploadOptions extends ObjectHeaders, EncryptionOptions, TaggingOptions {
  /** Every part gets this checksum, and the completed object the combined one. */
  checksumAlgorithm?: ChecksumAlgorithm
  /** COMPOSITE (checksum of the part checksums, `-N`; the default) or FULL_OBJECT (CRCs only; the only type, and default, for CRC64NVME). */
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT'
  /** `'*'`: completing may only create the object, not replace one. */
  ifNoneMatch?: string
}

export interface MultipartUpload extends EncryptionInfo {
  bucket: string
  key: string
  uploadId: string
  checksumAlgorithm?: ChecksumAlgorithm
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT'
}

export type UploadPartOptions = Pick<PutObjectOptions, 'contentMD5' | 'checksums' | 'checksumAlgorithm' | 'trailingChecksums' | 'contentLength' | 'customerKey'>

export interface UploadPartResult {
  /** Quoted hex MD5 of the part. */
  etag: string
  size: number
  checksums: Checksums
}

export interface UploadPartCopyOptions {
  /** The upload's SSE-C key, and the source's. */
  customerKey?: CustomerKey
  sourceCustomerKey?: CustomerKey
  /** `bytes=first-last` of the source, both bounds required; default the whole source. */
  range?: string
  sourceIfMatch?: string
  sourceIfNoneMatch?: string
  sourceIfModifiedSince?: Date | string
  sourceIfUnmodifiedSince?: Date | string
  /** The source's version; default its current one. */
  sourceVersionId?: string
}

export interface UploadPartCopyResult {
  etag: string
  lastModified: Date
  checksums: Checksums
  /** The source version copied; absent when the source bucket was never versioned. */
  copySourceVersionId?: string
}

export interface CompletedPart {
  partNumber: number
  /** Quoted or not. */
  etag: string
  /** Compared with the part's stored checksums when given (InvalidPart). */
  checksums?: Checksums
}

export type CompleteMultipartUploadOptions = WriteConditions

export interface CompleteMultipartUploadResult extends EncryptionInfo {
  bucket: string
  key: string
  /** S3's multipart ETag: the MD5 of the parts' binary MD5s, then `-N`. */
  etag: string
  size: number
  lastModified: Date
  checksums: Checksums
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT'
  /** The version written: its id with versioning Enabled, `null` while Suspended; absent in a bucket never versioned. */
  versionId?: string
}

export interface PartInfo {
  partNumber: number
  etag: string
  size: number
  lastModified: Date
  checksums: Checksums
}

export interface ListPartsOptions {
  /** Parts after this number. */
  partNumberMarker?: number
  /** Default and cap 1000. */
  maxParts?: number
}

export interface ListPartsResult {
  bucket: string
  key: string
  uploadId: string
  parts: PartInfo[]
  isTruncated: boolean
  partNumberMarker: number
  nextPartNumberMarker?: number
  maxParts: number
  initiated: Date
  storageClass: StorageClass
  owner: Owner
  checksumAlgorithm?: ChecksumAlgorithm
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT'
}

export interface UploadSummary {
  key: string
  uploadId: string
  initiated: Date
  storageClass: StorageClass
  owner: Owner
  checksumAlgorithm?: ChecksumAlgorithm
}

export interface ListMultipartUploadsOptions {
  prefix?: string
  delimiter?: string
  /** Uploads of keys after this one (and with uploadIdMarker, later uploads of this key too). */
  keyMarker?: string
  uploadIdMarker?: string
  /** Default and cap 1000. */
  maxUploads?: number
}

export interface ListMultipartUploadsResult {
  bucket: string
  uploads: UploadSummary[]
  commonPrefixes: string[]
  isTruncated: boolean
  nextKeyMarker?: string
  nextUploadIdMarker?: string
  keyMarker: string
  uploadIdMarker: string
  maxUploads: number
  prefix: string
  delimiter?: string
}

export interface AbortIncompleteUploadsOptions {
  /** Abort uploads initiated this many ms ago or earlier (0: every one), or at or before this Date. */
  olderThan: number | Date
  /** Only uploads of keys under this prefix. */
  prefix?: string
  /** Abort nothing: report what would be aborted (and, through a scoped view, refused). */
  dryRun?: boolean
}

/** An upload as abortIncompleteUploads reports it. */
export interface AbortedUpload {
  key: string
  uploadId: string
  initiated: Date
}

export interface AbortIncompleteUploadsResult {
  /** What was aborted (with dryRun, what would be), in key order, then age within a key. */
  aborted: AbortedUpload[]
  /** Stale uploads a scoped caller may not abort (it lacks write on their key), left in place. */
  denied: AbortedUpload[]
}

export interface CreateAccessKeyOptions {
  name: string
  /** `[]` reaches nothing; `[{ bucket: '', permission: 'fullaccess' }]` reaches every bucket. */
  grants: Grant[]
  /** After this instant the key is refused. */
  expiresAt?: Date | string | number
  /** Requests per second (token bucket); past it, SlowDown. */
  rateLimit?: number
}

export interface AccessKeyUpdate {
  grants?: Grant[]
  /** null removes the expiry. */
  expiresAt?: Date | string | number | null
  /** null removes the limit. */
  rateLimit?: number | null
}

export interface AccessKeyInfo {
  accessKeyId: string
  name: string
  grants: Grant[]
  createdAt: Date
  expiresAt?: Date
  disabled: boolean
  rateLimit?: number
}

/** Returned by create and regenerate only: the one time the secret is shown. */
export interface NewAccessKey extends AccessKeyInfo {
  secretAccessKey: string
}

/** One way a key reaches a bucket (whoCanAccess). */
export interface KeyAccess {
  accessKeyId: string
  name: string
  permission: Permission
  prefix?: string
  /** May write objects with a public ACL. */
  publish?: true
  disabled: boolean
  expiresAt?: Date
}

export interface KeyUsage {
  /** Requests by operation name. */
  requests: Record<string, number>
  bytesIn: number
  bytesOut: number
  lastUsed?: Date
  /** Refused requests, and the last one's reason (for the owner's eyes only). */
  denied: number
  lastDenied?: { at: Date, operation: string, reason: string }
  /**
   * Requests and their bytes hour by hour (all operations together) over the last 7 days, by the
   * store's clock: oldest first, `hour` the start of the hour, hours without requests left out.
   * Refused requests are not in it.
   */
  history: Array<{ hour: Date, requests: number, bytesIn: number, bytesOut: number }>
}

export interface BucketEncryptionConfig {
  algorithm: 'AES256' | 'aws:kms'
  /** aws:kms only. */
  masterKeyId?: string
  bucketKeyEnabled?: boolean
}

/** The methods a CORS rule may allow (S3 accepts no others). */
export type CorsMethod = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD'

/** One rule of a bucket's CORS configuration (PutBucketCors). */
export interface CorsRule {
  /** At most 255 characters. */
  id?: string
  /** Origins allowed, each an exact string or a pattern with one `*` (`https://*.example.com`, `*`). */
  allowedOrigins: string[]
  allowedMethods: CorsMethod[]
  /** Headers a preflight may request, matched without regard to case; one `*` each at most. */
  allowedHeaders?: string[]
  /** Response headers scripts may read (`ETag` for uploads). */
  exposeHeaders?: string[]
  /** How long a browser may cache the preflight answer. */
  maxAgeSeconds?: number
}

/**
 * A bucket's static website (PutBucketWebsite): an index document (and optionally an error
 * document and routing rules), or else only `redirectAllRequestsTo`.
 */
export interface WebsiteConfiguration {
  /** Served for `/` and keys ending in `/`; a non-empty name without `/`. */
  indexDocument?: { suffix: string }
  /** Served, with the error's status, for 4xx errors. */
  errorDocument?: { key: string }
  /** Every request answers 301 to this host, same path and query. */
  redirectAllRequestsTo?: { hostName: string, protocol?: 'http' | 'https' }
  /** At most 50; the first that applies wins. */
  routingRules?: WebsiteRoutingRule[]
}

/** A redirect, and when it applies: always (no condition), for a key prefix, for an error status, or both. */
export interface WebsiteRoutingRule {
  condition?: { keyPrefixEquals?: string, httpErrorCodeReturnedEquals?: number }
  redirect: {
    hostName?: string
    protocol?: 'http' | 'https'
    /** 3xx but 300; default 301. */
    httpRedirectCode?: number
    /** Replaces the part of the key that `keyPrefixEquals` matched. */
    replaceKeyPrefixWith?: string
    /** Replaces the whole key. */
    replaceKeyWith?: string
  }
}

/**
 * Access keys as an archive carries them (`box.keys.exportSealed()`): each key's record with its
 * secret sealed under the keyring key, and the keyring key wrapped by the master key. Only the key
 * provider holding that master key opens them.
 */
export interface SealedKeys {
  keyring: { wrapped: string, masterKeyId: string }
  keys: Array<Record<string, unknown>>
}
