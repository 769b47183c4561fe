/**
 * The store as one caller may use it: an access key (`box.as()`, `box.withCredentials()`) or an
 * unsigned caller (`box.anonymous()`). Its methods are not written here but generated from the
 * table of operations, as a sublevel inherits its database's API: each checks what its entry
 * declares (decide.ts) before it touches data, and writes check again as they commit.
 */
import { SpaceboxError } from '../errors.js'
import { COMMIT_CHECK, EACH_CHECK, LISTING_SCOPE, OBJECT_CHECK, type Committing } from '../internal/view-options.js'
import { optionsOf } from '../validate.js'
import type { BucketInfo, DeleteObjectsResult, Owner } from '../types.js'
import type { AccessKeys } from './keys.js'
import { OPERATIONS, type Check, type OperationSpec } from './operations.js'
import { authorize, listingScope, reachable, type Action, type Grant } from './policy.js'
import { aclAllows, type StoredAcl } from './acl.js'
import { decide, type Caller, type RequestContext } from './decide.js'
import type { BucketAccess } from '../buckets.js'
import type { Usage } from './usage.js'

/** Who a view acts for. */
export interface Principal {
  /** The access key; undefined for the anonymous caller. */
  readonly accessKeyId: string | undefined
  /** What the request brings that policy conditions test. */
  readonly context: RequestContext
  /**
   * The caller's grants now, as a call starts (its rate limit taken) or commits. Throws when it
   * can no longer act at all: an unknown, deleted, disabled or expired key, another secret.
   */
  enter: (operation: string, atCommit: boolean) => readonly Grant[]
  /** A call ended well, moving these bytes in and out. */
  count: (operation: string, bytesIn: number, bytesOut: number) => void
  /** A call was refused. */
  denied: (operation: string, reason: string) => void
}

/** The store methods a view calls on the caller's behalf, unchecked. */
type Store = Record<string, (...args: unknown[]) => unknown>

/** A bucket's ACL and policy now; undefined when there is no such bucket. */
export type AccessOf = (bucket: string) => BucketAccess | undefined

export class ScopedView {
  readonly #store: Store
  readonly #principal: Principal
  readonly #access: AccessOf
  readonly #owner: Owner

  constructor (store: object, principal: Principal, access: AccessOf, owner: Owner) {
    this.#store = store as Store
    this.#principal = principal
    this.#access = access
    this.#owner = owner
  }

