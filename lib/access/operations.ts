/**
 * The operations a scoped view offers, each declared once: its S3 name, the store method that does
 * it, and what a caller needs for it, read from the call's arguments. The scoped view
 * (`box.as(id)`, `box.withCredentials()`, the anonymous view) is generated from this table, and the
 * permission tests walk it: adding an operation is one entry here, one engine method, one adapter
 * handler. Pure data; nothing here touches the store.
 */
import { publishes } from './acl.js'
import type { Action } from './policy.js'

/**
 * One authorisation a call needs: an action on a bucket, or on an object of it, and the S3 action
 * (as bucket policies name it, `s3:GetObject`) that it is.
 */
export type Check = readonly [action: Action, bucket: string, key: string | undefined, s3: string]

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
  /** A read an object's own ACL may allow: decided, for an unsigned caller, by the version it finds. */
  byObject?: true
  /** The method returns an async generator (checked when iteration starts), not a promise. */
  generator?: true
  /** Bytes into and out of the store, for the key's usage figures. */
  bytes?: (result: unknown, args: readonly unknown[]) => { in?: number, out?: number }
  /** A bulk change (`listing`): what each object it changes needs besides, decided as it comes to it. */
  each?: readonly [action: Action, s3: string]
}

type Args = readonly unknown[]
/** The S3 action, which may depend on the arguments (a version named: `s3:GetObjectVersion`). */
type S3Action = string | ((args: Args) => string)

const none = (): Check[] => []
const named = (s3: S3Action, args: Args): string => typeof s3 === 'string' ? s3 : s3(args)
const onBucket = (action: Action, s3: S3Action) => (args: Args): Check[] => [[action, args[0] as string, undefined, named(s3, args)]]
const onObject = (action: Action, s3: S3Action) => (args: Args): Check[] => [[action, args[0] as string, args[1] as string, named(s3, args)]]
/** `base`, or its version form when the options at `index` name a version: s3:GetObjectAcl → s3:GetObjectVersionAcl. */
const versioned = (base: string, index: number) => (args: Args): string =>
  typeof (args[index] as { versionId?: unknown } | undefined)?.versionId === 'string' ? base.replace(/Object/, 'ObjectVersion') : base
/** A write of object `key`, with the publish right too when `acl` makes it public. */
const write = (bucket: string, key: string, s3: string, acl: unknown): Check[] =>
  publishes(acl) ? [['write', bucket, key, s3], ['publish', bucket, key, 's3:PutObjectAcl']] : [['write', bucket, key, s3]]
const aclIn = (args: Args, options: number): unknown => (args[options] as { acl?: unknown } | undefined)?.acl
const writing = (s3: string, options: number) => (args: Args): Check[] => write(args[0] as string, args[1] as string, s3, aclIn(args, options))
/** Read the object at `from`, `from + 1` (the version the options name, if one); write the one at `to`, `to + 1`. */
const copying = (from: number, to: number, options: number) => (args: Args): Check[] => {
  const version = (args[options] as { sourceVersionId?: unknown } | undefined)?.sourceVersionId
  return [['read', args[from] as string, args[from + 1] as string, typeof version === 'string' ? 's3:GetObjectVersion' : 's3:GetObject'],
    ...write(args[to] as string, args[to + 1] as string, 's3:PutObject', aclIn(args, options))]
}
const sizeIn = (result: unknown): { in: number } => ({ in: (result as { size: number }).size })

