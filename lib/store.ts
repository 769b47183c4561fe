import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { SpaceboxError, fromStorageError } from './errors.js'
import { openSublevels, type AnyLevel } from './schema/keys.js'
import { loadIdentity, readFormat, sweep, writeFormat } from './schema/format.js'
import { resolveProvider } from './crypto/resolve.js'
import { countingProvider } from './crypto/provider.js'
import { deriveKey, openKeyring } from './crypto/keyring.js'
import { rotateMasterKey, type RotationResult } from './crypto/rotate.js'
import { Buckets } from './buckets.js'
import { checkCorsRules, type CorsPolicy } from './cors.js'
import { checkWebsiteConfiguration, type WebsitePolicy } from './website.js'
import type { Context, WriteOptions } from './context.js'
import { KeyedLock } from './internal/lock.js'
import { Gate } from './internal/gate.js'
import { privateDir } from './internal/private-dir.js'
import { Space } from './storage/space.js'
import { compactionSettings } from './storage/compactor.js'
import { assertBucketName, assertObjectKey, optionsOf } from './validate.js'
import { putObject } from './objects/put.js'
import { getObject, headObject } from './objects/get.js'
import { copyObject } from './objects/copy.js'
import { deleteObject, deleteObjects, MAX_DELETE_KEYS } from './objects/delete.js'
import type {
  BucketEncryptionConfig, CorsRule, CompleteMultipartUploadOptions, CompleteMultipartUploadResult, CompletedPart, CreateMultipartUploadOptions,
  ListMultipartUploadsOptions, ListMultipartUploadsResult, ListPartsOptions, ListPartsResult, MultipartUpload, AbortIncompleteUploadsOptions, AbortIncompleteUploadsResult,
  UploadPartCopyOptions, UploadPartCopyResult, UploadPartOptions, UploadPartResult,
  BucketInfo, BucketVersioning, Body, CopyObjectOptions, DeleteObjectOptions, DeleteObjectResult, HeadObjectOptions, ObjectIdentifier,
  ListObjectVersionsOptions, ListObjectVersionsResult, ObjectVersion, VersioningStatus, CopyObjectResult, DeleteObjectsResult, GetObjectOptions, GetObjectResult,
  ListObjectsOptions, ListObjectsResult, ListObjectsV2Options, ListObjectsV2Result, ObjectInfo, ObjectSummary,
  OpenOptions, PutObjectOptions, PutObjectResult, StoreStats, StoreStatus, WebsiteConfiguration, CompactResult,
  BucketAcl, BucketPolicyStatus, CannedAcl, ObjectCannedAcl, ObjectAcl, ObjectAclOptions, PublicAccess, PublicAccessOptions,
  ObjectTagging, ObjectTaggingOptions, TagSet, Tags
} from './types.js'
import { listAll, listObjects, listObjectsV2 } from './listing.js'
import { listAllVersions, listObjectVersions } from './version-listing.js'
import { AccessKeys } from './access/keys.js'
import { Usage } from './access/usage.js'
import { anonymousPrincipal, keyPrincipal, ScopedView, type Principal } from './access/scoped.js'
import type { RequestContext } from './access/decide.js'
import type { MirrorEndpoint } from './mirror/endpoint.js'
import { mirror, type MirrorOptions, type MirrorResult } from './mirror/mirror.js'
import { storeEndpoint } from './mirror/store-endpoint.js'
import { exportArchive, type ArchiveResult, type ExportOptions } from './archive/export.js'
import { importArchive, type ArchiveSource, type ImportOptions, type ImportResult } from './archive/import.js'
import type { Writable } from 'node:stream'
import type { ScopedMethod } from './access/operations.js'
import { eachCheckOf, listingScopeOf } from './internal/view-options.js'
import { createMultipartUpload, uploadPart, uploadPartCopy } from './multipart/parts.js'
import { abortMultipartUpload, completeMultipartUpload } from './multipart/complete.js'
import { listMultipartUploads, listParts } from './multipart/list.js'
import { abortIncompleteUploads } from './multipart/stale.js'
import { checkAcl } from './access/acl.js'
import { compilePolicy, publicStatements } from './access/bucket-policy.js'
import { getObjectAcl, putObjectAcl } from './objects/acl.js'
import { publicAccess } from './public-access.js'
import { checkLifecycleRules } from './lifecycle/rules.js'
import { lifecycleRules } from './lifecycle/config.js'
import { applyLifecycle } from './lifecycle/apply.js'
import { LifecycleIndex } from './lifecycle/build.js'
import { LifecycleScheduler } from './lifecycle/scheduler.js'
import { SegmentFiles } from './storage/files.js'
import type { ApplyLifecycleOptions, LifecycleResult, LifecycleRule } from './lifecycle/types.js'
import { checkBucketTags, checkObjectTags, tagsOf, type StoredTags } from './tags.js'
import { getObjectTagging, setObjectTags } from './objects/tagging.js'

const defaultOptions = Object.freeze({
  chunkSize: 1024 * 1024,
  inlineThreshold: 4 * 1024,
  maxObjectSize: 5 * 1024 ** 3,
  minPartSize: 5 * 1024 ** 2,
  bucketKeyTtl: 24 * 3600 * 1000,
  clock: Date.now,
  // Rules count whole days: an hour late at most is well within what S3 promises (it runs daily).
  lifecycleInterval: 3600 * 1000,
  region: 'us-east-1',
  sync: false,
  // Most object data is compressed already (media, archives, backups): trying Snappy on every
  // block cost 40% of a large put's throughput (256 MiB streamed: 147 MiB/s with, 240 without).
  compression: false,
  segmentFiles: true
})

const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/

