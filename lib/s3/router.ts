import { S3Error } from './errors.js'
import type { Target } from './request.js'

export type Operation =
  | 'ListBuckets'
  | 'CreateBucket' | 'HeadBucket' | 'DeleteBucket' | 'GetBucketLocation' | 'GetBucketVersioning'
  | 'PutBucketEncryption' | 'GetBucketEncryption' | 'DeleteBucketEncryption'
  | 'PutBucketCors' | 'GetBucketCors' | 'DeleteBucketCors'
  | 'ListObjects' | 'ListObjectsV2' | 'ListMultipartUploads' | 'DeleteObjects'
  | 'PutObject' | 'CopyObject' | 'GetObject' | 'HeadObject' | 'DeleteObject' | 'GetObjectAttributes'
  | 'CreateMultipartUpload' | 'UploadPart' | 'UploadPartCopy' | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload' | 'ListParts'

// Subresources S3 has and spacebox does not implement: answered NotImplemented, never with a
// wrong success (a GET ?acl must not list the bucket).
const UNIMPLEMENTED = new Set([
  'accelerate', 'acl', 'analytics', 'intelligent-tiering', 'inventory', 'legal-hold', 'lifecycle', 'logging',
  'metadataConfiguration', 'metadataTable', 'metrics', 'notification', 'object-lock', 'ownershipControls', 'policy',
  'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment', 'restore', 'retention', 'select', 'session',
  'tagging', 'torrent', 'versionId', 'versions', 'website', 'renameObject'
])

/**
 * The operation a request asks for, from its method and the subresource parameters present.
 * Unknown parameters (the SDKs' `x-id`, `X-Amz-*` of presigned URLs) do not count.
 */
export function route (method: string, target: Target, headers: Record<string, string | string[] | undefined>): Operation {
  const q = target.query
  for (const name of q.keys()) {
    if (UNIMPLEMENTED.has(name) && !(name === 'versionId' && q.get(name) === 'null')) {
      throw new S3Error('NotImplemented', `A header or query you provided requested a function that is not implemented: ?${name}.`)
    }
  }
  if (target.bucket === undefined) {
    if (method === 'GET') return 'ListBuckets'
    throw methodNotAllowed(method)
  }
  if (target.key === undefined) return bucketOperation(method, q)
  return objectOperation(method, q, headers['x-amz-copy-source'] !== undefined)
}

function bucketOperation (method: string, q: Map<string, string>): Operation {
  switch (method) {
    case 'GET':
      if (q.has('location')) return 'GetBucketLocation'
      if (q.has('versioning')) return 'GetBucketVersioning'
      if (q.has('encryption')) return 'GetBucketEncryption'
      if (q.has('cors')) return 'GetBucketCors'
      if (q.has('uploads')) return 'ListMultipartUploads'
      if (q.get('list-type') === '2') return 'ListObjectsV2'
      return 'ListObjects'
    case 'HEAD':
      return 'HeadBucket'
    case 'PUT':
      if (q.has('encryption')) return 'PutBucketEncryption'
      if (q.has('cors')) return 'PutBucketCors'
      if (q.has('versioning')) throw notImplemented('versioning')
      return 'CreateBucket'
    case 'DELETE':
      if (q.has('encryption')) return 'DeleteBucketEncryption'
      if (q.has('cors')) return 'DeleteBucketCors'
      return 'DeleteBucket'
    case 'POST':
      if (q.has('delete')) return 'DeleteObjects'
      throw notImplemented('POST on a bucket (browser form uploads)')
    default:
      throw methodNotAllowed(method)
  }
}

function objectOperation (method: string, q: Map<string, string>, copy: boolean): Operation {
  switch (method) {
    case 'GET':
      if (q.has('uploadId')) return 'ListParts'
      if (q.has('attributes')) return 'GetObjectAttributes'
      return 'GetObject'
    case 'HEAD':
      return 'HeadObject'
    case 'PUT':
      if (q.has('uploadId') || q.has('partNumber')) return copy ? 'UploadPartCopy' : 'UploadPart'
      return copy ? 'CopyObject' : 'PutObject'
    case 'DELETE':
      return q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject'
    case 'POST':
      if (q.has('uploads')) return 'CreateMultipartUpload'
      if (q.has('uploadId')) return 'CompleteMultipartUpload'
      throw notImplemented('this POST on an object')
    default:
      throw methodNotAllowed(method)
  }
}

function notImplemented (what: string): S3Error {
  return new S3Error('NotImplemented', `A header or query you provided requested a function that is not implemented: ${what}.`)
}

function methodNotAllowed (method: string): S3Error {
  return new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: method, ResourceType: 'OBJECT' })
}