export const OPERATIONS = {
  ListBuckets: { method: 'listBuckets', wrap: 'buckets', checks: none },
  CreateBucket: { method: 'createBucket', wrap: 'call', checks: onBucket('admin', 's3:CreateBucket') },
  HeadBucket: { method: 'headBucket', wrap: 'call', checks: onBucket('read', 's3:ListBucket') },
  DeleteBucket: { method: 'deleteBucket', wrap: 'call', checks: onBucket('admin', 's3:DeleteBucket') },
  PutBucketEncryption: { method: 'putBucketEncryption', wrap: 'call', checks: onBucket('admin', 's3:PutEncryptionConfiguration') },
  GetBucketEncryption: { method: 'getBucketEncryption', wrap: 'call', checks: onBucket('admin', 's3:GetEncryptionConfiguration') },
  DeleteBucketEncryption: { method: 'deleteBucketEncryption', wrap: 'call', checks: onBucket('admin', 's3:PutEncryptionConfiguration') },
  PutBucketCors: { method: 'putBucketCors', wrap: 'call', checks: onBucket('admin', 's3:PutBucketCORS') },
  GetBucketCors: { method: 'getBucketCors', wrap: 'call', checks: onBucket('admin', 's3:GetBucketCORS') },
  DeleteBucketCors: { method: 'deleteBucketCors', wrap: 'call', checks: onBucket('admin', 's3:PutBucketCORS') },
  PutBucketWebsite: { method: 'putBucketWebsite', wrap: 'call', checks: onBucket('admin', 's3:PutBucketWebsite') },
  GetBucketWebsite: { method: 'getBucketWebsite', wrap: 'call', checks: onBucket('admin', 's3:GetBucketWebsite') },
  DeleteBucketWebsite: { method: 'deleteBucketWebsite', wrap: 'call', checks: onBucket('admin', 's3:DeleteBucketWebsite') },
  /** What expires in a bucket is its configuration: fullaccess. S3 deletes rules under s3:PutLifecycleConfiguration. */
  PutBucketLifecycleConfiguration: { method: 'putBucketLifecycleConfiguration', wrap: 'call', checks: onBucket('admin', 's3:PutLifecycleConfiguration') },
  GetBucketLifecycleConfiguration: { method: 'getBucketLifecycleConfiguration', wrap: 'call', checks: onBucket('admin', 's3:GetLifecycleConfiguration') },
  DeleteBucketLifecycle: { method: 'deleteBucketLifecycle', wrap: 'call', checks: onBucket('admin', 's3:PutLifecycleConfiguration') },
  PutBucketVersioning: { method: 'putBucketVersioning', wrap: 'call', checks: onBucket('admin', 's3:PutBucketVersioning') },
  /** Read: whether versions are kept is part of reading a bucket's listings right. */
  GetBucketVersioning: { method: 'getBucketVersioning', wrap: 'call', checks: onBucket('read', 's3:GetBucketVersioning') },
  PutBucketAcl: { method: 'putBucketAcl', wrap: 'call', checks: onBucket('admin', 's3:PutBucketAcl') },
  /** Read: what is public is no secret from those who can read the bucket. */
  GetBucketAcl: { method: 'getBucketAcl', wrap: 'call', checks: onBucket('read', 's3:GetBucketAcl') },
  PutBucketPolicy: { method: 'putBucketPolicy', wrap: 'call', checks: onBucket('admin', 's3:PutBucketPolicy') },
  GetBucketPolicy: { method: 'getBucketPolicy', wrap: 'call', checks: onBucket('admin', 's3:GetBucketPolicy') },
  DeleteBucketPolicy: { method: 'deleteBucketPolicy', wrap: 'call', checks: onBucket('admin', 's3:DeleteBucketPolicy') },
  GetBucketPolicyStatus: { method: 'getBucketPolicyStatus', wrap: 'call', checks: onBucket('read', 's3:GetBucketPolicyStatus') },
  PutObject: { method: 'putObject', wrap: 'call', checks: writing('s3:PutObject', 3), options: 3, commit: true, bytes: sizeIn },
  GetObject: {
    method: 'getObject',
    wrap: 'call',
    checks: onObject('read', versioned('s3:GetObject', 2)),
    options: 2,
    byObject: true,
    bytes: result => {
      const { info, range } = result as { info: { size: number }, range?: { start: number, end: number } }
      return { out: range === undefined ? info.size : range.end - range.start + 1 }
    }
  },
  HeadObject: { method: 'headObject', wrap: 'call', checks: onObject('read', versioned('s3:GetObject', 2)), options: 2, byObject: true },
  /** A specific version too: our write covers S3's s3:DeleteObjectVersion. */
  DeleteObject: { method: 'deleteObject', wrap: 'call', checks: onObject('write', versioned('s3:DeleteObject', 2)) },
  DeleteObjects: { method: 'deleteObjects', wrap: 'deleteMany', checks: onBucket('read', 's3:DeleteObject') },
  /** Changing who may read an object is configuring the bucket: fullaccess. */
  PutObjectAcl: { method: 'putObjectAcl', wrap: 'call', checks: onObject('admin', versioned('s3:PutObjectAcl', 3)) },
  GetObjectAcl: { method: 'getObjectAcl', wrap: 'call', checks: onObject('read', versioned('s3:GetObjectAcl', 2)) },
  /** An object's tags are read with it and written by who may write it; tags given with a write are part of it. */
  PutObjectTagging: { method: 'putObjectTagging', wrap: 'call', checks: onObject('write', versioned('s3:PutObjectTagging', 3)) },
  GetObjectTagging: { method: 'getObjectTagging', wrap: 'call', checks: onObject('read', versioned('s3:GetObjectTagging', 2)) },
  DeleteObjectTagging: { method: 'deleteObjectTagging', wrap: 'call', checks: onObject('write', versioned('s3:DeleteObjectTagging', 2)) },
  /** Bucket tags are the bucket's configuration: fullaccess. S3 deletes them under s3:PutBucketTagging. */
  PutBucketTagging: { method: 'putBucketTagging', wrap: 'call', checks: onBucket('admin', 's3:PutBucketTagging') },
  GetBucketTagging: { method: 'getBucketTagging', wrap: 'call', checks: onBucket('admin', 's3:GetBucketTagging') },
  DeleteBucketTagging: { method: 'deleteBucketTagging', wrap: 'call', checks: onBucket('admin', 's3:PutBucketTagging') },
  CopyObject: { method: 'copyObject', wrap: 'call', checks: copying(0, 2, 4), options: 4, commit: true },
  ListObjectsV2: { method: 'listObjectsV2', wrap: 'listing', checks: onBucket('read', 's3:ListBucket'), options: 1 },
  ListObjects: { method: 'listObjects', wrap: 'listing', checks: onBucket('read', 's3:ListBucket'), options: 1 },
  /** `box.listAll()`: ListObjectsV2 page after page. */
  ListAll: { method: 'listAll', wrap: 'listing', checks: onBucket('read', 's3:ListBucket'), options: 1, generator: true },
  ListObjectVersions: { method: 'listObjectVersions', wrap: 'listing', checks: onBucket('read', 's3:ListBucketVersions'), options: 1 },
  /** `box.listAllVersions()`: ListObjectVersions page after page. */
  ListAllVersions: { method: 'listAllVersions', wrap: 'listing', checks: onBucket('read', 's3:ListBucketVersions'), options: 1, generator: true },
  CreateMultipartUpload: { method: 'createMultipartUpload', wrap: 'call', checks: writing('s3:PutObject', 2) },
  UploadPart: { method: 'uploadPart', wrap: 'call', checks: onObject('write', 's3:PutObject'), options: 5, commit: true, bytes: sizeIn },
  UploadPartCopy: { method: 'uploadPartCopy', wrap: 'call', checks: copying(4, 0, 6), options: 6, commit: true },
  CompleteMultipartUpload: { method: 'completeMultipartUpload', wrap: 'call', checks: onObject('write', 's3:PutObject'), options: 4, commit: true },
  AbortMultipartUpload: { method: 'abortMultipartUpload', wrap: 'call', checks: onObject('write', 's3:AbortMultipartUpload') },
  ListParts: { method: 'listParts', wrap: 'call', checks: onObject('read', 's3:ListMultipartUploadParts') },
  ListMultipartUploads: { method: 'listMultipartUploads', wrap: 'listing', checks: onBucket('read', 's3:ListBucketMultipartUploads'), options: 1 },
  /** Lists as ListMultipartUploads does, then each stale upload needs what AbortMultipartUpload needs. */
  AbortIncompleteUploads: {
    method: 'abortIncompleteUploads', wrap: 'listing', checks: onBucket('read', 's3:ListBucketMultipartUploads'), options: 1, each: ['write', 's3:AbortMultipartUpload']
  }
} as const satisfies Record<string, OperationSpec>

export type OperationName = keyof typeof OPERATIONS
/** The store methods a scoped view has. */
export type ScopedMethod = typeof OPERATIONS[OperationName]['method']