  /** The store's owner, as listings and ACLs name it: one per store, whoever asks. */
  get owner (): Owner {
    return { ...this.#owner }
  }

  /** The access key the view acts for; undefined for the anonymous view. */
  get accessKeyId (): string | undefined {
    return this.#principal.accessKeyId
  }

  static {
    for (const [operation, spec] of Object.entries(OPERATIONS) as Array<[string, OperationSpec]>) {
      const method = spec.generator === true
        ? function (this: ScopedView, ...args: unknown[]) { return this.#generate(operation, spec, args) }
        : async function (this: ScopedView, ...args: unknown[]) { return await this.#invoke(operation, spec, args) }
      Object.defineProperty(ScopedView.prototype, spec.method, { value: method, writable: true, configurable: true })
    }
  }

  async #invoke (operation: string, spec: OperationSpec, args: unknown[]): Promise<unknown> {
    const checks = spec.checks(args)
    const caller = this.#caller(operation, false)
    let result: unknown
    switch (spec.wrap) {
      case 'call': {
        const byObject = this.#require(caller, operation, checks, spec)
        if (byObject !== undefined) {
          args = withOption(args, spec.options, OBJECT_CHECK, (found: { acl: StoredAcl | undefined } | undefined) => { this.#byObject(caller, operation, checks[0] as Check, byObject, found) })
        }
        if (spec.commit === true) {
          args = withOption(args, spec.options, COMMIT_CHECK, (committing: Committing) => {
            this.#require(this.#caller(operation, true), operation, withPublish(checks, committing), spec)
          })
        }
        result = await this.#call(spec, args)
        break
      }
      case 'listing': {
        let scoped = this.#scoped(caller, operation, spec, args, checks)
        if (spec.each !== undefined) scoped = withOption(scoped, spec.options, EACH_CHECK, this.#each(caller, operation, (checks[0] as Check)[1], spec.each))
        result = await this.#call(spec, scoped)
        break
      }
      case 'buckets': {
        if (caller.accessKeyId === undefined) this.#deny(operation, 'listing buckets needs a key', '', undefined)
        const visible = reachable(caller.grants)
        result = (await this.#call(spec, args) as BucketInfo[]).filter(b => visible === 'all' || visible.has(b.name))
        break
      }
      case 'deleteMany':
        result = await this.#deleteMany(caller, operation, spec, args, checks)
    }
    const bytes = spec.bytes?.(result, args)
    this.#principal.count(operation, bytes?.in ?? 0, bytes?.out ?? 0)
    return result
  }

  async * #generate (operation: string, spec: OperationSpec, args: unknown[]): AsyncGenerator<unknown> {
    const scoped = this.#scoped(this.#caller(operation, false), operation, spec, args, spec.checks(args))
    this.#principal.count(operation, 0, 0)
    yield * this.#call(spec, scoped) as AsyncGenerator<unknown>
  }

  #caller (operation: string, atCommit: boolean): Caller {
    return { accessKeyId: this.#principal.accessKeyId, grants: this.#principal.enter(operation, atCommit), context: this.#principal.context }
  }

  #call (spec: OperationSpec, args: unknown[]): unknown {
    return this.#store[spec.method]!(...args)
  }

  /** The listing's arguments, clipped to the part of the bucket the grants let it read. */
  #scoped (caller: Caller, operation: string, spec: OperationSpec, args: unknown[], checks: readonly Check[]): unknown[] {
    const check = checks[0] as Check
    const bucket = check[1]
    const options = optionsOf(args[spec.options ?? 1] as { prefix?: unknown, delimiter?: unknown } | undefined)
    // A condition on s3:prefix or s3:delimiter tests what the request names, or finds it absent.
    const listing = {
      ...(typeof options.prefix === 'string' ? { prefix: options.prefix } : {}),
      ...(typeof options.delimiter === 'string' ? { delimiter: options.delimiter } : {})
    }
    const verdict = decide(caller, check, this.#access(bucket), listing)
    if (verdict.allowed !== true) this.#deny(operation, verdict.allowed === false ? verdict.reason : 'a listing is not an object read', bucket, undefined)
    if (caller.accessKeyId === undefined) return args
    const decision = listingScope(caller.grants, bucket, listing.prefix ?? '')
    if (!decision.allowed) this.#deny(operation, decision.reason, bucket, undefined)
    return decision.scope === '' ? args : withOption(args, spec.options, LISTING_SCOPE, decision.scope)
  }

  /** Entries the caller may not delete get an AccessDenied entry each, and count as refusals; the others are deleted. */
  async #deleteMany (caller: Caller, operation: string, spec: OperationSpec, args: unknown[], checks: readonly Check[]): Promise<DeleteObjectsResult> {
    const [bucket, objects] = args as [string, unknown]
    const access = this.#access(bucket)
    // A key must reach the bucket at all (its grants, as declared); then each entry is decided alone.
    const reach = caller.accessKeyId === undefined
      ? (access === undefined ? { allowed: false as const, reason: `no bucket ${bucket}` } : { allowed: true as const })
      : authorize(caller.grants, checks[0]![0], bucket)
    if (!reach.allowed) this.#deny(operation, reach.reason, bucket, undefined)
    if (!Array.isArray(objects)) throw new TypeError('objects must be an array of object keys or { key, versionId } entries')
    const field = (entry: unknown, name: 'key' | 'versionId'): unknown => typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)[name] : name === 'key' ? entry : undefined
    const refused = new Set<unknown>()
    for (const entry of objects) {
      const s3 = typeof field(entry, 'versionId') === 'string' ? 's3:DeleteObjectVersion' : 's3:DeleteObject'
      const verdict = decide(caller, ['write', bucket, field(entry, 'key') as string, s3], access)
      if (verdict.allowed !== true) {
        refused.add(entry)
        this.#principal.denied(operation, verdict.allowed === false ? verdict.reason : 'not an object read')
      }
    }
    const result = await this.#call(spec, [bucket, objects.filter(entry => !refused.has(entry)), ...args.slice(2)]) as DeleteObjectsResult
    for (const entry of refused) {
      const versionId = field(entry, 'versionId')
      result.errors.push({ key: String(field(entry, 'key')), ...(typeof versionId === 'string' ? { versionId } : {}), code: 'AccessDenied', message: 'Access Denied' })
    }
    return result
  }

  /** Each object of a bulk change decided alone, as it comes: a refusal leaves it, and counts as one. */
  #each (caller: Caller, operation: string, bucket: string, [action, s3]: readonly [Action, string]): (key: string) => boolean {
    return key => {
      const verdict = decide(caller, [action, bucket, key, s3], this.#access(bucket))
      if (verdict.allowed === true) return true
      this.#principal.denied(operation, verdict.allowed === false ? verdict.reason : `${s3} needs a key`)
      return false
    }
  }

  /**
   * Every check must pass. Where one is left to the version the call finds (spec.byObject), says
   * whether the policy already granted the read.
   */
  #require (caller: Caller, operation: string, checks: readonly Check[], spec: OperationSpec): { granted: boolean } | undefined {
    let byObject: { granted: boolean } | undefined
    for (const check of checks) {
      const verdict = decide(caller, check, this.#access(check[1]))
      if (verdict.allowed === 'byObject' && spec.byObject === true) byObject = { granted: verdict.granted }
      else if (verdict.allowed !== true) this.#deny(operation, verdict.allowed === false ? verdict.reason : `${check[3]} needs a key`, check[1], check[2])
    }
    return byObject
  }

  /**
   * An unsigned read of a version that the policy granted or its ACL may allow. A miss is answered
   * as such only to a caller who may list the bucket (S3: 404 with s3:ListBucket, else 403).
   */
  #byObject (caller: Caller, operation: string, check: Check, by: { granted: boolean }, found: { acl: StoredAcl | undefined } | undefined): void {
    const [, bucket, key] = check
    if (found !== undefined ? by.granted || aclAllows(found.acl, 'read') : decide(caller, ['read', bucket, undefined, 's3:ListBucket'], this.#access(bucket)).allowed === true) return
    this.#deny(operation, found === undefined ? `${bucket}/${key ?? ''} is not there, and the bucket is not listed publicly` : `the ACL of ${bucket}/${key ?? ''} is private`, bucket, key)
  }

  #deny (operation: string, reason: string, bucket: string, key: string | undefined): never {
    this.#principal.denied(operation, reason)
    throw new SpaceboxError('AccessDenied', 'Access Denied', { bucket, key })
  }
}

/** The checks again at commit, with the publish right when the version committed gets a public ACL (a multipart upload's). */
function withPublish (checks: readonly Check[], committing: Committing): readonly Check[] {
  const write = checks.find(check => check[0] === 'write')
  if (committing.acl === undefined || write === undefined || checks.some(check => check[0] === 'publish')) return checks
  return [...checks, ['publish', write[1], write[2], 's3:PutObjectAcl']]
}

/** `args` with `value` under `name` in the options at `index` (a copy; the caller's stay as given). */
function withOption (args: unknown[], index: number | undefined, name: symbol, value: unknown): unknown[] {
  if (index === undefined) throw new TypeError('this operation takes no options')
  const out = [...args]
  while (out.length <= index) out.push(undefined)
  out[index] = { ...optionsOf(out[index] as object | undefined), [name]: value }
  return out
}

/**
 * An access key as a principal. The key is looked up on every call and commit, so a revoke,
 * disable, expiry or regenerate applies at once; `generation`, the secret the caller proved, ends
 * the view when the secret is regenerated.
 */
export function keyPrincipal (keys: AccessKeys, usage: Usage, accessKeyId: string, generation: number | undefined, context: RequestContext = {}): Principal {
  return {
    accessKeyId,
    context,
    enter (operation, atCommit) {
      const record = keys.live(accessKeyId)
      if (generation !== undefined && record.generation !== generation) {
        if (!atCommit) throw new SpaceboxError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.')
        usage.denied(accessKeyId, operation, 'secret regenerated during the request')
        throw new SpaceboxError('AccessDenied', 'Access Denied')
      }
      if (!atCommit) usage.take(record.id, record.rateLimit)
      return record.grants
    },
    count: (operation, bytesIn, bytesOut) => { usage.count(accessKeyId, operation, bytesIn, bytesOut) },
    denied: (operation, reason) => { usage.denied(accessKeyId, operation, reason) }
  }
}

/** The unsigned caller: no grants, so what ACLs and policies allow anyone; counted nowhere. */
export function anonymousPrincipal (context: RequestContext = {}): Principal {
  return {
    accessKeyId: undefined,
    context,
    enter: () => [],
    count: () => {},
    denied: () => {}
  }
}
