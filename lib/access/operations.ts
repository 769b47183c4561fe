/**
 * The operations a scoped view offers, each declared once: its S3 name, the store method that does
 * it, and what a caller needs for it, read from the call's arguments. The scoped view
 * (`box.as(id)`, `box.withCredentials()`, the anonymous view) is generated from this table, and the
 * permission tests walk it: adding an operation is one entry here, one engine method, one adapter
 * handler. Pure data; nothing here touches the store.
 */
import type { Action } from './policy.js'

/** One authorisation a call needs: an action on a bucket, or on an object of it. */
export type Check = readonly [action: Action, bucket: string, key?: string]

/**
 * How the view wraps the call:
 * - `call`: every check must pass before the call (and, with `commit`, again as it commits);
 * - `listing`: the listing is clipped to the part of the bucket the grants cover;
 * - `buckets`: the answer is filtered to the buckets the grants name;
 * - `deleteMany`: keys the grants do not cover get an AccessDenied entry each, the rest are deleted.
 */
export type Wrap = 'call' | 'listing' | 'buckets' | 'deleteMany'

export interface OperationSpec {
  /** The store method, and the scoped view's. */
  method: string
  wrap: Wrap
  /** What the call needs, from its arguments (`listing`: the bucket read; `deleteMany`: read on the bucket). */
  checks: (args: readonly unknown[]) => Check[]
  /** Where the call's options are: a `commit` check and a listing scope travel in them. */
  options?: number
  /** The checks run again at the instant the write commits. */
  commit?: true
  /** The method returns an async generator (checked when iteration starts), not a promise. */
  generator?: true
  /** Bytes into and out of the store, for the key's usage figures. */
  bytes?: (result: unknown, args: readonly unknown[]) => { in?: number, out?: number }
}

const none = (): Check[] => []
const onBucket = (action: Action) => (args: readonly unknown[]): Check[] => [[action, args[0] as string]]
const onObject = (action: Action) => (args: readonly unknown[]): Check[] => [[action, args[0] as string, args[1] as string]]
/** Read the object at `from`, `from + 1`; write the one at `to`, `to + 1`. */
const copying = (from: number, to: number) => (args: readonly unknown[]): Check[] =>
  [['read', args[from] as string, args[from + 1] as string], ['write', args[to] as string, args[to + 1] as string]]
const sizeIn = (result: unknown): { in: number } => ({ in: (result as { size: number }).size })

export const OPERATIONS = {
  ListBuckets: { method: 'listBuckets', wrap: 'buckets', checks: none },
  CreateBucket: { method: 'createBucket', wrap: 'call', checks: onBucket('admin') },
  HeadBucket: { method: 'headBucket', wrap: 'call', checks: onBucket('read') },
  DeleteBucket: { method: 'deleteBucket', wrap: 'call', checks: onBucket('admin') },
  PutBucketEncryption: { method: 'putBucketEncryption', wrap: 'call', checks: onBucket('admin') },
  GetBucketEncryption: { method: 'getBucketEncryption', wrap: 'call', checks: onBucket('admin') },
  DeleteBucketEncryption: { method: 'deleteBucketEncryption', wrap: 'call', checks: onBucket('admin') },
  PutBucketCors: { method: 'putBucketCors', wrap: 'call', checks: onBucket('admin') },
  GetBucketCors: { method: 'getBucketCors', wrap: 'call', checks: onBucket('admin') },
  DeleteBucketCors: { method: 'deleteBucketCors', wrap: 'call', checks: onBucket('admin') },
  PutBucketVersioning: { method: 'putBucketVersioning', wrap: 'call', checks: onBucket('admin') },
  /** Read: whether versions are kept is part of reading a bucket's listings right. */
  GetBucketVersioning: { method: 'getBucketVersioning', wrap: 'call', checks: onBucket('read') },
  PutObject: { method: 'putObject', wrap: 'call', checks: onObject('write'), options: 3, commit: true, bytes: sizeIn },
  GetObject: {
    method: 'getObject',
    wrap: 'call',
    checks: onObject('read'),
    bytes: result => {
      const { info, range } = result as { info: { size: number }, range?: { start: number, end: number } }
      return { out: range === undefined ? info.size : range.end - range.start + 1 }
    }
  },
  HeadObject: { method: 'headObject', wrap: 'call', checks: onObject('read') },
  /** A specific version too: our write covers S3's s3:DeleteObjectVersion. */
  DeleteObject: { method: 'deleteObject', wrap: 'call', checks: onObject('write') },
  DeleteObjects: { method: 'deleteObjects', wrap: 'deleteMany', checks: onBucket('read') },
  CopyObject: { method: 'copyObject', wrap: 'call', checks: copying(0, 2), options: 4, commit: true },
  ListObjectsV2: { method: 'listObjectsV2', wrap: 'listing', checks: onBucket('read'), options: 1 },
  ListObjects: { method: 'listObjects', wrap: 'listing', checks: onBucket('read'), options: 1 },
  /** `box.listAll()`: ListObjectsV2 page after page. */
  ListAll: { method: 'listAll', wrap: 'listing', checks: onBucket('read'), options: 1, generator: true },
  ListObjectVersions: { method: 'listObjectVersions', wrap: 'listing', checks: onBucket('read'), options: 1 },
  /** `box.listAllVersions()`: ListObjectVersions page after page. */
  ListAllVersions: { method: 'listAllVersions', wrap: 'listing', checks: onBucket('read'), options: 1, generator: true },
  CreateMultipartUpload: { method: 'createMultipartUpload', wrap: 'call', checks: onObject('write') },
  UploadPart: { method: 'uploadPart', wrap: 'call', checks: onObject('write'), options: 5, commit: true, bytes: sizeIn },
  UploadPartCopy: { method: 'uploadPartCopy', wrap: 'call', checks: copying(4, 0), options: 6, commit: true },
  CompleteMultipartUpload: { method: 'completeMultipartUpload', wrap: 'call', checks: onObject('write'), options: 4, commit: true },
  AbortMultipartUpload: { method: 'abortMultipartUpload', wrap: 'call', checks: onObject('write') },
  ListParts: { method: 'listParts', wrap: 'call', checks: onObject('read') },
  ListMultipartUploads: { method: 'listMultipartUploads', wrap: 'listing', checks: onBucket('read'), options: 1 }
} as const satisfies Record<string, OperationSpec>

export type OperationName = keyof typeof OPERATIONS
/** The store methods a scoped view has. */
export type ScopedMethod = typeof OPERATIONS[OperationName]['method']
