/**
 * The store as one caller may use it: an access key (`box.as()`, `box.withCredentials()`) or the
 * anonymous caller of public buckets (`box.anonymous()`). Its methods are not written here but
 * generated from the table of operations, as a sublevel inherits its database's API: each checks
 * what its entry declares before it touches data, and writes check again as they commit.
 */
import { SpaceboxError } from '../errors.js'
import { COMMIT_CHECK, LISTING_SCOPE } from '../internal/view-options.js'
import { optionsOf } from '../validate.js'
import type { BucketInfo, DeleteObjectsResult } from '../types.js'
import type { AccessKeys } from './keys.js'
import { OPERATIONS, type Check, type OperationSpec } from './operations.js'
import { authorize, listingScope, reachable, type Grant } from './policy.js'
import type { Usage } from './usage.js'

/** Who a view acts for. */
export interface Principal {
  /** The access key; undefined for the anonymous caller. */
  readonly accessKeyId: string | undefined
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

export class ScopedView {
  readonly #store: Store
  readonly #principal: Principal

  constructor (store: object, principal: Principal) {
    this.#store = store as Store
    this.#principal = principal
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
    const grants = this.#principal.enter(operation, false)
    let result: unknown
    switch (spec.wrap) {
      case 'call':
        this.#require(grants, operation, checks)
        if (spec.commit === true) {
          args = withOption(args, spec.options, COMMIT_CHECK, () => { this.#require(this.#principal.enter(operation, true), operation, checks) })
        }
        result = await this.#call(spec, args)
        break
      case 'listing':
        result = await this.#call(spec, this.#scoped(grants, operation, spec, args, checks))
        break
      case 'buckets': {
        const visible = reachable(grants)
        result = (await this.#call(spec, args) as BucketInfo[]).filter(b => visible === 'all' || visible.has(b.name))
        break
      }
      case 'deleteMany':
        this.#require(grants, operation, checks)
        result = await this.#deleteMany(grants, operation, spec, args)
    }
    const bytes = spec.bytes?.(result, args)
    this.#principal.count(operation, bytes?.in ?? 0, bytes?.out ?? 0)
    return result
  }

  async * #generate (operation: string, spec: OperationSpec, args: unknown[]): AsyncGenerator<unknown> {
    const scoped = this.#scoped(this.#principal.enter(operation, false), operation, spec, args, spec.checks(args))
    this.#principal.count(operation, 0, 0)
    yield * this.#call(spec, scoped) as AsyncGenerator<unknown>
  }

  #call (spec: OperationSpec, args: unknown[]): unknown {
    return this.#store[spec.method]!(...args)
  }

  /** The listing's arguments, clipped to the part of the bucket the grants let it read. */
  #scoped (grants: readonly Grant[], operation: string, spec: OperationSpec, args: unknown[], checks: readonly Check[]): unknown[] {
    const [, bucket = ''] = checks[0] ?? []
    const prefix = (optionsOf(args[spec.options ?? 1] as { prefix?: unknown } | undefined)).prefix
    const decision = listingScope(grants, bucket, typeof prefix === 'string' ? prefix : '')
    if (!decision.allowed) this.#deny(operation, decision.reason, bucket, undefined)
    return decision.scope === '' ? args : withOption(args, spec.options, LISTING_SCOPE, decision.scope)
  }

  /** Entries whose key the grants do not cover get an AccessDenied entry each, and count as refusals; the others are deleted. */
  async #deleteMany (grants: readonly Grant[], operation: string, spec: OperationSpec, args: unknown[]): Promise<DeleteObjectsResult> {
    const [bucket, objects] = args as [string, unknown]
    if (!Array.isArray(objects)) throw new TypeError('objects must be an array of object keys or { key, versionId } entries')
    const keyOf = (entry: unknown): unknown => typeof entry === 'object' && entry !== null ? (entry as { key?: unknown }).key : entry
    const refused = new Set<unknown>()
    for (const entry of objects) {
      const decision = authorize(grants, 'write', bucket, keyOf(entry) as string)
      if (!decision.allowed) {
        refused.add(entry)
        this.#principal.denied(operation, decision.reason)
      }
    }
    const result = await this.#call(spec, [bucket, objects.filter(entry => !refused.has(entry)), ...args.slice(2)]) as DeleteObjectsResult
    for (const entry of refused) {
      const versionId = typeof entry === 'object' && entry !== null ? (entry as { versionId?: unknown }).versionId : undefined
      result.errors.push({ key: String(keyOf(entry)), ...(typeof versionId === 'string' ? { versionId } : {}), code: 'AccessDenied', message: 'Access Denied' })
    }
    return result
  }

  #require (grants: readonly Grant[], operation: string, checks: readonly Check[]): void {
    for (const [action, bucket, key] of checks) {
      const decision = authorize(grants, action, bucket, key)
      if (!decision.allowed) this.#deny(operation, decision.reason, bucket, key)
    }
  }

  #deny (operation: string, reason: string, bucket: string, key: string | undefined): never {
    this.#principal.denied(operation, reason)
    throw new SpaceboxError('AccessDenied', 'Access Denied', { bucket, key })
  }
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
export function keyPrincipal (keys: AccessKeys, usage: Usage, accessKeyId: string, generation: number | undefined): Principal {
  return {
    accessKeyId,
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

/** The anonymous caller: reads of the buckets named, nothing else, counted nowhere. */
export function anonymousPrincipal (readable: readonly string[]): Principal {
  const grants: readonly Grant[] = readable.map(bucket => ({ bucket, permission: 'read' }))
  return {
    accessKeyId: undefined,
    enter: () => grants,
    count: () => {},
    denied: () => {}
  }
}
