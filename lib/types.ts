import type { Readable } from 'node:stream'
import type { AnyLevel } from './schema/keys.js'
import type { ChecksumAlgorithm, Checksums } from './internal/checksums.js'

export type { ChecksumAlgorithm, Checksums }

export interface OpenOptions {
  /** Directory of an on-disk LevelDB store (classic-level); created if absent. */
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
  /** Region reported for buckets created without one. Default `us-east-1`. */
  region?: string
  /** fsync every commit: survives power loss, not only a process crash. Default false. */
  sync?: boolean
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
}

export interface WriteConditions {
  /** Only `'*'`: write only if no object has the key (PreconditionFailed otherwise). */
  ifNoneMatch?: string
  /** Overwrite only the object with this ETag (PreconditionFailed; NoSuchKey if absent). */
  ifMatch?: string
}

export interface PutObjectOptions extends ObjectHeaders, WriteConditions {
  /** Base64 MD5 the body must have (BadDigest; InvalidDigest if malformed). */
  contentMD5?: string
  /** Checksums the body must have, base64 as S3 sends them (BadDigest). They are stored. */
  checksums?: Checksums
  /** Compute and store this checksum as well. */
  checksumAlgorithm?: ChecksumAlgorithm
  /** The exact number of bytes the body must have (IncompleteBody otherwise). */
  contentLength?: number
}

export interface PutObjectResult {
  /** Quoted, as S3 sends it. */
  etag: string
  size: number
  lastModified: Date
  checksums: Checksums
}

export interface ObjectInfo {
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
  storageClass: 'STANDARD'
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

export interface GetObjectOptions extends ReadConditions {
  /**
   * One byte range: an HTTP Range value (`bytes=0-99`, `bytes=100-`, `bytes=-100`) or offsets.
   * Unsatisfiable: InvalidRange. A value S3 would not understand (several ranges, another unit) is
   * ignored, as S3 ignores it.
   */
  range?: string | { start: number, end?: number }
}

export interface GetObjectResult {
  info: ObjectInfo
  /** Streams the bytes chunk by chunk. Read it to the end or destroy it. */
  body: Readable
  /** The bytes the body holds, when a range was asked for. */
  range?: ByteRange
}

export interface CopyObjectOptions extends ObjectHeaders, WriteConditions {
  /** COPY (default) keeps the source's headers and metadata; REPLACE takes them from these options. */
  metadataDirective?: 'COPY' | 'REPLACE'
  sourceIfMatch?: string
  sourceIfNoneMatch?: string
  sourceIfModifiedSince?: Date | string
  sourceIfUnmodifiedSince?: Date | string
}

export interface CopyObjectResult {
  etag: string
  lastModified: Date
  checksums: Checksums
}

export interface DeleteObjectsResult {
  deleted: string[]
  errors: Array<{ key: string, code: string, message: string }>
}