/**
 * An object store with S3 semantics on LevelDB. Every public method checks its arguments and
 * the store's status, then hands typed, valid input to the module that does the work.
 */
export class Spacebox {
  readonly #ctx: Context
  readonly #buckets: Buckets
  readonly #keys: AccessKeys
  readonly #usage: Usage
  readonly #ownsDb: boolean
  #lifecycle!: LifecycleScheduler
  #lifecycleIndex!: LifecycleIndex

  private constructor (ctx: Context, buckets: Buckets, keys: AccessKeys, usage: Usage, ownsDb: boolean) {
    this.#ctx = ctx
    this.#buckets = buckets
    this.#keys = keys
    this.#usage = usage
    this.#ownsDb = ownsDb
  }

  /**
   * Open a store: on disk at `location` (created, or an empty one tightened, mode 0700), in memory with `memory: true`, or in
   * any abstract-level `db` given. Rejects with StoreLocked when another process (or another
   * Spacebox in this one) has the location open, and UnsupportedFormat for a store written by a
   * newer spacebox. Opening sweeps away data that a crash left uncommitted.
   */
  static async open (options: OpenOptions): Promise<Spacebox> {
    const settings = { ...defaultOptions, ...options }
    if (options.inlineThreshold === undefined) settings.inlineThreshold = Math.min(defaultOptions.inlineThreshold, settings.chunkSize)
    const sources = [options.location !== undefined, options.memory === true, options.db !== undefined].filter(Boolean).length
    if (sources !== 1) throw new TypeError('Spacebox.open needs exactly one of location, memory or db')
    if (!Number.isSafeInteger(settings.chunkSize) || settings.chunkSize < 1 || settings.chunkSize > 64 * 1024 ** 2) {
      throw new RangeError('chunkSize must be an integer from 1 byte to 64 MiB')
    }
    if (!Number.isSafeInteger(settings.inlineThreshold) || settings.inlineThreshold < 0 || settings.inlineThreshold > settings.chunkSize) {
      throw new RangeError('inlineThreshold must be an integer from 0 to chunkSize')
    }
    if (!Number.isSafeInteger(settings.maxObjectSize) || settings.maxObjectSize < 0) throw new RangeError('maxObjectSize must be a positive integer')
    if (!Number.isSafeInteger(settings.minPartSize) || settings.minPartSize < 0) throw new RangeError('minPartSize must be a positive integer')
    if (!(settings.bucketKeyTtl > 0)) throw new RangeError('bucketKeyTtl must be a positive number of milliseconds')
    if (!Number.isSafeInteger(settings.lifecycleInterval) || settings.lifecycleInterval < 0) throw new RangeError('lifecycleInterval must be a number of milliseconds, 0 for none')
    if (!REGION.test(settings.region)) throw new RangeError('region must be a region name such as us-east-1')
    if (typeof settings.compression !== 'boolean') throw new TypeError('compression must be true or false')
    if (typeof settings.segmentFiles !== 'boolean') throw new TypeError('segmentFiles must be true or false')
    const compaction = compactionSettings(options.compaction)

    let db: AnyLevel
    if (options.location !== undefined) {
      await privateDir(options.location)
      db = new Level(options.location, { compression: settings.compression }) as AnyLevel
    } else if (options.memory === true) {
      db = new MemoryLevel()
    } else {
      db = options.db as AnyLevel
    }
    const ownsDb = options.db === undefined
    let space: Space | undefined
    try {
      await db.open()
    } catch (err) {
      if ((err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED') {
        throw new SpaceboxError('StoreLocked', `The store at ${String(options.location)} is open in another process or instance`, { cause: err })
      }
      throw fromStorageError(err)
    }
    try {
      if (db.supports.explicitSnapshots !== true) {
        throw new TypeError('spacebox needs an abstract-level database with explicit snapshots (abstract-level 3, e.g. classic-level 3 or memory-level 3)')
      }
      const sub = openSublevels(db)
      const { isNew, older } = await readFormat(sub)
      const stats: StoreStats = { listRecordsRead: 0, listSeeks: 0, generateDataKey: 0, decrypt: 0, reclaimableBytes: 0, compactions: 0 }
      const provider = countingProvider(await resolveProvider(options, isNew), stats)
      const keyring = await openKeyring(sub, provider)
      if (isNew || older) await writeFormat(sub)
      const files = options.location === undefined ? undefined : new SegmentFiles(options.location, settings.segmentFiles)
      await files?.open()
      await sweep(sub, files)
      const identity = await loadIdentity(sub)
      const gate = new Gate()
      space = await Space.open(sub, stats, isNew, compaction, () => gate.quietFor(), files)
      const ctx: Context = {
        db,
        sub,
        locks: new KeyedLock(),
        gate,
        syncReads: (db.supports as { getSync?: boolean }).getSync === true,
        chunkSize: settings.chunkSize,
        inlineThreshold: settings.inlineThreshold,
        maxObjectSize: settings.maxObjectSize,
        minPartSize: settings.minPartSize,
        region: settings.region,
        write: { sync: settings.sync } as WriteOptions,
        tokenKey: deriveKey(keyring, 'listing tokens'),
        owner: { id: identity.ownerId, displayName: 'spacebox' },
        stats,
        provider,
        keyring,
        bucketKeyTtl: settings.bucketKeyTtl,
        now: settings.clock,
        lifecycleIndexed: new Set(),
        space,
        files
      }
      const usage = await Usage.load(ctx)
      const buckets = await Buckets.load(ctx)
      const box = new Spacebox(ctx, buckets, await AccessKeys.load(ctx, usage), usage, ownsDb)
      const index = new LifecycleIndex(ctx, buckets)
      index.resume()
      box.#lifecycleIndex = index
      box.#lifecycle = new LifecycleScheduler(async options => await ctx.gate.run(async () => await applyLifecycle(ctx, buckets, index, options)), settings.lifecycleInterval)
      box.#lifecycle.start()
      return box
    } catch (err) {
      await space?.close(false).catch(() => {})
      if (ownsDb) await db.close()
      throw fromStorageError(err)
    }
  }

  get status (): StoreStatus {
    return this.#ctx.gate.status
  }

  /**
   * Close the store. New calls are refused at once (NotOpen); calls under way get up to
   * `timeout` ms (default 2000) to finish, then the database closes and whatever is still running
   * fails with a SpaceboxError. A body still being streamed out ends with an error. The database
   * closes too, unless the caller passed it in. Closing again does nothing.
   */
  async close (options: { timeout?: number } = {}): Promise<void> {
    if (this.#ctx.gate.status === 'open') {
      // Index builds first: a pass waits for the build of its bucket.
      await this.#lifecycleIndex.close()
      await this.#lifecycle.stop()
    }
    await this.#ctx.gate.close(options.timeout ?? 2000, async () => {
      await this.#usage.close()
      // Last before the database: the live bytes are saved only if no call can still change them.
      await this.#ctx.space.close(!this.#ctx.gate.busy)
      this.#ctx.files?.close()
      if (this.#ownsDb) await this.#ctx.db.close()
    })
  }

