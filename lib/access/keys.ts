import { randomBytes } from 'node:crypto'
import { constantTimeEqual } from '../internal/secrets.js'
import { SpaceboxError } from '../errors.js'
import type { Context } from '../context.js'
import { seal, unseal } from '../crypto/aead.js'
import { unwrapKeyring } from '../crypto/keyring.js'
import { KEYRING_KEY } from '../schema/keys.js'
import type { AccessKeyRecord, KeyringRecord } from '../schema/records.js'
import { assertBucketName, MAX_KEY_BYTES } from '../validate.js'
import type { AccessKeyInfo, AccessKeyUpdate, CreateAccessKeyOptions, KeyAccess, KeyUsage, NewAccessKey, SealedKeys } from '../types.js'
import { isFullAccess, type Grant, type Permission } from './policy.js'
import type { Usage } from './usage.js'

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
const PERMISSIONS: readonly Permission[] = ['read', 'readwrite', 'fullaccess']
// What each call understands: anything else is refused, so a misspelt option never drops silently.
const CREATE_OPTIONS = ['name', 'grants', 'expiresAt', 'rateLimit'] as const
const UPDATE_OPTIONS = ['grants', 'expiresAt', 'rateLimit'] as const
const LIST_FILTERS = ['bucket', 'permission', 'name'] as const
const GRANT_FIELDS = ['bucket', 'permission', 'prefix', 'publish'] as const

/**
 * Access keys: created only by the owner, each limited to its grants, rotated or revoked alone.
 * Records are held in memory (one process owns the store) and written through on every change,
 * so a change takes effect on the very next request. Secrets are sealed under the keyring key
 * and bound to the key id and its generation; deleted ids stay as tombstones and are never reused.
 */
export class AccessKeys {
  readonly #ctx: Context
  readonly #records = new Map<string, AccessKeyRecord>()
  readonly #unsealed = new Map<string, { secret: string, generation: number }>()
  readonly #usage: Usage

  private constructor (ctx: Context, usage: Usage) {
    this.#ctx = ctx
    this.#usage = usage
  }

  /** The keys of a store, whose usage figures `usage` keeps (the scoped views count into it). */
  static async load (ctx: Context, usage: Usage): Promise<AccessKeys> {
    const keys = new AccessKeys(ctx, usage)
    for await (const value of ctx.sub.akeys.values()) {
      const record = value as AccessKeyRecord
      keys.#records.set(record.id, record)
    }
    return keys
  }

  /**
   * Create a key. The secret is in the result, and never again in any other. TypeError for an
   * option it does not know; InvalidArgument for a bad name or grant, or an expiry in the past.
   */
  async create (options: CreateAccessKeyOptions): Promise<NewAccessKey> {
    this.#ctx.gate.assertOpen()
    assertOptionNames(options, CREATE_OPTIONS, 'keys.create()')
    const name = checkName(options.name)
    const grants = checkGrants(options.grants)
    let id: string
    do id = newAccessKeyId(); while (this.#records.has(id))
    const secret = newSecret()
    const record: AccessKeyRecord = { v: 1, id, name, grants, created: this.#ctx.now(), disabled: false, generation: 1, secret: '' }
    applyLimits(record, options, this.#ctx.now())
    record.secret = this.#seal(record, secret)
    await this.#save(record)
    return { ...info(record), secretAccessKey: secret }
  }

  get (id: string): AccessKeyInfo {
    this.#ctx.gate.assertOpen()
    return info(this.#find(id))
  }

  /** Every live key, optionally only those with a grant on `bucket`, of `permission`, or named `name`. */
  list (filter: { bucket?: string, permission?: Permission, name?: string } = {}): AccessKeyInfo[] {
    this.#ctx.gate.assertOpen()
    assertOptionNames(filter, LIST_FILTERS, 'keys.list()')
    return [...this.#records.values()]
      .filter(r => r.deleted === undefined)
      .filter(r => filter.name === undefined || r.name === filter.name)
      .filter(r => filter.bucket === undefined || isFullAccess(r.grants) || r.grants.some(g => g.bucket === filter.bucket))
      .filter(r => filter.permission === undefined || r.grants.some(g => g.permission === filter.permission))
      .sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : 1))
      .map(info)
  }

  async rename (id: string, name: string): Promise<AccessKeyInfo> {
    this.#ctx.gate.assertOpen()
    const checked = checkName(name)
    return await this.#change(id, record => { record.name = checked })
  }

  /**
   * Change grants, expiry or rate limit. Full access and scoped grants cannot be converted into each
   * other. TypeError for an option it does not know; InvalidArgument as for create.
   */
  async update (id: string, changes: AccessKeyUpdate): Promise<AccessKeyInfo> {
    this.#ctx.gate.assertOpen()
    assertOptionNames(changes, UPDATE_OPTIONS, 'keys.update()')
    const grants = changes.grants === undefined ? undefined : checkGrants(changes.grants)
    return await this.#change(id, record => {
      if (grants !== undefined) {
        if (isFullAccess(grants) !== isFullAccess(record.grants)) {
          throw new SpaceboxError('InvalidArgument', 'A full-access key cannot become scoped, nor a scoped key full-access: create a new key')
        }
        record.grants = grants
      }
      applyLimits(record, changes, this.#ctx.now())
    })
  }

  /** A new secret; the old one fails from this instant. */
  async regenerate (id: string): Promise<NewAccessKey> {
    this.#ctx.gate.assertOpen()
    const secret = newSecret()
    const updated = await this.#change(id, record => {
      record.generation++
      record.secret = this.#seal(record, secret)
    })
    return { ...updated, secretAccessKey: secret }
  }

