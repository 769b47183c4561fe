import { SpaceboxError } from './errors.js'
import { objectPrefixRange, uploadKeyParts, uploadPrefixRange } from './schema/keys.js'
import type { BucketEncryption, BucketRecord } from './schema/records.js'
import type { BatchOp, Context } from './context.js'
import type { BucketState } from './bucket-state.js'
import type { BucketEncryptionConfig, BucketInfo, BucketVersioning, CorsRule, VersioningStatus, WebsiteConfiguration } from './types.js'
import { newId } from './internal/ids.js'
import { BucketKeys } from './crypto/bucket-keys.js'
import { checkCorsRules, compileCors, type CorsPolicy } from './cors.js'
import { checkWebsiteConfiguration, compileWebsite, type WebsitePolicy } from './website.js'
import type { StoredAcl } from './access/acl.js'
import { compilePolicy, type CompiledPolicy } from './access/bucket-policy.js'
import { abortUpload } from './multipart/abort.js'

/** A bucket's ACL and policy, as the scoped view decides by them. */
export interface BucketAccess {
  acl: StoredAcl | undefined
  /** null: a stored policy that no longer compiles; it denies everything but replacing it. */
  policy: CompiledPolicy | null | undefined
}

/**
 * The bucket table. All records are held in memory (one process owns a LevelDB store), so
 * resolving a name costs no read; every object write commits through `commit()`, which lets
 * deleteBucket wait for writes under way and refuse new ones, so no object outlives its bucket.
 */
export class Buckets {
  readonly #ctx: Context
  readonly #byName = new Map<string, BucketState>()
  // Compiled once per stored configuration (a new one is a new array); undefined for rules a store
  // written before today's checks holds and the checks refuse: they match nothing.
  readonly #corsPolicies = new WeakMap<CorsRule[], CorsPolicy | undefined>()
  // The same for website configurations.
  readonly #websitePolicies = new WeakMap<WebsiteConfiguration, WebsitePolicy | undefined>()
  // Likewise the bucket policy, per record (a changed policy is a new record); null for one that
  // today's checks refuse (stored by a looser build), which fails closed: see BucketAccess.
  readonly #policies = new WeakMap<BucketRecord, CompiledPolicy | null>()
  /** The buckets' encryption keys. */
  readonly keys: BucketKeys

  private constructor (ctx: Context) {
    this.#ctx = ctx
    this.keys = new BucketKeys(ctx, async (state, edit, extra) => { await this.update(state, edit, extra) })
  }

  static async load (ctx: Context): Promise<Buckets> {
    const buckets = new Buckets(ctx)
    for await (const value of ctx.sub.buckets.values()) {
      const record = value as BucketRecord
      buckets.#byName.set(record.name, { record, active: 0, deleting: undefined, drained: undefined })
    }
    return buckets
  }

  /** The live state of a bucket; NoSuchBucket if there is none. */
  get (name: string): BucketState {
    const state = this.#byName.get(name)
    if (state === undefined) throw noSuchBucket(name)
    return state
  }

  head (name: string): BucketInfo {
    return info(this.get(name).record)
  }

  list (): BucketInfo[] {
    return [...this.#byName.values()].map(s => info(s.record)).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  }

  async create (name: string, region: string, acl: StoredAcl | undefined): Promise<BucketInfo> {
    return await this.#ctx.locks.run(`bucket\0${name}`, async () => {
      if (this.#byName.has(name)) {
        throw new SpaceboxError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { bucket: name })
      }
      const record: BucketRecord = { v: 1, id: newId(), name, created: this.#ctx.now(), region, ...(acl === undefined ? {} : { acl }) }
      await this.#ctx.sub.buckets.put(name, record, this.#ctx.write)
      this.#byName.set(name, { record, active: 0, deleting: undefined, drained: undefined })
      return info(record)
    })
  }

