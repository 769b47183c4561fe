/**
 * The store's calls that mirror, export and import make, written out so that those modules need not
 * import the store (which offers them as its own methods): a Spacebox has every one, and a key's
 * view (`box.as(id)`) the object and bucket calls its grants allow.
 */
import type { LifecycleRule } from '../lifecycle/types.js'
import type {
  Body, BucketAcl, BucketEncryptionConfig, BucketInfo, BucketVersioning, CannedAcl, CompletedPart, CompleteMultipartUploadResult, CorsRule,
  CreateMultipartUploadOptions, DeleteObjectOptions, DeleteObjectResult, GetObjectOptions, GetObjectResult, HeadObjectOptions, MultipartUpload,
  ObjectAcl, ObjectAclOptions, ObjectInfo, ObjectSummary, ObjectTagging, ObjectTaggingOptions, ObjectVersion, PutObjectOptions, PutObjectResult,
  SealedKeys, Tags, TagSet, UploadPartOptions, UploadPartResult, VersioningStatus, WebsiteConfiguration
} from '../types.js'

/** What a mirror reads and writes, object by object. */
export interface ObjectCalls {
  listBuckets: () => Promise<BucketInfo[]>
  headBucket: (name: string) => Promise<BucketInfo>
  createBucket: (name: string, options?: { region?: string, acl?: CannedAcl }) => Promise<BucketInfo>
  getBucketVersioning: (bucket: string) => Promise<BucketVersioning>
  putBucketVersioning: (bucket: string, status: VersioningStatus) => Promise<void>
  listAll: (bucket: string, options?: { prefix?: string }) => AsyncIterable<ObjectSummary>
  listAllVersions: (bucket: string, options?: { prefix?: string }) => AsyncIterable<ObjectVersion>
  headObject: (bucket: string, key: string, options?: HeadObjectOptions) => Promise<ObjectInfo>
  getObject: (bucket: string, key: string, options?: GetObjectOptions) => Promise<GetObjectResult>
  putObject: (bucket: string, key: string, body: Body, options?: PutObjectOptions) => Promise<PutObjectResult>
  createMultipartUpload: (bucket: string, key: string, options?: CreateMultipartUploadOptions) => Promise<MultipartUpload>
  uploadPart: (bucket: string, key: string, uploadId: string, partNumber: number, body: Body, options?: UploadPartOptions) => Promise<UploadPartResult>
  completeMultipartUpload: (bucket: string, key: string, uploadId: string, parts: CompletedPart[]) => Promise<CompleteMultipartUploadResult>
  abortMultipartUpload: (bucket: string, key: string, uploadId: string) => Promise<void>
  deleteObject: (bucket: string, key: string, options?: DeleteObjectOptions) => Promise<DeleteObjectResult>
  getObjectAcl: (bucket: string, key: string, options?: ObjectAclOptions) => Promise<ObjectAcl>
  getObjectTagging: (bucket: string, key: string, options?: ObjectTaggingOptions) => Promise<ObjectTagging>
}

/** What an archive also carries: every bucket setting and, when asked, the access keys sealed. */
export interface StoreCalls extends ObjectCalls {
  keys: {
    exportSealed: () => Promise<SealedKeys>
    importSealed: (bundle: SealedKeys, options?: { dryRun?: boolean }) => Promise<{ imported: number, unchanged: number }>
  }
  getBucketAcl: (bucket: string) => Promise<BucketAcl>
  getBucketPolicy: (bucket: string) => Promise<string>
  putBucketPolicy: (bucket: string, policy: string) => Promise<void>
  getBucketCors: (bucket: string) => Promise<CorsRule[]>
  putBucketCors: (bucket: string, rules: CorsRule[]) => Promise<void>
  getBucketLifecycleConfiguration: (bucket: string) => Promise<LifecycleRule[]>
  putBucketLifecycleConfiguration: (bucket: string, rules: LifecycleRule[]) => Promise<void>
  getBucketWebsite: (bucket: string) => Promise<WebsiteConfiguration>
  putBucketWebsite: (bucket: string, config: WebsiteConfiguration) => Promise<void>
  getBucketEncryption: (bucket: string) => Promise<BucketEncryptionConfig>
  putBucketEncryption: (bucket: string, config: BucketEncryptionConfig) => Promise<void>
  getBucketTagging: (bucket: string) => Promise<Tags>
  putBucketTagging: (bucket: string, tags: TagSet) => Promise<void>
}
