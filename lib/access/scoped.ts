import { SpaceboxError } from '../errors.js'
import type { Spacebox } from '../store.js'
import type {
  BucketEncryptionConfig, BucketInfo, Body, CorsRule, CustomerKey, CompleteMultipartUploadOptions, CompleteMultipartUploadResult, CompletedPart, CopyObjectOptions, CopyObjectResult,
  CreateMultipartUploadOptions, DeleteObjectsResult, GetObjectOptions, GetObjectResult, ListMultipartUploadsOptions,
  ListMultipartUploadsResult, ListObjectsOptions, ListObjectsResult, ListObjectsV2Options, ListObjectsV2Result, ListPartsOptions,
  ListPartsResult, MultipartUpload, ObjectInfo, ObjectSummary, PutObjectOptions, PutObjectResult, ReadConditions,
  UploadPartCopyOptions, UploadPartCopyResult, UploadPartOptions, UploadPartResult
} from '../types.js'
import type { AccessKeys } from './keys.js'
import type { Usage } from './usage.js'
import { authorize, listingScope, reachable, type Action } from './policy.js'
import { optionsOf } from '../validate.js'
import { COMMIT_CHECK } from '../internal/commit-check.js'

/** Listing calls that take a scope, which only the store can hand out. */
export interface ScopedListing {
  listObjectsV2: (bucket: string, options: ListObjectsV2Options, scope: string) => Promise<ListObjectsV2Result>
  listObjects: (bucket: string, options: ListObjectsOptions, scope: string) => Promise<ListObjectsResult>
  listAll: (bucket: string, options: { prefix?: string, startAfter?: string }, scope: string) => AsyncGenerator<ObjectSummary>
}

type Check = [Action, string, string?]

/**
 * The store as one access key sees it: the same bucket and object API, with every call checked
 * against the key's grants before it touches data, counted in the key's usage and rate limit.
 * The key is looked up on every call, so a revoke, disable, expiry or regenerate applies at once.
 */
export class ScopedSpacebox {
  readonly accessKeyId: string
  readonly #box: Spacebox
  readonly #keys: AccessKeys
  readonly #usage: Usage
  readonly #generation: number | undefined
  readonly #listing: ScopedListing

  /** `generation`: the secret generation the caller proved; a regenerate ends this view. */
  constructor (box: Spacebox, keys: AccessKeys, usage: Usage, accessKeyId: string, generation: number | undefined, listing: ScopedListing) {
    this.accessKeyId = accessKeyId
    this.#box = box
    this.#keys = keys
    this.#usage = usage
    this.#generation = generation
    this.#listing = listing
  }