  async disable (id: string): Promise<AccessKeyInfo> {
    this.#ctx.gate.assertOpen()
    return await this.#change(id, record => { record.disabled = true })
  }

  async enable (id: string): Promise<AccessKeyInfo> {
    this.#ctx.gate.assertOpen()
    return await this.#change(id, record => { record.disabled = false })
  }

  /** Delete for good: the secret is erased and the id is never issued again. */
  async delete (id: string): Promise<void> {
    this.#ctx.gate.assertOpen()
    await this.#change(id, record => {
      record.grants = []
      record.secret = ''
      record.deleted = this.#ctx.now()
    })
    this.#unsealed.delete(id)
    await this.#ctx.gate.run(async () => { await this.#usage.forget(id) })
  }

  /** A key's usage: requests by operation, bytes in and out, last use, refusals and the last one's reason. */
  usage (id: string): KeyUsage {
    this.#ctx.gate.assertOpen()
    this.#find(id)
    return this.#usage.get(id)
  }

  /** Every live key that can reach `bucket`, with how. */
  whoCanAccess (bucket: string): KeyAccess[] {
    this.#ctx.gate.assertOpen()
    assertBucketName(bucket)
    const out: KeyAccess[] = []
    for (const record of this.#records.values()) {
      if (record.deleted !== undefined) continue
      const grants = isFullAccess(record.grants) ? record.grants : record.grants.filter(g => g.bucket === bucket)
      for (const grant of grants) {
        const access: KeyAccess = { accessKeyId: record.id, name: record.name, permission: grant.permission, disabled: record.disabled }
        if (grant.prefix !== undefined) access.prefix = grant.prefix
        if (grant.publish === true || grant.permission === 'fullaccess') access.publish = true
        if (record.expiresAt !== undefined) access.expiresAt = new Date(record.expiresAt)
        out.push(access)
      }
    }
    return out
  }

  /**
   * The record of a key that may be used now; InvalidAccessKeyId for unknown, deleted, disabled or
   * expired keys. Open or closing alike: a write that began before close() commits through it.
   */
  live (id: string): AccessKeyRecord {
    const record = typeof id === 'string' ? this.#records.get(id) : undefined
    let reason: string | undefined
    if (record === undefined || record.deleted !== undefined) reason = 'unknown or deleted'
    else if (record.disabled) reason = 'disabled'
    else if (record.expiresAt !== undefined && record.expiresAt <= this.#ctx.now()) reason = 'expired'
    if (reason !== undefined || record === undefined) {
      throw new SpaceboxError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { detail: { reason: reason ?? '' } })
    }
    return record
  }

  /**
   * Every key as stored, its secret still sealed, deleted ids included (so that they are never
   * issued again), with the keyring key as the key provider wrapped it: what an archive carries
   * (`exportTo({ includeKeys: true })`). Nothing is unsealed; only the master key opens it.
   */
  async exportSealed (): Promise<SealedKeys> {
    this.#ctx.gate.assertOpen()
    const keyring = await this.#ctx.sub.meta.get(KEYRING_KEY) as KeyringRecord
    return { keyring: { wrapped: keyring.wrapped, masterKeyId: keyring.masterKeyId }, keys: [...this.#records.values()].map(r => ({ ...structuredClone(r) })) }
  }

  /**
   * Take keys `exportSealed` gave from a store whose master key this store's provider holds: each
   * secret is unsealed with that store's keyring key and sealed again under this one's, and all are
   * written in one batch, after every one is checked. A key this store has already, the same
   * generation, is left as it is. InvalidMasterKey when the provider cannot open them;
   * InvalidArgument for a malformed record, a secret that does not open, or an id this store has
   * otherwise. `dryRun` checks all of it and writes nothing.
   */
  async importSealed (bundle: SealedKeys, options: { dryRun?: boolean } = {}): Promise<{ imported: number, unchanged: number }> {
    this.#ctx.gate.assertOpen()
    const malformed = (what: string): SpaceboxError => new SpaceboxError('InvalidArgument', `Sealed keys: ${what}`)
    if (bundle === null || typeof bundle !== 'object' || !Array.isArray(bundle.keys) || typeof bundle.keyring?.wrapped !== 'string' || typeof bundle.keyring.masterKeyId !== 'string') {
      throw malformed('not { keyring: { wrapped, masterKeyId }, keys: [] }')
    }
    const theirs = await unwrapKeyring(this.#ctx.provider, bundle.keyring, 'these keys')
    const records: AccessKeyRecord[] = []
    let unchanged = 0
    const seen = new Set<string>()
    for (const raw of bundle.keys as unknown[]) {
      const r = raw as Partial<AccessKeyRecord> | null
      if (r === null || typeof r !== 'object' || typeof r.id !== 'string' || !/^SB[A-Z0-9]{18}$/.test(r.id) || seen.has(r.id)) throw malformed('a key without an id of its own')
      seen.add(r.id)
      const sealedSecret = r.secret
      if (!Number.isSafeInteger(r.generation) || (r.generation as number) < 1 || typeof r.created !== 'number' || typeof r.disabled !== 'boolean' || typeof sealedSecret !== 'string') {
        throw malformed(`key ${r.id} is not a key record`)
      }
      const record: AccessKeyRecord = { v: 1, id: r.id, name: checkName(r.name), grants: checkGrants(r.grants), created: r.created, disabled: r.disabled, generation: r.generation as number, secret: '' }
      if (r.expiresAt !== undefined) record.expiresAt = checkTime(r.expiresAt, r.id)
      if (r.rateLimit !== undefined) record.rateLimit = checkRateLimit(r.rateLimit)
      if (r.deleted !== undefined) record.deleted = checkTime(r.deleted, r.id)
      else {
        let secret: Buffer
        try {
          secret = unseal(theirs, Buffer.from(sealedSecret, 'base64'), secretContext(record))
        } catch {
          throw malformed(`key ${r.id}'s secret does not open`)
        }
        record.secret = this.#seal(record, secret.toString())
      }
      const mine = this.#records.get(record.id)
      if (mine !== undefined) {
        if (mine.generation === record.generation && (mine.deleted === undefined) === (record.deleted === undefined)) {
          unchanged++
          continue
        }
        throw malformed(`this store has key ${record.id} already, otherwise`)
      }
      records.push(record)
    }
    if (options.dryRun !== true && records.length > 0) {
      await this.#ctx.gate.run(async () => {
        await this.#ctx.sub.akeys.batch(records.map(record => ({ type: 'put' as const, key: record.id, value: record })), this.#ctx.write)
      })
      for (const record of records) this.#records.set(record.id, record)
    }
    return { imported: records.length, unchanged }
  }

  /** The secret of a live key, for request signing in the S3 adapter. Never leaves the process. */
  secretOf (id: string): { secret: string, generation: number } {
    this.#ctx.gate.assertOpen()
    const record = this.live(id)
    // Unsealed once per generation: SigV4 needs the secret on every request, and a decryption
    // each time was a fifth of a small request's signature check. Memory only, never at rest.
    let cached = this.#unsealed.get(id)
    if (cached?.generation !== record.generation) {
      cached = { secret: this.#unseal(record), generation: record.generation }
      this.#unsealed.set(id, cached)
    }
    return { ...cached }
  }

  /** Check a secret in constant time; returns the generation it belongs to. SignatureDoesNotMatch. */
  authenticate (id: string, secretAccessKey: string): number {
    this.#ctx.gate.assertOpen()
    const { secret, generation } = this.secretOf(id)
    if (!constantTimeEqual(typeof secretAccessKey === 'string' ? secretAccessKey : '', secret)) throw new SpaceboxError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.')
    return generation
  }

  #find (id: string): AccessKeyRecord {
    const record = typeof id === 'string' ? this.#records.get(id) : undefined
    if (record === undefined || record.deleted !== undefined) {
      throw new SpaceboxError('NoSuchAccessKey', 'The access key does not exist', { detail: { accessKeyId: String(id) } })
    }
    return record
  }

  async #change (id: string, edit: (record: AccessKeyRecord) => void): Promise<AccessKeyInfo> {
    this.#find(id)
    return await this.#ctx.locks.run(`akey\0${id}`, async () => {
      const record = structuredClone(this.#find(id))
      edit(record)
      await this.#save(record)
      return info(record)
    })
  }

  /** Written through the gate: close() waits for it, and a closed store answers NotOpen. */
  async #save (record: AccessKeyRecord): Promise<void> {
    await this.#ctx.gate.run(async () => { await this.#ctx.sub.akeys.put(record.id, record, this.#ctx.write) })
    this.#records.set(record.id, record)
  }

  #seal (record: AccessKeyRecord, secret: string): string {
    return seal(this.#ctx.keyring, Buffer.from(secret), secretContext(record)).toString('base64')
  }

  #unseal (record: AccessKeyRecord): string {
    return unseal(this.#ctx.keyring, Buffer.from(record.secret, 'base64'), secretContext(record)).toString()
  }
}

