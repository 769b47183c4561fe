import { S3Error } from './errors.js'
import type { Call } from './call.js'
import type { Target } from './request.js'
import * as acl from './operations/acl.js'
import * as buckets from './operations/buckets.js'
import * as listing from './operations/listing.js'
import * as multipart from './operations/multipart.js'
import * as objects from './operations/objects.js'
import * as website from './operations/website.js'
import * as policy from './operations/policy.js'
import * as lifecycle from './operations/lifecycle.js'
import * as tagging from './operations/tagging.js'
import * as post from './post.js'

/** What a request's method, path and query select, in the order they are tried. */
interface Route {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE'
  /** What the path addresses: the service (no bucket), a bucket, or an object. */
  on: 'service' | 'bucket' | 'object'
  /** The subresource (or copy header) that selects it; none for the method's plain operation, tried last. */
  when?: (query: Map<string, string>, copy: boolean) => boolean
  /**
   * A subresource only its own routes serve: with it in the query, a method none of them takes is
   * MethodNotAllowed, never that method's plain operation (DELETE ?acl must not delete the object).
   */
  sub?: string
  handler: (call: Call) => Promise<void>
  /** DigitalOcean Spaces answers NotImplemented (the `spaces` profile does too). */
  notInSpaces?: true
}

const has = (name: string) => (query: Map<string, string>): boolean => query.has(name)

/**
 * Every S3 operation the adapter serves, each declared once: how a request selects it, the
 * handler that serves it through the caller's view of the store (where the engine's table of
 * operations decides what the caller may do), and where it differs by caller or profile.
 */
const ROUTES = {
  ListBuckets: { method: 'GET', on: 'service', handler: buckets.listBuckets },
  GetBucketLocation: { method: 'GET', on: 'bucket', when: has('location'), handler: buckets.getBucketLocation },
  GetBucketVersioning: { method: 'GET', on: 'bucket', when: has('versioning'), handler: buckets.getBucketVersioning },
  GetBucketEncryption: { method: 'GET', on: 'bucket', when: has('encryption'), handler: buckets.getBucketEncryption, notInSpaces: true },
  GetBucketCors: { method: 'GET', on: 'bucket', when: has('cors'), handler: buckets.getBucketCors },
  GetBucketWebsite: { method: 'GET', on: 'bucket', sub: 'website', handler: website.getBucketWebsite },
  GetBucketAcl: { method: 'GET', on: 'bucket', sub: 'acl', handler: acl.getBucketAcl },
  GetBucketPolicy: { method: 'GET', on: 'bucket', sub: 'policy', handler: policy.getBucketPolicy },
  GetBucketLifecycleConfiguration: { method: 'GET', on: 'bucket', sub: 'lifecycle', handler: lifecycle.getBucketLifecycleConfiguration },
  GetBucketPolicyStatus: { method: 'GET', on: 'bucket', sub: 'policyStatus', handler: policy.getBucketPolicyStatus, notInSpaces: true },
  GetBucketTagging: { method: 'GET', on: 'bucket', sub: 'tagging', handler: tagging.getBucketTagging, notInSpaces: true },
  ListObjectVersions: { method: 'GET', on: 'bucket', when: has('versions'), handler: listing.listObjectVersions },
  ListMultipartUploads: { method: 'GET', on: 'bucket', when: has('uploads'), handler: multipart.listMultipartUploads },
  ListObjectsV2: { method: 'GET', on: 'bucket', when: q => q.get('list-type') === '2', handler: listing.listObjectsV2 },
  ListObjects: { method: 'GET', on: 'bucket', handler: listing.listObjects },
  HeadBucket: { method: 'HEAD', on: 'bucket', handler: buckets.headBucket },
  PutBucketEncryption: { method: 'PUT', on: 'bucket', when: has('encryption'), handler: buckets.putBucketEncryption, notInSpaces: true },
  PutBucketCors: { method: 'PUT', on: 'bucket', when: has('cors'), handler: buckets.putBucketCors },
  PutBucketWebsite: { method: 'PUT', on: 'bucket', sub: 'website', handler: website.putBucketWebsite },
  PutBucketVersioning: { method: 'PUT', on: 'bucket', when: has('versioning'), handler: buckets.putBucketVersioning },
  PutBucketAcl: { method: 'PUT', on: 'bucket', sub: 'acl', handler: acl.putBucketAcl },
  PutBucketPolicy: { method: 'PUT', on: 'bucket', sub: 'policy', handler: policy.putBucketPolicy },
  PutBucketLifecycleConfiguration: { method: 'PUT', on: 'bucket', sub: 'lifecycle', handler: lifecycle.putBucketLifecycleConfiguration },
  PutBucketTagging: { method: 'PUT', on: 'bucket', sub: 'tagging', handler: tagging.putBucketTagging, notInSpaces: true },
  CreateBucket: { method: 'PUT', on: 'bucket', handler: buckets.createBucket },
  DeleteBucketEncryption: { method: 'DELETE', on: 'bucket', when: has('encryption'), handler: buckets.deleteBucketEncryption, notInSpaces: true },
  DeleteBucketCors: { method: 'DELETE', on: 'bucket', when: has('cors'), handler: buckets.deleteBucketCors },
  DeleteBucketWebsite: { method: 'DELETE', on: 'bucket', sub: 'website', handler: website.deleteBucketWebsite },
  DeleteBucketPolicy: { method: 'DELETE', on: 'bucket', sub: 'policy', handler: policy.deleteBucketPolicy },
  DeleteBucketLifecycle: { method: 'DELETE', on: 'bucket', sub: 'lifecycle', handler: lifecycle.deleteBucketLifecycle },
  DeleteBucketTagging: { method: 'DELETE', on: 'bucket', sub: 'tagging', handler: tagging.deleteBucketTagging, notInSpaces: true },
  DeleteBucket: { method: 'DELETE', on: 'bucket', handler: buckets.deleteBucket },
  DeleteObjects: { method: 'POST', on: 'bucket', when: has('delete'), handler: objects.deleteObjects },
  PostObject: { method: 'POST', on: 'bucket', handler: post.postObject },
  ListParts: { method: 'GET', on: 'object', when: has('uploadId'), handler: multipart.listParts },
  GetObjectAttributes: { method: 'GET', on: 'object', when: has('attributes'), handler: objects.getObjectAttributes, notInSpaces: true },
  GetObjectAcl: { method: 'GET', on: 'object', sub: 'acl', handler: acl.getObjectAcl },
  PutObjectAcl: { method: 'PUT', on: 'object', sub: 'acl', handler: acl.putObjectAcl },
  GetObjectTagging: { method: 'GET', on: 'object', sub: 'tagging', handler: tagging.getObjectTagging },
  PutObjectTagging: { method: 'PUT', on: 'object', sub: 'tagging', handler: tagging.putObjectTagging },
  DeleteObjectTagging: { method: 'DELETE', on: 'object', sub: 'tagging', handler: tagging.deleteObjectTagging },
  GetObject: { method: 'GET', on: 'object', handler: objects.getObject },
  HeadObject: { method: 'HEAD', on: 'object', handler: objects.headObject },
  UploadPartCopy: { method: 'PUT', on: 'object', when: (q, copy) => copy && (q.has('uploadId') || q.has('partNumber')), handler: multipart.uploadPartCopy },
  UploadPart: { method: 'PUT', on: 'object', when: q => q.has('uploadId') || q.has('partNumber'), handler: multipart.uploadPart },
  CopyObject: { method: 'PUT', on: 'object', when: (_, copy) => copy, handler: objects.copyObject },
  PutObject: { method: 'PUT', on: 'object', handler: objects.putObject },
  AbortMultipartUpload: { method: 'DELETE', on: 'object', when: has('uploadId'), handler: multipart.abortMultipartUpload },
  DeleteObject: { method: 'DELETE', on: 'object', handler: objects.deleteObject },
  CreateMultipartUpload: { method: 'POST', on: 'object', when: has('uploads'), handler: multipart.createMultipartUpload },
  CompleteMultipartUpload: { method: 'POST', on: 'object', when: has('uploadId'), handler: multipart.completeMultipartUpload }
} as const satisfies Record<string, Route>