  /** Create a bucket, private unless `acl` says otherwise. InvalidBucketName, BucketAlreadyOwnedByYou, InvalidArgument. */
  async createBucket (name: string, options: { region?: string, acl?: CannedAcl } = {}): Promise<BucketInfo> {
    options = optionsOf(options)
    this.#assertOpen()
    assertBucketName(name, true)
    const region = options.region ?? this.#ctx.region
    if (typeof region !== 'string' || !REGION.test(region)) {
      throw new SpaceboxError('InvalidLocationConstraint', 'The specified location constraint is not valid', { bucket: name })
    }
    const acl = checkAcl(options.acl, { bucket: name })
    return await this.#run(async () => await this.#buckets.create(name, region, acl))
  }

  /** A bucket's name, creation date and region. NoSuchBucket. */
  async headBucket (name: string): Promise<BucketInfo> {
    this.#assertOpen()
    assertBucketName(name)
    return this.#buckets.head(name)
  }

  /** Every bucket, sorted by name. */
  async listBuckets (): Promise<BucketInfo[]> {
    this.#assertOpen()
    return this.#buckets.list()
  }

  /**
   * Delete a bucket with no object in it (any version or delete marker counts). Uploads in progress
   * do not keep it, as in S3: they are aborted with it. NoSuchBucket, BucketNotEmpty.
   */
  async deleteBucket (name: string): Promise<void> {
    this.#assertOpen()
    assertBucketName(name)
    await this.#run(async () => { await this.#buckets.delete(name) })
  }