  async listBuckets (): Promise<BucketInfo[]> {
    const record = this.#enter('ListBuckets', [])
    const visible = reachable(record.grants)
    const buckets = (await this.#box.listBuckets()).filter(b => visible === 'all' || visible.has(b.name))
    this.#count('ListBuckets')
    return buckets
  }

  async createBucket (name: string, options?: { region?: string }): Promise<BucketInfo> {
    return await this.#call('CreateBucket', [['admin', name]], async () => await this.#box.createBucket(name, options))
  }

  async headBucket (name: string): Promise<BucketInfo> {
    return await this.#call('HeadBucket', [['read', name]], async () => await this.#box.headBucket(name))
  }

  async deleteBucket (name: string): Promise<void> {
    await this.#call('DeleteBucket', [['admin', name]], async () => { await this.#box.deleteBucket(name) })
  }

  async putBucketEncryption (bucket: string, config: BucketEncryptionConfig): Promise<void> {
    await this.#call('PutBucketEncryption', [['admin', bucket]], async () => { await this.#box.putBucketEncryption(bucket, config) })
  }

  async getBucketEncryption (bucket: string): Promise<BucketEncryptionConfig> {
    return await this.#call('GetBucketEncryption', [['admin', bucket]], async () => await this.#box.getBucketEncryption(bucket))
  }

  async deleteBucketEncryption (bucket: string): Promise<void> {
    await this.#call('DeleteBucketEncryption', [['admin', bucket]], async () => { await this.#box.deleteBucketEncryption(bucket) })
  }

  async putBucketCors (bucket: string, rules: CorsRule[]): Promise<void> {
    await this.#call('PutBucketCors', [['admin', bucket]], async () => { await this.#box.putBucketCors(bucket, rules) })
  }

  async getBucketCors (bucket: string): Promise<CorsRule[]> {
    return await this.#call('GetBucketCors', [['admin', bucket]], async () => await this.#box.getBucketCors(bucket))
  }

  async deleteBucketCors (bucket: string): Promise<void> {
    await this.#call('DeleteBucketCors', [['admin', bucket]], async () => { await this.#box.deleteBucketCors(bucket) })
  }

  async putObject (bucket: string, key: string, body: Body, options?: PutObjectOptions): Promise<PutObjectResult> {
    const checks: Check[] = [['write', bucket, key]]
    this.#enter('PutObject', checks)
    const result = await this.#box.putObject(bucket, key, body, this.#atCommit('PutObject', checks, options))
    this.#count('PutObject', result.size)
    return result
  }

  async getObject (bucket: string, key: string, options?: GetObjectOptions): Promise<GetObjectResult> {
    this.#enter('GetObject', [['read', bucket, key]])
    const result = await this.#box.getObject(bucket, key, options)
    this.#count('GetObject', 0, result.range === undefined ? result.info.size : result.range.end - result.range.start + 1)
    return result
  }

  async headObject (bucket: string, key: string, options?: ReadConditions & { customerKey?: CustomerKey }): Promise<ObjectInfo> {
    return await this.#call('HeadObject', [['read', bucket, key]], async () => await this.#box.headObject(bucket, key, options))
  }

  async deleteObject (bucket: string, key: string): Promise<void> {
    await this.#call('DeleteObject', [['write', bucket, key]], async () => { await this.#box.deleteObject(bucket, key) })
  }

  /** Keys the grants do not cover get an AccessDenied entry each; the others are deleted. */
  async deleteObjects (bucket: string, keys: string[]): Promise<DeleteObjectsResult> {
    const record = this.#enter('DeleteObjects', [['read', bucket]])
    const allowed = keys.filter(key => authorize(record.grants, 'write', bucket, key).allowed)
    const result = await this.#box.deleteObjects(bucket, allowed)
    for (const key of keys) {
      if (!allowed.includes(key)) result.errors.push({ key, code: 'AccessDenied', message: 'Access Denied' })
    }
    this.#count('DeleteObjects')
    return result
  }

  async copyObject (srcBucket: string, srcKey: string, dstBucket: string, dstKey: string, options?: CopyObjectOptions): Promise<CopyObjectResult> {
    const checks: Check[] = [['read', srcBucket, srcKey], ['write', dstBucket, dstKey]]
    return await this.#call('CopyObject', checks,
      async () => await this.#box.copyObject(srcBucket, srcKey, dstBucket, dstKey, this.#atCommit('CopyObject', checks, options)))
  }

  /** A listing reaching past a prefix-scoped grant is clipped to it. */
  async listObjectsV2 (bucket: string, options: ListObjectsV2Options = {}): Promise<ListObjectsV2Result> {
    options = optionsOf(options)
    const scope = this.#scope('ListObjectsV2', bucket, options.prefix)
    return await this.#call('ListObjectsV2', [], async () => await this.#listing.listObjectsV2(bucket, options, scope))
  }

  async listObjects (bucket: string, options: ListObjectsOptions = {}): Promise<ListObjectsResult> {
    options = optionsOf(options)
    const scope = this.#scope('ListObjects', bucket, options.prefix)
    return await this.#call('ListObjects', [], async () => await this.#listing.listObjects(bucket, options, scope))
  }

  async * listAll (bucket: string, options: { prefix?: string, startAfter?: string } = {}): AsyncGenerator<ObjectSummary> {
    options = optionsOf(options)
    const scope = this.#scope('ListObjectsV2', bucket, options.prefix)
    yield * this.#listing.listAll(bucket, options, scope)
  }

  async createMultipartUpload (bucket: string, key: string, options?: CreateMultipartUploadOptions): Promise<MultipartUpload> {
    return await this.#call('CreateMultipartUpload', [['write', bucket, key]], async () => await this.#box.createMultipartUpload(bucket, key, options))
  }

  async uploadPart (bucket: string, key: string, uploadId: string, partNumber: number, body: Body, options?: UploadPartOptions): Promise<UploadPartResult> {
    const checks: Check[] = [['write', bucket, key]]
    this.#enter('UploadPart', checks)
    const result = await this.#box.uploadPart(bucket, key, uploadId, partNumber, body, this.#atCommit('UploadPart', checks, options))
    this.#count('UploadPart', result.size)
    return result
  }

  async uploadPartCopy (bucket: string, key: string, uploadId: string, partNumber: number, srcBucket: string, srcKey: string, options?: UploadPartCopyOptions): Promise<UploadPartCopyResult> {
    const checks: Check[] = [['read', srcBucket, srcKey], ['write', bucket, key]]
    return await this.#call('UploadPartCopy', checks,
      async () => await this.#box.uploadPartCopy(bucket, key, uploadId, partNumber, srcBucket, srcKey, this.#atCommit('UploadPartCopy', checks, options)))
  }

  async completeMultipartUpload (bucket: string, key: string, uploadId: string, parts: CompletedPart[], options?: CompleteMultipartUploadOptions): Promise<CompleteMultipartUploadResult> {
    const checks: Check[] = [['write', bucket, key]]
    return await this.#call('CompleteMultipartUpload', checks,
      async () => await this.#box.completeMultipartUpload(bucket, key, uploadId, parts, this.#atCommit('CompleteMultipartUpload', checks, options)))
  }

  async abortMultipartUpload (bucket: string, key: string, uploadId: string): Promise<void> {
    await this.#call('AbortMultipartUpload', [['write', bucket, key]], async () => { await this.#box.abortMultipartUpload(bucket, key, uploadId) })
  }

  async listParts (bucket: string, key: string, uploadId: string, options?: ListPartsOptions): Promise<ListPartsResult> {
    return await this.#call('ListParts', [['read', bucket, key]], async () => await this.#box.listParts(bucket, key, uploadId, options))
  }

  /** Uploads of a prefix-scoped key are listed under its granted prefix. */
  async listMultipartUploads (bucket: string, options: ListMultipartUploadsOptions = {}): Promise<ListMultipartUploadsResult> {
    options = optionsOf(options)
    const scope = this.#scope('ListMultipartUploads', bucket, options.prefix)
    const scoped = scope === '' ? options : { ...options, prefix: scope }
    return await this.#call('ListMultipartUploads', [], async () => await this.#box.listMultipartUploads(bucket, scoped))
  }

  async #call<T> (operation: string, checks: Check[], fn: () => Promise<T>): Promise<T> {
    this.#enter(operation, checks)
    const result = await fn()
    this.#count(operation)
    return result
  }