function secretContext (record: AccessKeyRecord): Buffer {
  return Buffer.from(`access-key-secret\0${record.id}\0${record.generation}`)
}

function info (record: AccessKeyRecord): AccessKeyInfo {
  const out: AccessKeyInfo = {
    accessKeyId: record.id,
    name: record.name,
    grants: record.grants.map(g => ({ ...g })),
    createdAt: new Date(record.created),
    disabled: record.disabled
  }
  if (record.expiresAt !== undefined) out.expiresAt = new Date(record.expiresAt)
  if (record.rateLimit !== undefined) out.rateLimit = record.rateLimit
  return out
}

/** 20 characters: `SB` and 18 upper-case letters or digits, unbiased, from crypto.randomBytes. */
function newAccessKeyId (): string {
  let id = 'SB'
  while (id.length < 20) {
    for (const byte of randomBytes(32)) {
      if (byte < 252 && id.length < 20) id += ID_ALPHABET[byte % 36]
    }
  }
  return id
}

/** 40 characters of base64 (30 random bytes), as AWS secrets look. */
function newSecret (): string {
  return randomBytes(30).toString('base64')
}

function checkName (name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 255) {
    throw new SpaceboxError('InvalidArgument', 'A key name is a non-empty string of up to 255 characters')
  }
  return name
}