  /**
   * Store an object, replacing any object at `key` atomically. The body is streamed in chunks.
   * NoSuchBucket, KeyTooLongError, InvalidArgument, MetadataTooLarge, EntityTooLarge,
   * BadDigest, InvalidDigest, IncompleteBody, PreconditionFailed, InvalidTag, BadRequest (over 10 tags).
   */
  async putObject (bucket: string, key: string, body: Body, options: PutObjectOptions = {}): Promise<PutObjectResult> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    return await this.#run(async () => await putObject(this.#ctx, this.#buckets, bucket, key, body, options))
  }

  /**
   * Read an object, or with `versionId` one version of it: its info and a stream of its bytes (or
   * of one byte range, or one part). NoSuchBucket, NoSuchKey (with `detail.deleteMarker` when the
   * current version is a delete marker), NoSuchVersion, MethodNotAllowed (a delete marker's id),
   * InvalidArgument (a malformed id or part number), InvalidRequest (a range and a part number),
   * InvalidRange, InvalidPartNumber, PreconditionFailed, NotModified.
   */
  async getObject (bucket: string, key: string, options: GetObjectOptions = {}): Promise<GetObjectResult> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    return await this.#run(async () => await getObject(this.#ctx, this.#buckets, bucket, key, options))
  }

  /** An object's (or one version's) info. The getObject codes but InvalidRange. */
  async headObject (bucket: string, key: string, options: HeadObjectOptions = {}): Promise<ObjectInfo> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    return await this.#run(async () => await headObject(this.#ctx, this.#buckets, bucket, key, options))
  }

  /**
   * Delete an object as S3 does: unversioned, it goes; versioned, a delete marker becomes its
   * current version. With `versionId`, that version (or marker) goes for good and the next newest
   * becomes current. Deleting what does not exist succeeds. NoSuchBucket, InvalidArgument.
   */
  async deleteObject (bucket: string, key: string, options: DeleteObjectOptions = {}): Promise<DeleteObjectResult> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    return await this.#run(async () => await deleteObject(this.#ctx, this.#buckets, bucket, key, options.versionId))
  }

  /**
   * Delete up to 1000 objects (keys, or `{ key, versionId }`), with a result per entry, as
   * deleteObject. NoSuchBucket; InvalidArgument past 1000.
   */
  async deleteObjects (bucket: string, objects: Array<string | ObjectIdentifier>): Promise<DeleteObjectsResult> {
    this.#assertOpen()
    assertBucketName(bucket)
    if (!Array.isArray(objects) || !objects.every(entry => typeof entry === 'string' || (typeof entry === 'object' && entry !== null))) {
      throw new TypeError('objects must be an array of object keys or { key, versionId } entries')
    }
    if (objects.length > MAX_DELETE_KEYS) {
      throw new SpaceboxError('InvalidArgument', `At most ${MAX_DELETE_KEYS} keys can be deleted at once`, { bucket })
    }
    return await this.#run(async () => await deleteObjects(this.#ctx, this.#buckets, bucket, objects))
  }

  /**
   * Copy an object within or across buckets, without passing its bytes through a hash.
   * NoSuchBucket, NoSuchKey, PreconditionFailed, InvalidRequest (a copy onto itself that changes
   * nothing), and the putObject codes for the destination.
   */
  async copyObject (srcBucket: string, srcKey: string, dstBucket: string, dstKey: string, options: CopyObjectOptions = {}): Promise<CopyObjectResult> {
    options = optionsOf(options)
    this.#assertObject(srcBucket, srcKey)
    this.#assertObject(dstBucket, dstKey)
    return await this.#run(async () => await copyObject(this.#ctx, this.#buckets, srcBucket, srcKey, dstBucket, dstKey, options))
  }

  /** Replace a bucket's canned ACL. NoSuchBucket, InvalidArgument. */
  async putBucketAcl (bucket: string, acl: CannedAcl): Promise<void> {
    this.#assertBucket(bucket)
    if (acl === undefined) throw new TypeError('acl is required')
    const checked = checkAcl(acl, { bucket })
    await this.#run(async () => { await this.#buckets.setAcl(bucket, checked) })
  }

  /** A bucket's canned ACL and owner. NoSuchBucket. */
  async getBucketAcl (bucket: string): Promise<BucketAcl> {
    this.#assertBucket(bucket)
    return { owner: { ...this.#ctx.owner }, acl: this.#buckets.get(bucket).record.acl ?? 'private' }
  }

  /**
   * Replace the canned ACL of an object's current version, or of `versionId`; it keeps its id.
   * NoSuchBucket, NoSuchKey, NoSuchVersion, MethodNotAllowed (a delete marker), InvalidArgument.
   */
  async putObjectAcl (bucket: string, key: string, acl: ObjectCannedAcl, options: ObjectAclOptions = {}): Promise<{ versionId?: string }> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    return await this.#run(async () => await putObjectAcl(this.#ctx, this.#buckets, bucket, key, acl, options.versionId))
  }

  /** The canned ACL and owner of an object's current version, or of `versionId`. NoSuchBucket, NoSuchKey, NoSuchVersion. */
  async getObjectAcl (bucket: string, key: string, options: ObjectAclOptions = {}): Promise<ObjectAcl> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    return await getObjectAcl(this.#ctx, this.#buckets, bucket, key, options.versionId)
  }

  /**
   * Replace the tags of an object's current version, or of `versionId`; it keeps its id, bytes and
   * place. An empty set removes them. NoSuchBucket, NoSuchKey, NoSuchVersion, MethodNotAllowed (a
   * delete marker), InvalidArgument, InvalidTag, BadRequest (over 10 tags).
   */
  async putObjectTagging (bucket: string, key: string, tags: TagSet, options: ObjectTaggingOptions = {}): Promise<{ versionId?: string }> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    if (tags === undefined) throw new TypeError('tags are required')
    const checked = checkObjectTags(tags, { bucket, key })
    return await this.#run(async () => await setObjectTags(this.#ctx, this.#buckets, bucket, key, checked, options.versionId))
  }

  /**
   * The tags of an object's current version, or of `versionId` (none: `{}`). NoSuchBucket,
   * NoSuchKey, NoSuchVersion, MethodNotAllowed (a delete marker), InvalidArgument.
   */
  async getObjectTagging (bucket: string, key: string, options: ObjectTaggingOptions = {}): Promise<ObjectTagging> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    return await this.#run(async () => await getObjectTagging(this.#ctx, this.#buckets, bucket, key, options.versionId))
  }

  /** Remove the tags of an object's current version, or of `versionId`. The putObjectTagging codes but the tag ones. */
  async deleteObjectTagging (bucket: string, key: string, options: ObjectTaggingOptions = {}): Promise<{ versionId?: string }> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    return await this.#run(async () => await setObjectTags(this.#ctx, this.#buckets, bucket, key, undefined, options.versionId))
  }

  /** Replace a bucket's tags (at most 50); an empty set removes them. NoSuchBucket, InvalidTag, BadRequest. */
  async putBucketTagging (bucket: string, tags: TagSet): Promise<void> {
    this.#assertBucket(bucket)
    if (tags === undefined) throw new TypeError('tags are required')
    const checked = checkBucketTags(tags, bucket)
    await this.#run(async () => { await this.#setBucketTags(bucket, checked) })
  }

  /** A bucket's tags. NoSuchBucket, NoSuchTagSet (it has none). */
  async getBucketTagging (bucket: string): Promise<Tags> {
    this.#assertBucket(bucket)
    const tags = this.#buckets.get(bucket).record.tags
    if (tags === undefined) throw new SpaceboxError('NoSuchTagSet', 'The TagSet does not exist', { bucket })
    return tagsOf(tags)
  }

  /** Remove a bucket's tags, if it has any. NoSuchBucket. */
  async deleteBucketTagging (bucket: string): Promise<void> {
    this.#assertBucket(bucket)
    await this.#run(async () => { await this.#setBucketTags(bucket, undefined) })
  }

  async #setBucketTags (bucket: string, tags: StoredTags | undefined): Promise<void> {
    await this.#buckets.update(this.#buckets.get(bucket), record => {
      if (tags === undefined) delete record.tags
      else record.tags = tags
    })
  }

  /**
   * Set a bucket's policy (JSON text, at most 20 KB), replacing any. It is checked whole before it
   * is stored: MalformedPolicy names what is wrong. NoSuchBucket.
   */
  async putBucketPolicy (bucket: string, policy: string): Promise<void> {
    this.#assertBucket(bucket)
    compilePolicy(policy, bucket)
    await this.#run(async () => { await this.#buckets.setPolicy(bucket, policy) })
  }

  /** A bucket's policy, as it was given. NoSuchBucket, NoSuchBucketPolicy. */
  async getBucketPolicy (bucket: string): Promise<string> {
    this.#assertBucket(bucket)
    return this.#buckets.policy(bucket)
  }

  /** Remove a bucket's policy, if it has one. NoSuchBucket. */
  async deleteBucketPolicy (bucket: string): Promise<void> {
    this.#assertBucket(bucket)
    await this.#run(async () => { await this.#buckets.setPolicy(bucket, undefined) })
  }

  /**
   * Set a bucket's lifecycle rules, replacing any: up to 1000, each with an action (expiration,
   * noncurrent version expiration, aborting stale uploads) and a filter. They are checked whole
   * before they are stored; a rule without an ID is given one. NoSuchBucket, InvalidArgument,
   * InvalidRequest (see lib/lifecycle/rules.ts).
   */
  async putBucketLifecycleConfiguration (bucket: string, rules: LifecycleRule[]): Promise<void> {
    this.#assertBucket(bucket)
    const checked = checkLifecycleRules(rules, bucket)
    await this.#run(async () => { await this.#lifecycleIndex.setRules(bucket, checked) })
  }

  /** A bucket's lifecycle rules. NoSuchBucket, NoSuchLifecycleConfiguration. */
  async getBucketLifecycleConfiguration (bucket: string): Promise<LifecycleRule[]> {
    this.#assertBucket(bucket)
    return lifecycleRules(this.#buckets, bucket)
  }

  /** Remove a bucket's lifecycle rules, if it has any. NoSuchBucket. */
  async deleteBucketLifecycle (bucket: string): Promise<void> {
    this.#assertBucket(bucket)
    await this.#run(async () => { await this.#lifecycleIndex.removeRules(bucket) })
  }

  /**
   * Apply the lifecycle rules of every bucket (or of `bucket`) now, by the store's clock, after any
   * pass under way: what is due is expired as S3 expires it, and returned. Passes also run in the
   * background every `lifecycleInterval` ms. NoSuchBucket.
   */
  async applyLifecycle (options: ApplyLifecycleOptions = {}): Promise<LifecycleResult> {
    options = optionsOf(options)
    this.#assertOpen()
    if (options.bucket !== undefined) assertBucketName(options.bucket)
    return await this.#lifecycle.run(options)
  }

  /** Whether a bucket's policy lets anyone in. NoSuchBucket, NoSuchBucketPolicy. */
  async getBucketPolicyStatus (bucket: string): Promise<BucketPolicyStatus> {
    this.#assertBucket(bucket)
    this.#buckets.policy(bucket)
    const policy = this.#buckets.access(bucket)?.policy
    return { isPublic: policy !== undefined && policy !== null && publicStatements(policy).length > 0 }
  }

  /**
   * What anyone may reach in a bucket without a key, and why: the bucket's ACL, the policy
   * statements that let anyone in, and a page of the versions whose ACL is public (read from an
   * index: the cost follows the page, not the number of private objects). NoSuchBucket.
   */
  async publicAccess (bucket: string, options: PublicAccessOptions = {}): Promise<PublicAccess> {
    options = optionsOf(options)
    this.#assertBucket(bucket)
    return await publicAccess(this.#ctx, this.#buckets, bucket, options)
  }

  /**
   * Turn versioning on (`Enabled`) or pause it (`Suspended`). Once enabled, a bucket never returns
   * to unversioned; versions written meanwhile stay either way. NoSuchBucket, InvalidArgument.
   */
  async putBucketVersioning (bucket: string, status: VersioningStatus): Promise<void> {
    this.#assertBucket(bucket)
    await this.#run(async () => { await this.#buckets.setVersioning(bucket, status) })
  }

  /** A bucket's versioning status: none while it was never enabled. NoSuchBucket. */
  async getBucketVersioning (bucket: string): Promise<BucketVersioning> {
    this.#assertBucket(bucket)
    return this.#buckets.versioning(bucket)
  }

  /**
   * One page of a bucket's versions and delete markers, by key and newest first within a key (S3
   * ListObjectVersions); an unversioned bucket lists each object once, as version `null`.
   * NoSuchBucket, InvalidArgument.
   */
  async listObjectVersions (bucket: string, options: ListObjectVersionsOptions = {}): Promise<ListObjectVersionsResult> {
    options = optionsOf(options)
    this.#assertBucket(bucket)
    return await this.#run(async () => await listObjectVersions(this.#ctx, this.#buckets.get(bucket), options, listingScopeOf(options)))
  }

  /** Every version and delete marker under a prefix, in listing order, fetched a page at a time. NoSuchBucket. */
  listAllVersions (bucket: string, options: { prefix?: string } = {}): AsyncGenerator<ObjectVersion> {
    options = optionsOf(options)
    return this.#listAllVersions(bucket, options, listingScopeOf(options))
  }

  async * #listAllVersions (bucket: string, options: { prefix?: string }, scope: string): AsyncGenerator<ObjectVersion> {
    this.#assertBucket(bucket)
    try {
      yield * listAllVersions(this.#ctx, this.#buckets.get(bucket), options, scope)
    } catch (err) {
      throw fromStorageError(err)
    }
  }

  /**
   * Encrypt new objects of a bucket by default: `{ algorithm: 'AES256' | 'aws:kms', masterKeyId?,
   * bucketKeyEnabled? }`. Objects already stored keep their encryption. NoSuchBucket, InvalidArgument.
   */
  async putBucketEncryption (bucket: string, config: BucketEncryptionConfig): Promise<void> {
    this.#assertBucket(bucket)
    await this.#run(async () => { await this.#buckets.setEncryption(bucket, config) })
  }

  /** A bucket's default encryption. NoSuchBucket, ServerSideEncryptionConfigurationNotFoundError. */
  async getBucketEncryption (bucket: string): Promise<BucketEncryptionConfig> {
    this.#assertBucket(bucket)
    return this.#buckets.encryption(bucket)
  }

  /** Stop encrypting new objects by default. NoSuchBucket. */
  async deleteBucketEncryption (bucket: string): Promise<void> {
    this.#assertBucket(bucket)
    await this.#run(async () => { await this.#buckets.setEncryption(bucket, undefined) })
  }

  /**
   * Set a bucket's CORS rules, replacing any: 1 to 100 rules, each with at least one origin and
   * one method. NoSuchBucket, InvalidArgument, InvalidRequest (an unsupported method, two `*` in
   * an origin or allowed header, an ID over 255 characters, over 100 rules).
   */
  async putBucketCors (bucket: string, rules: CorsRule[]): Promise<void> {
    this.#assertBucket(bucket)
    const checked = checkCorsRules(rules, bucket)
    await this.#run(async () => { await this.#buckets.setCors(bucket, checked) })
  }

  /** A bucket's CORS rules. NoSuchBucket, NoSuchCORSConfiguration. */
  async getBucketCors (bucket: string): Promise<CorsRule[]> {
    this.#assertBucket(bucket)
    return this.#buckets.cors(bucket)
  }

  /** Remove a bucket's CORS rules, if it has any. NoSuchBucket. */
  async deleteBucketCors (bucket: string): Promise<void> {
    this.#assertBucket(bucket)
    await this.#run(async () => { await this.#buckets.setCors(bucket, undefined) })
  }

  /**
   * A bucket's CORS rules compiled for matching cross-origin requests at a bounded cost, or
   * undefined when the bucket has none, or does not exist: a preflight learns nothing more.
   */
  async bucketCorsPolicy (bucket: string): Promise<CorsPolicy | undefined> {
    this.#assertOpen()
    if (typeof bucket !== 'string') throw new TypeError('bucket must be a string')
    return this.#buckets.corsPolicy(bucket)
  }

  /**
   * Make a bucket a static website, replacing any configuration: an index document suffix (and
   * optionally an error document and up to 50 routing rules), or else only a host every request is
   * redirected to. NoSuchBucket, InvalidArgument, InvalidRequest (see lib/website.ts).
   */
  async putBucketWebsite (bucket: string, config: WebsiteConfiguration): Promise<void> {
    this.#assertBucket(bucket)
    const checked = checkWebsiteConfiguration(config, bucket)
    await this.#run(async () => { await this.#buckets.setWebsite(bucket, checked) })
  }

  /** A bucket's website configuration. NoSuchBucket, NoSuchWebsiteConfiguration. */
  async getBucketWebsite (bucket: string): Promise<WebsiteConfiguration> {
    this.#assertBucket(bucket)
    return this.#buckets.website(bucket)
  }

  /** Stop serving a bucket as a website, if it was one. NoSuchBucket. */
  async deleteBucketWebsite (bucket: string): Promise<void> {
    this.#assertBucket(bucket)
    await this.#run(async () => { await this.#buckets.setWebsite(bucket, undefined) })
  }

  /**
   * A bucket's website configuration compiled for the website endpoint, or undefined when it has
   * none. NoSuchBucket (a name no bucket has, valid or not).
   */
  async bucketWebsite (bucket: string): Promise<WebsitePolicy | undefined> {
    this.#assertOpen()
    if (typeof bucket !== 'string') throw new TypeError('bucket must be a string')
    return this.#buckets.websitePolicy(bucket)
  }

  /** Start a new bucket key now; objects under older bucket keys stay readable. NoSuchBucket. */
  async rotateBucketKey (bucket: string): Promise<void> {
    this.#assertBucket(bucket)
    await this.#run(async () => { await this.#buckets.keys.rotate(this.#buckets.get(bucket)) })
  }

  /**
   * Re-wrap every stored key (the keyring, bucket keys, objects' own data keys) under master key
   * `masterKeyId`, or the provider's current one, so an old master key can be retired. No object is
   * re-encrypted. Needs a provider with `encrypt` (the local one has it). InvalidMasterKey.
   */
  async rotateMasterKey (masterKeyId?: string): Promise<RotationResult> {
    this.#assertOpen()
    return await this.#run(async () => await rotateMasterKey(this.#ctx, masterKeyId))
  }

  /**
   * One page of a bucket's objects in UTF-8 key order (S3 ListObjectsV2). Keys holding the
   * delimiter after the prefix roll up into common prefixes. NoSuchBucket; InvalidArgument for a
   * forged or foreign continuation token.
   */
  async listObjectsV2 (bucket: string, options: ListObjectsV2Options = {}): Promise<ListObjectsV2Result> {
    options = optionsOf(options)
    this.#assertBucket(bucket)
    return await this.#run(async () => await listObjectsV2(this.#ctx, this.#buckets.get(bucket), options, listingScopeOf(options)))
  }

  /** One page of a bucket's objects with S3's v1 (marker) semantics. NoSuchBucket. */
  async listObjects (bucket: string, options: ListObjectsOptions = {}): Promise<ListObjectsResult> {
    options = optionsOf(options)
    this.#assertBucket(bucket)
    return await this.#run(async () => await listObjects(this.#ctx, this.#buckets.get(bucket), options, listingScopeOf(options)))
  }

  /** Every object under a prefix, in key order, fetched a page at a time. NoSuchBucket. */
  listAll (bucket: string, options: { prefix?: string, startAfter?: string } = {}): AsyncGenerator<ObjectSummary> {
    options = optionsOf(options)
    return this.#listAll(bucket, options, listingScopeOf(options))
  }

  async * #listAll (bucket: string, options: { prefix?: string, startAfter?: string }, scope: string): AsyncGenerator<ObjectSummary> {
    this.#assertBucket(bucket)
    try {
      yield * listAll(this.#ctx, this.#buckets.get(bucket), options, scope)
    } catch (err) {
      throw fromStorageError(err)
    }
  }

  /**
   * Start a multipart upload; the headers, metadata and checksum settings given here apply to the
   * completed object. NoSuchBucket, InvalidArgument, MetadataTooLarge, InvalidRequest, InvalidTag, BadRequest.
   */
  async createMultipartUpload (bucket: string, key: string, options: CreateMultipartUploadOptions = {}): Promise<MultipartUpload> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    return await this.#run(async () => await createMultipartUpload(this.#ctx, this.#buckets, bucket, key, options))
  }

  /**
   * Upload part `partNumber` (1..10000) of an upload; a number uploaded again replaces its part.
   * NoSuchUpload, InvalidArgument, and putObject's body codes (BadDigest, EntityTooLarge...).
   */
  async uploadPart (bucket: string, key: string, uploadId: string, partNumber: number, body: Body, options: UploadPartOptions = {}): Promise<UploadPartResult> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    return await this.#run(async () => await uploadPart(this.#ctx, this.#buckets, bucket, key, uploadId, partNumber, body, options))
  }

  /** A byte range (`bytes=first-last`) or the whole of an existing object as a part. NoSuchKey, PreconditionFailed, InvalidArgument. */
  async uploadPartCopy (bucket: string, key: string, uploadId: string, partNumber: number, srcBucket: string, srcKey: string, options: UploadPartCopyOptions = {}): Promise<UploadPartCopyResult> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    this.#assertObject(srcBucket, srcKey)
    return await this.#run(async () => await uploadPartCopy(this.#ctx, this.#buckets, bucket, key, uploadId, partNumber, srcBucket, srcKey, options))
  }

  /**
   * Complete an upload from the listed parts (ascending part numbers, ETags as uploadPart gave
   * them; of a number listed twice, the later entry stands). The object appears atomically; no
   * byte is copied. The same call again within a day (a retry after a lost answer) answers as the
   * first did. NoSuchUpload, InvalidPartOrder, InvalidPart, EntityTooSmall, PreconditionFailed.
   */
  async completeMultipartUpload (bucket: string, key: string, uploadId: string, parts: CompletedPart[], options: CompleteMultipartUploadOptions = {}): Promise<CompleteMultipartUploadResult> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    return await this.#run(async () => await completeMultipartUpload(this.#ctx, this.#buckets, bucket, key, uploadId, parts, options))
  }

  /** Abort an upload; it leaves nothing behind. NoSuchUpload. */
  async abortMultipartUpload (bucket: string, key: string, uploadId: string): Promise<void> {
    this.#assertObject(bucket, key)
    await this.#run(async () => { await abortMultipartUpload(this.#ctx, this.#buckets, bucket, key, uploadId) })
  }

  /** The parts of an upload, paginated by part-number marker. NoSuchUpload. */
  async listParts (bucket: string, key: string, uploadId: string, options: ListPartsOptions = {}): Promise<ListPartsResult> {
    options = optionsOf(options)
    this.#assertObject(bucket, key)
    return await this.#run(async () => await listParts(this.#ctx, this.#buckets, bucket, key, uploadId, options))
  }

  /** Uploads in progress in a bucket, by key then age. NoSuchBucket. */
  async listMultipartUploads (bucket: string, options: ListMultipartUploadsOptions = {}): Promise<ListMultipartUploadsResult> {
    options = optionsOf(options)
    this.#assertBucket(bucket)
    return await this.#run(async () => await listMultipartUploads(this.#ctx, this.#buckets, bucket, options, listingScopeOf(options)))
  }

  /**
   * Abort a bucket's uploads initiated `olderThan` ms ago or earlier (or at or before a Date), of
   * keys under `prefix`, each as abortMultipartUpload would; resolves to what it aborted. Through a
   * scoped view each upload needs write on its key, as AbortMultipartUpload does: those refused stay
   * and are listed in `denied`. NoSuchBucket; TypeError for a missing or negative `olderThan`.
   */
  async abortIncompleteUploads (bucket: string, options: AbortIncompleteUploadsOptions): Promise<AbortIncompleteUploadsResult> {
    options = optionsOf(options)
    this.#assertBucket(bucket)
    return await this.#run(async () => await abortIncompleteUploads(this.#ctx, this.#buckets, bucket, options, listingScopeOf(options), eachCheckOf(options)))
  }

  /**
   * Copy this store's buckets to `target`: another store, or any S3 endpoint (`s3Endpoint` in
   * `spacebox/s3`). Only what the target lacks or has otherwise is copied, so a run again after an
   * interruption resumes. Encrypted objects are copied (as plaintext, then under the target's bucket
   * settings) only with `decrypt`; SSE-C objects are never copied, and both are listed in `skipped`.
   * A failure of one object is reported in `failed` and the rest go on.
   */
  async mirrorTo (target: MirrorEndpoint | Spacebox, options: MirrorOptions = {}): Promise<MirrorResult> {
    return await mirror(storeEndpoint(this), target instanceof Spacebox ? storeEndpoint(target) : target, options)
  }

  /** Copy `source`'s buckets into this store, as `mirrorTo` copies the other way. */
  async mirrorFrom (source: MirrorEndpoint | Spacebox, options: MirrorOptions = {}): Promise<MirrorResult> {
    return await mirror(source instanceof Spacebox ? storeEndpoint(source) : source, storeEndpoint(this), options)
  }

  /**
   * Write an archive of this store to `out` (a tar: see README, "Export and import"): every bucket
   * or `buckets`, with their settings, objects, metadata, tags, ACLs and, with `versions`, every
   * version and delete marker. Encrypted objects need `decrypt` (they are written as plaintext);
   * SSE-C ones are left out; both are listed in `skipped`. Access keys are never exported.
   */
  async exportTo (out: Writable, options: ExportOptions = {}): Promise<ArchiveResult> {
    return await exportArchive(this, out, options)
  }

  /**
   * Import an archive `exportTo` wrote; `open` gives its bytes from the start each time it is
   * called. The whole archive is read and checked first (every entry against its SHA-256, every
   * object against its ETag): a damaged one is refused with InvalidArchive before anything is
   * written. Objects get new version ids and dates. What the store already has of a key, the same
   * versions in the same order, is left: an import cut short and run again goes on where it stopped.
   */
  async importFrom (open: ArchiveSource, options: ImportOptions = {}): Promise<ImportResult> {
    return await importArchive(this, open, options)
  }

  /**
   * Access keys: create (the secret is shown once), list, rename, update grants, regenerate,
   * disable, enable, delete, whoCanAccess(bucket), usage. Only the store's owner holds this.
   */
  get keys (): AccessKeys {
    this.#assertOpen()
    return this.#keys
  }

  /**
   * The store as access key `accessKeyId` may use it, for callers that authenticated the key
   * themselves (the S3 adapter, after SigV4). Every call is checked against the key's grants, less
   * what the bucket's policy denies it. With `generation` (from `keys.secretOf`), the view ends
   * when the key's secret is regenerated. `context` is what policy conditions test (source IP, TLS).
   */
  as (accessKeyId: string, generation?: number, context?: RequestContext): ScopedSpacebox {
    this.#assertOpen()
    this.#keys.live(accessKeyId)
    return this.#view(keyPrincipal(this.#keys, this.#usage, accessKeyId, typeof generation === 'number' ? generation : undefined, checkContext(context)))
  }

  /**
   * The store as a key whose secret the caller presents. InvalidAccessKeyId, SignatureDoesNotMatch.
   * The view ends when the key's secret is regenerated.
   */
  withCredentials (credentials: { accessKeyId: string, secretAccessKey: string }, context?: RequestContext): ScopedSpacebox {
    this.#assertOpen()
    const generation = this.#keys.authenticate(credentials?.accessKeyId, credentials?.secretAccessKey)
    return this.#view(keyPrincipal(this.#keys, this.#usage, credentials.accessKeyId, generation, checkContext(context)))
  }

  /**
   * The store as an unsigned caller may use it: what bucket ACLs, object ACLs and bucket policies
   * let anyone do, and nothing else. The S3 server serves unsigned requests through it.
   */
  anonymous (context?: RequestContext): ScopedSpacebox {
    this.#assertOpen()
    return this.#view(anonymousPrincipal(checkContext(context)))
  }

  #view (principal: Principal): ScopedSpacebox {
    return new ScopedView(this, principal, bucket => this.#buckets.access(bucket), this.#ctx.owner) as ScopedSpacebox
  }

  /** Counters since open, the live bytes, and the bytes on disk (read now: a stat per file). */
  stats (): StoreStats {
    const { liveBytes, bytesOnDisk } = this.#ctx.space
    return { ...this.#ctx.stats, ...(liveBytes === undefined ? {} : { liveBytes }), ...(bytesOnDisk === undefined ? {} : { bytesOnDisk }) }
  }

  /**
   * Give deleted data's disk space back now: compact the whole store, a bounded range at a time
   * (the `compaction` open option's `rangeBytes`), while reads and writes go on. Does nothing for a
   * store whose database cannot compact (memory-level). NotOpen if the store closes first.
   */
  async compact (): Promise<CompactResult> {
    this.#assertOpen()
    return await this.#run(async () => {
      const space = this.#ctx.space
      const before = space.bytesOnDisk
      const ranges = await space.compactAll(() => this.#ctx.gate.status !== 'open')
      const after = space.bytesOnDisk
      return { ranges, ...(before === undefined ? {} : { bytesOnDiskBefore: before }), ...(after === undefined ? {} : { bytesOnDiskAfter: after }) }
    })
  }

  #assertOpen (): void {
    this.#ctx.gate.assertOpen()
  }

  #assertBucket (bucket: string): void {
    this.#assertOpen()
    assertBucketName(bucket)
  }

  #assertObject (bucket: string, key: string): void {
    this.#assertBucket(bucket)
    assertObjectKey(key, bucket)
  }

  async #run<T> (fn: () => Promise<T>): Promise<T> {
    return await this.#ctx.gate.run(fn)
  }
}

/**
 * The store as one caller may use it: the bucket and object API of `Spacebox`, every call checked
 * against the caller's grants (see lib/access/operations.ts), counted in its usage.
 */
export type ScopedSpacebox = ScopedView & Pick<Spacebox, ScopedMethod>

/** A request context as a caller gives it: only known fields, of their types (policy conditions trust them). */
function checkContext (context: RequestContext | undefined): RequestContext {
  if (context === undefined) return {}
  if (context === null || typeof context !== 'object' || Array.isArray(context)) throw new TypeError('context must be an object')
  const out: RequestContext = {}
  for (const name of ['sourceIp', 'referer', 'userAgent'] as const) {
    const value = context[name]
    if (value !== undefined) {
      if (typeof value !== 'string') throw new TypeError(`context.${name} must be a string`)
      out[name] = value
    }
  }
  if (context.secureTransport !== undefined) {
    if (typeof context.secureTransport !== 'boolean') throw new TypeError('context.secureTransport must be a boolean')
    out.secureTransport = context.secureTransport
  }
  return out
}