  /** The key's record if it may make this request: live, current, within its rate, granted. */
  #enter (operation: string, checks: Check[]): ReturnType<AccessKeys['live']> {
    const record = this.#keys.live(this.accessKeyId)
    if (this.#generation !== undefined && record.generation !== this.#generation) {
      throw new SpaceboxError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.')
    }
    this.#usage.take(record.id, record.rateLimit)
    this.#grant(record, operation, checks)
    return record
  }

  #grant (record: ReturnType<AccessKeys['live']>, operation: string, checks: Check[]): void {
    for (const [action, bucket, key] of checks) {
      const decision = authorize(record.grants, action, bucket, key)
      if (!decision.allowed) this.#deny(operation, decision.reason, bucket, key)
    }
  }

  /**
   * The options of a write, with the check its commit runs: the key still live, its secret the one
   * the request proved (AccessDenied after a regenerate), its grants still covering the write.
   */
  #atCommit<T extends object> (operation: string, checks: Check[], options: T | undefined): T {
    return {
      ...optionsOf(options),
      [COMMIT_CHECK]: () => {
        const record = this.#keys.live(this.accessKeyId)
        if (this.#generation !== undefined && record.generation !== this.#generation) {
          const [, bucket, key] = checks[checks.length - 1]!
          this.#deny(operation, 'secret regenerated during the request', bucket, key)
        }
        this.#grant(record, operation, checks)
      }
    }
  }

  #scope (operation: string, bucket: string, prefix: string | undefined): string {
    const record = this.#enter(operation, [])
    const decision = listingScope(record.grants, bucket, typeof prefix === 'string' ? prefix : '')
    if (!decision.allowed) this.#deny(operation, decision.reason, bucket, undefined)
    return decision.scope
  }

  #deny (operation: string, reason: string, bucket: string, key: string | undefined): never {
    this.#usage.denied(this.accessKeyId, operation, reason)
    throw new SpaceboxError('AccessDenied', 'Access Denied', { bucket, key })
  }

  #count (operation: string, bytesIn = 0, bytesOut = 0): void {
    this.#usage.count(this.accessKeyId, operation, bytesIn, bytesOut)
  }
}
