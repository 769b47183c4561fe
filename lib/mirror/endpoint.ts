/**
 * The small S3 client a mirror needs, one side of a copy: a spacebox store (`storeEndpoint`) or any
 * S3 endpoint (`s3Endpoint` in `spacebox/s3`). Keys are plain strings; ETags are quoted, as S3 sends
 * them. Errors carry S3's code in `code` (`NoSuchKey`, `NoSuchBucket`, `AccessDenied`).
 */
import type { Checksums } from '../internal/checksums.js'
import type { StorageClass } from '../objects/storage-class.js'
import type { ObjectCannedAcl, ObjectInfo, Tags } from '../types.js'

/** The optional headers an object keeps, by their engine names. */
export const OBJECT_HEADERS = ['contentEncoding', 'contentDisposition', 'contentLanguage', 'cacheControl', 'expires'] as const
type ObjectHeader = typeof OBJECT_HEADERS[number]

/** Those of `from`'s headers that it has. */
export function headersOf (from: Partial<Record<ObjectHeader, string | undefined>>): Partial<Record<ObjectHeader, string>> {
  const out: Partial<Record<ObjectHeader, string>> = {}
  for (const name of OBJECT_HEADERS) {
    const value = from[name]
    if (value !== undefined) out[name] = value
  }
  return out
}

/** One entry of a listing: an object, or with versions a version or a delete marker. */
export interface EndpointEntry {
  key: string
  /** Absent for objects listed without versions. */
  versionId?: string
  deleteMarker?: boolean
  size: number
  etag: string
  lastModified: Date
}

/** What an object carries besides its bytes: what a copy must reproduce. */
export interface EndpointObject extends Pick<ObjectInfo, 'size' | 'etag' | 'lastModified' | 'contentType' | 'contentEncoding' | 'contentDisposition' |
'contentLanguage' | 'cacheControl' | 'expires' | 'metadata'> {
  storageClass?: StorageClass
  /** Whole-object checksums where the source has them (a composite `-N` value is left out). */
  checksums: Checksums
  /** How the source stores it: a copy of an encrypted object needs `decrypt`, an SSE-C one its key. */
  encryption?: 'AES256' | 'aws:kms' | 'SSE-C'
}

/** What a write sends along with the bytes; `tags` and `acl` when the mirror carries them. */
export interface EndpointWrite extends Omit<EndpointObject, 'size' | 'etag' | 'lastModified' | 'encryption'> {
  tags?: Tags
  acl?: ObjectCannedAcl
  /** Write it under this SSE-C key (32 bytes). */
  customerKey?: Buffer
}

/** Which version to read, and the SSE-C key it needs, if any. */
export interface ReadOptions {
  versionId?: string | undefined
  customerKey?: Buffer | undefined
}

export interface MirrorEndpoint {
  listBuckets: () => Promise<string[]>
  /** Creates the bucket unless it exists (and is this caller's): true when it was created. */
  ensureBucket: (bucket: string) => Promise<boolean>
  getVersioning: (bucket: string) => Promise<'Enabled' | 'Suspended' | undefined>
  putVersioning: (bucket: string, status: 'Enabled' | 'Suspended') => Promise<void>
  /** Current objects under `prefix`, in key order. */
  list: (bucket: string, prefix: string) => AsyncIterable<EndpointEntry>
  /** Every version and delete marker under `prefix`: keys in order, each key's newest first (as S3 lists them). */
  listVersions: (bucket: string, prefix: string) => AsyncIterable<EndpointEntry>
  /** An object or one of its parts (`partNumber`: `size` is the part's). */
  head: (bucket: string, key: string, options?: ReadOptions & { partNumber?: number }) => Promise<EndpointObject>
  /** The bytes of an object, or of `range` (inclusive byte offsets). */
  get: (bucket: string, key: string, options?: ReadOptions & { range?: [number, number] }) => Promise<AsyncIterable<Uint8Array>>
  put: (bucket: string, key: string, body: AsyncIterable<Uint8Array>, size: number, write: EndpointWrite) => Promise<{ etag: string }>
  createMultipart: (bucket: string, key: string, write: EndpointWrite) => Promise<string>
  uploadPart: (bucket: string, key: string, uploadId: string, partNumber: number, body: AsyncIterable<Uint8Array>, size: number, customerKey?: Buffer) => Promise<string>
  completeMultipart: (bucket: string, key: string, uploadId: string, etags: string[]) => Promise<{ etag: string }>
  abortMultipart: (bucket: string, key: string, uploadId: string) => Promise<void>
  /** An object's tags (`mirror({ tags: true })`). */
  getTags: (bucket: string, key: string, versionId?: string) => Promise<Tags>
  /** An object's ACL as the canned ACL it amounts to (`mirror({ acl: true })`): grants to everyone or to any signed caller; anything else is private. */
  getAcl: (bucket: string, key: string, versionId?: string) => Promise<ObjectCannedAcl>
  /** A delete: with `versionId` that version goes; without, the object (or, versioned, a delete marker is added). */
  delete: (bucket: string, key: string, versionId?: string) => Promise<void>
}