  /**
   * Delete a bucket that holds no object (a version or delete marker counts), as S3 does: uploads in
   * progress do not hold it, they go with it. Each is aborted in its own batch before the bucket
   * record goes, so a crash part way leaves the bucket with fewer uploads, never an upload, part or
   * chunk without its bucket. BucketNotEmpty.
   */
  async delete (name: string): Promise<void> {
    await this.#ctx.locks.run(`bucket\0${name}`, async () => {
      const state = this.get(name)
      // An upload begun between the abort pass and the drain sends it round again; uploads begun
      // faster than it can abort them keep the bucket.
      for (let round = 0; round < 3; round++) {
        await this.#assertNoObjects(state.record)
        // Not yet `deleting`: a completion holding its upload's lock may still commit (and its
        // object then keeps the bucket), rather than wait on a deletion waiting on that lock.
        await this.#abortUploads(state.record.id)
        if (await this.#deleteIfEmpty(state)) return
      }
      throw notEmpty(state.record)
    })
  }

  /** With new writes held and those under way drained: delete the record if nothing is left. */
  async #deleteIfEmpty (state: BucketState): Promise<boolean> {
    let settle!: (deleted: boolean) => void
    state.deleting = new Promise(resolve => { settle = resolve })
    let deleted = false
    try {
      if (state.active > 0) await new Promise<void>(resolve => { state.drained = resolve })
      state.drained = undefined
      await this.#assertNoObjects(state.record)
      const [upload] = await this.#ctx.sub.uploads.keys({ ...uploadPrefixRange(state.record.id), limit: 1 }).all()
      if (upload !== undefined) return false
      await this.#ctx.sub.buckets.del(state.record.name, this.#ctx.write)
      this.#byName.delete(state.record.name)
      deleted = true
      return true
    } finally {
      state.deleting = undefined
      settle(deleted)
    }
  }

  /** Abort every upload of a bucket, a page of them at a time. */
  async #abortUploads (bucketId: string): Promise<void> {
    const { lt, gte } = uploadPrefixRange(bucketId)
    let start: { gte: Buffer } | { gt: Buffer } = { gte }
    for (;;) {
      const page: Buffer[] = await this.#ctx.sub.uploads.keys({ ...start, lt, limit: 500 }).all()
      for (const stored of page) {
        const { key, uploadId } = uploadKeyParts(stored)
        await abortUpload(this.#ctx, bucketId, key, uploadId)
      }
      const last = page[page.length - 1]
      if (last === undefined || page.length < 500) return
      start = { gt: last }
    }
  }

  /** The bucket's default encryption; ServerSideEncryptionConfigurationNotFoundError if none. */
  encryption (name: string): BucketEncryptionConfig {
    const config = this.get(name).record.encryption
    if (config === undefined) {
      throw new SpaceboxError('ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found', { bucket: name })
    }
    return { ...config }
  }

  /** Set (or, with undefined, remove) the default encryption of new objects; existing ones keep theirs. */
  async setEncryption (name: string, config: BucketEncryptionConfig | undefined): Promise<void> {
    let checked: BucketEncryption | undefined
    if (config !== undefined) {
      if (config === null || typeof config !== 'object' || (config.algorithm !== 'AES256' && config.algorithm !== 'aws:kms')) {
        throw new SpaceboxError('InvalidArgument', 'The encryption algorithm must be AES256 or aws:kms', { bucket: name })
      }
      if (config.masterKeyId !== undefined && (config.algorithm !== 'aws:kms' || typeof config.masterKeyId !== 'string')) {
        throw new SpaceboxError('InvalidArgument', 'A master key id goes with aws:kms only', { bucket: name })
      }
      // Key ids, ARNs and aliases are ASCII; the id is sent back in a response header.
      if (config.masterKeyId !== undefined && !/^[\x21-\x7e]{1,2048}$/.test(config.masterKeyId)) {
        throw new SpaceboxError('InvalidArgument', 'A master key id is 1 to 2048 visible ASCII characters', { bucket: name })
      }
      checked = { algorithm: config.algorithm, bucketKeyEnabled: config.bucketKeyEnabled === true }
      if (config.masterKeyId !== undefined) checked.masterKeyId = config.masterKeyId
    }
    await this.update(this.get(name), record => {
      if (checked === undefined) delete record.encryption
      else record.encryption = checked
    })
  }

  versioning (name: string): BucketVersioning {
    const status = this.get(name).record.versioning
    return status === undefined ? {} : { status }
  }

  /** Enable or suspend versioning; a bucket never goes back to unversioned. InvalidArgument. */
  async setVersioning (name: string, status: VersioningStatus): Promise<void> {
    if (status !== 'Enabled' && status !== 'Suspended') {
      throw new SpaceboxError('InvalidArgument', 'Versioning status must be Enabled or Suspended', { bucket: name })
    }
    await this.update(this.get(name), record => { record.versioning = status })
  }

  /** Replace the bucket's canned ACL (undefined: private). */
  async setAcl (name: string, acl: StoredAcl | undefined): Promise<void> {
    await this.update(this.get(name), record => {
      if (acl === undefined) delete record.acl
      else record.acl = acl
    })
  }

  /** The bucket policy as it was given; NoSuchBucketPolicy if none. */
  policy (name: string): string {
    const policy = this.get(name).record.policy
    if (policy === undefined) throw new SpaceboxError('NoSuchBucketPolicy', 'The bucket policy does not exist', { bucket: name })
    return policy
  }

  /** Replace (or, with undefined, remove) the bucket policy, already checked. */
  async setPolicy (name: string, policy: string | undefined): Promise<void> {
    await this.update(this.get(name), record => {
      if (policy === undefined) delete record.policy
      else record.policy = policy
    })
  }

  /**
   * What decides an unsigned caller's access to a bucket, and what may deny a key's: its ACL and
   * its policy compiled. Undefined when there is no such bucket.
   */
  access (name: string): BucketAccess | undefined {
    const record = this.#byName.get(name)?.record
    if (record === undefined) return undefined
    if (record.policy === undefined) return { acl: record.acl, policy: undefined }
    let compiled = this.#policies.get(record)
    if (compiled === undefined) {
      try {
        compiled = compilePolicy(record.policy, name)
      } catch {
        compiled = null
      }
      this.#policies.set(record, compiled)
    }
    return { acl: record.acl, policy: compiled }
  }

  /** The bucket's CORS rules (a copy); NoSuchCORSConfiguration if none. */
  cors (name: string): CorsRule[] {
    const rules = this.get(name).record.cors
    if (rules === undefined) {
      throw new SpaceboxError('NoSuchCORSConfiguration', 'The CORS configuration does not exist', { bucket: name })
    }
    return structuredClone(rules)
  }

  /** The bucket's CORS rules compiled for matching; undefined when it has none or does not exist. */
  corsPolicy (name: string): CorsPolicy | undefined {
    const rules = this.#byName.get(name)?.record.cors
    if (rules === undefined) return undefined
    if (!this.#corsPolicies.has(rules)) {
      let policy: CorsPolicy | undefined
      try {
        policy = compileCors(checkCorsRules(rules, name))
      } catch {}
      this.#corsPolicies.set(rules, policy)
    }
    return this.#corsPolicies.get(rules)
  }

  /** Replace (or, with undefined, remove) the bucket's CORS rules, already checked. */
  async setCors (name: string, rules: CorsRule[] | undefined): Promise<void> {
    await this.update(this.get(name), record => {
      if (rules === undefined) delete record.cors
      else record.cors = rules
    })
  }

  /** The bucket's website configuration (a copy); NoSuchWebsiteConfiguration if none. */
  website (name: string): WebsiteConfiguration {
    const config = this.get(name).record.website
    if (config === undefined) {
      throw new SpaceboxError('NoSuchWebsiteConfiguration', 'The specified bucket does not have a website configuration', { bucket: name })
    }
    return structuredClone(config)
  }

  /** The bucket's website configuration compiled for serving; undefined when it has none. NoSuchBucket. */
  websitePolicy (name: string): WebsitePolicy | undefined {
    const config = this.get(name).record.website
    if (config === undefined) return undefined
    if (!this.#websitePolicies.has(config)) {
      let policy: WebsitePolicy | undefined
      try {
        policy = compileWebsite(checkWebsiteConfiguration(config, name))
      } catch {}
      this.#websitePolicies.set(config, policy)
    }
    return this.#websitePolicies.get(config)
  }

  /** Replace (or, with undefined, remove) the bucket's website configuration, already checked. */
  async setWebsite (name: string, config: WebsiteConfiguration | undefined): Promise<void> {
    await this.update(this.get(name), record => {
      if (config === undefined) delete record.website
      else record.website = config
    })
  }

  /** Change a bucket's record (its settings), with `extra` operations in the same batch. */
  async update (state: BucketState, edit: (record: BucketRecord) => void, extra: BatchOp[] = []): Promise<void> {
    await this.#ctx.locks.run(`bucket\0${state.record.name}`, async () => {
      if (this.#byName.get(state.record.name) !== state) throw noSuchBucket(state.record.name)
      const record = structuredClone(state.record)
      edit(record)
      await this.#ctx.db.batch([...extra, { type: 'put', sublevel: this.#ctx.sub.buckets, key: record.name, value: record }], this.#ctx.write)
      state.record = record
    })
  }

  /**
   * Run a commit that adds to a bucket. Throws NoSuchBucket if the bucket was deleted (or
   * replaced by a new bucket of the same name) since `state` was looked up.
   */
  async commit<T> (state: BucketState, fn: () => Promise<T>): Promise<T> {
    while (state.deleting !== undefined) {
      if (await state.deleting) break
    }
    if (this.#byName.get(state.record.name) !== state) throw noSuchBucket(state.record.name)
    state.active++
    try {
      return await fn()
    } finally {
      if (--state.active === 0) state.drained?.()
    }
  }

  async #assertNoObjects (record: BucketRecord): Promise<void> {
    const [object] = await this.#ctx.sub.objects.keys({ ...objectPrefixRange(record.id), limit: 1 }).all()
    if (object !== undefined) throw notEmpty(record)
  }
}

function info (record: BucketRecord): BucketInfo {
  return { name: record.name, created: new Date(record.created), region: record.region }
}

function notEmpty (record: BucketRecord): SpaceboxError {
  // S3's words; a versioned bucket adds what its owner has to do.
  const message = record.versioning === undefined ? 'The bucket you tried to delete is not empty' : 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.'
  return new SpaceboxError('BucketNotEmpty', message, { bucket: record.name })
}

function noSuchBucket (name: string): SpaceboxError {
  return new SpaceboxError('NoSuchBucket', 'The specified bucket does not exist', { bucket: name })
}