export type Operation = keyof typeof ROUTES

const ENTRIES = Object.entries(ROUTES) as Array<[Operation, Route]>
const CLAIMED: ReadonlySet<string> = new Set(ENTRIES.flatMap(([, r]) => r.sub ?? []))

// Subresources S3 has and spacebox does not implement: answered NotImplemented, never with a
// wrong success (a GET ?logging must not list the bucket).
const UNIMPLEMENTED = new Set([
  'accelerate', 'analytics', 'intelligent-tiering', 'inventory', 'legal-hold', 'logging',
  'metadataConfiguration', 'metadataTable', 'metrics', 'notification', 'object-lock', 'ownershipControls',
  'publicAccessBlock', 'replication', 'requestPayment', 'restore', 'retention', 'select', 'session',
  'torrent', 'renameObject'
])

/**
 * The operation a request asks for, from its method and the subresource parameters present.
 * Unknown parameters (the SDKs' `x-id`, `X-Amz-*` of presigned URLs) do not count.
 */
export function route (method: string, target: Target, headers: Record<string, string | string[] | undefined>): Operation {
  const q = target.query
  let claimed: string | undefined
  for (const name of q.keys()) {
    if (UNIMPLEMENTED.has(name)) throw notImplemented(`?${name}`)
    if (claimed === undefined && CLAIMED.has(name)) claimed = name
  }
  const on = target.bucket === undefined ? 'service' : target.key === undefined ? 'bucket' : 'object'
  const copy = headers['x-amz-copy-source'] !== undefined
  const found = ENTRIES.find(([, r]) => r.method === method && r.on === on && r.sub === claimed && (r.when?.(q, copy) ?? true))
  if (found !== undefined) return found[0]
  if (on === 'bucket' && method === 'POST') throw notImplemented('this POST on a bucket')
  if (on === 'object' && method === 'POST') throw notImplemented('this POST on an object')
  throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: method, ResourceType: 'OBJECT' })
}

/** The handler, and how the operation differs by caller and profile. */
export function routeOf (operation: Operation): Route {
  return ROUTES[operation]
}

function notImplemented (what: string): S3Error {
  return new S3Error('NotImplemented', `A header or query you provided requested a function that is not implemented: ${what}.`)
}