/** Grants, checked: full access is the single grant { bucket: '', permission: 'fullaccess' }. */
export function checkGrants (grants: unknown): Grant[] {
  if (!Array.isArray(grants)) throw new SpaceboxError('InvalidArgument', 'grants must be an array of { bucket, permission, prefix? }')
  const out: Grant[] = []
  for (const grant of grants as Array<Partial<Grant> | null>) {
    if (grant === null || typeof grant !== 'object' || typeof grant.bucket !== 'string' || !PERMISSIONS.includes(grant.permission as Permission)) {
      throw new SpaceboxError('InvalidArgument', 'A grant is { bucket, permission: read | readwrite | fullaccess, prefix? }')
    }
    // A grant is data from the caller's user (the keys API, the CLI), hence InvalidArgument; a
    // misspelt `prefix` dropped would widen the grant to the whole bucket.
    const unknown = Object.keys(grant).find(field => !(GRANT_FIELDS as readonly string[]).includes(field))
    if (unknown !== undefined) {
      throw new SpaceboxError('InvalidArgument', `A grant has an unknown field ${JSON.stringify(unknown)}: a grant is { bucket, permission, prefix?, publish? }`)
    }
    const checked: Grant = { bucket: grant.bucket, permission: grant.permission as Permission }
    if (grant.bucket === '') {
      if (grant.permission !== 'fullaccess' || grant.prefix !== undefined) {
        throw new SpaceboxError('InvalidArgument', 'The grant on every bucket (bucket "") must be fullaccess, without a prefix')
      }
    } else {
      try {
        assertBucketName(grant.bucket)
      } catch {
        throw new SpaceboxError('InvalidArgument', `A grant names an invalid bucket: ${JSON.stringify(grant.bucket)}`)
      }
    }
    if (grant.prefix !== undefined && grant.prefix !== '') {
      if (typeof grant.prefix !== 'string' || Buffer.byteLength(grant.prefix) > MAX_KEY_BYTES) {
        throw new SpaceboxError('InvalidArgument', 'A grant prefix is a string of up to 1024 bytes')
      }
      checked.prefix = grant.prefix
    }
    // Publishing is writing with a public ACL: a read grant cannot, fullaccess always can.
    if (grant.publish !== undefined && grant.publish !== false) {
      if (grant.publish !== true || grant.permission !== 'readwrite') {
        throw new SpaceboxError('InvalidArgument', 'publish is true or false, on a readwrite grant (fullaccess always may publish)')
      }
      checked.publish = true
    }
    out.push(checked)
  }
  if (out.some(g => g.bucket === '') && out.length > 1) {
    throw new SpaceboxError('InvalidArgument', 'Full access to every bucket is a single grant and cannot be mixed with scoped grants')
  }
  return out
}

function applyLimits (record: AccessKeyRecord, options: { expiresAt?: Date | string | number | null, rateLimit?: number | null }, now: number): void {
  if (options.expiresAt === null) delete record.expiresAt
  else if (options.expiresAt !== undefined) {
    const at = new Date(options.expiresAt).getTime()
    if (Number.isNaN(at)) throw new SpaceboxError('InvalidArgument', 'expiresAt must be a date')
    // The clock of `live()`, which refuses a key from its expiry instant on: a key expired at birth is a mistake.
    if (at <= now) throw new SpaceboxError('InvalidArgument', `expiresAt is in the past: ${new Date(at).toISOString()}`)
    record.expiresAt = at
  }
  if (options.rateLimit === null) delete record.rateLimit
  else if (options.rateLimit !== undefined) {
    if (typeof options.rateLimit !== 'number' || !(options.rateLimit > 0) || !Number.isFinite(options.rateLimit)) {
      throw new SpaceboxError('InvalidArgument', 'rateLimit is a positive number of requests per second')
    }
    record.rateLimit = options.rateLimit
  }
}

/** A time of an imported record: ms since the epoch. */
function checkTime (value: unknown, id: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new SpaceboxError('InvalidArgument', `Sealed keys: key ${id} has a time that is not one`)
  return value
}

function checkRateLimit (value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new SpaceboxError('InvalidArgument', 'rateLimit is a positive number of requests per second')
  return value
}

/** TypeError naming the first own property of `options` that is not in `known`: a programmer's typo. */
function assertOptionNames (options: unknown, known: readonly string[], call: string): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`${call} takes an options object`)
  const unknown = Object.keys(options).find(name => !known.includes(name))
  if (unknown !== undefined) throw new TypeError(`${call} has no option ${JSON.stringify(unknown)} (it takes ${known.join(', ')})`)
}
