import { randomInt } from 'node:crypto'
import { isKnownErrorCode, S3Error } from './errors.js'

/** A misbehaviour the server shows on matching requests, for testing clients' retries and error paths. */
export interface FaultRule {
  /** S3 operation name (`PutObject`, `GetObject`, ...); any when absent. */
  operation?: string
  bucket?: string
  /** Exact key; `keyPrefix` for every key under a prefix. */
  key?: string
  keyPrefix?: string
  /** Chance a matching request is hit, 0..1. Default 1. */
  probability?: number
  /** How many requests to hit before the rule retires. Default: no limit. */
  times?: number
  /** Answer with this S3 error code (SlowDown, InternalError, ServiceUnavailable, AccessDenied, ...). */
  error?: string
  /** Wait this long before serving (or failing) the request. */
  latencyMs?: number
  /** Drop the connection without a response. */
  resetConnection?: boolean
  /** Send the headers and half of the body, then drop the connection. */
  truncateBody?: boolean
}

export interface ActiveFault extends FaultRule {
  id: number
  /** Requests hit so far. */
  hits: number
}

const MESSAGES: ReadonlyMap<string, string> = new Map([
  ['SlowDown', 'Please reduce your request rate.'],
  ['ServiceUnavailable', 'Please reduce your request rate.'],
  ['InternalError', 'We encountered an internal error. Please try again.'],
  ['RequestTimeout', 'Your socket connection to the server was not read from or written to within the timeout period.'],
  ['AccessDenied', 'Access Denied']
])
// Every request is matched against every rule: their number is bounded.
const MAX_RULES = 1000
const FIELDS: ReadonlySet<string> = new Set(['operation', 'bucket', 'key', 'keyPrefix', 'probability', 'times', 'error', 'latencyMs', 'resetConnection', 'truncateBody'])

/**
 * The fault rules of a server. Draws come from a seeded generator, so a test that fails with a
 * seed fails the same way again.
 */
export class Faults {
  readonly #rules: ActiveFault[] = []
  #next = 1
  #state: number

  constructor (seed: number = randomInt(2 ** 31)) {
    this.#state = seed >>> 0
  }

  /**
   * Add a rule; returns its id. RangeError for a rule that could never act, a field it does not
   * know, an error code the server could not answer with, or a 1001st rule.
   */
  add (rule: FaultRule): number {
    checkRule(rule)
    if (this.#rules.length >= MAX_RULES) throw new RangeError(`A server holds at most ${MAX_RULES} fault rules`)
    const id = this.#next++
    this.#rules.push({ ...rule, id, hits: 0 })
    return id
  }

  remove (id: number): boolean {
    const at = this.#rules.findIndex(r => r.id === id)
    if (at !== -1) this.#rules.splice(at, 1)
    return at !== -1
  }

  clear (): void {
    this.#rules.length = 0
  }

  list (): ActiveFault[] {
    return this.#rules.map(r => ({ ...r }))
  }

  /** The first rule that hits this request, counted as hit; rules that have run out retire. */
  pick (request: { operation?: string | undefined, bucket?: string | undefined, key?: string | undefined }): ActiveFault | undefined {
    for (const rule of this.#rules) {
      if (rule.operation !== undefined && rule.operation !== request.operation) continue
      if (rule.bucket !== undefined && rule.bucket !== request.bucket) continue
      if (rule.key !== undefined && rule.key !== request.key) continue
      if (rule.keyPrefix !== undefined && !(request.key ?? '').startsWith(rule.keyPrefix)) continue
      if (rule.probability !== undefined && this.#random() >= rule.probability) continue
      rule.hits++
      if (rule.times !== undefined && rule.hits >= rule.times) this.remove(rule.id)
      return { ...rule }
    }
    return undefined
  }

  // mulberry32: small, fast and good enough to decide which requests fail.
  #random (): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/** The S3 error a fault answers with. */
export function faultError (code: string): S3Error {
  return new S3Error(code, MESSAGES.get(code) ?? `Injected fault: ${code}`)
}

function checkRule (rule: FaultRule): void {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) throw new RangeError('A fault rule is an object')
  const unknown = Object.keys(rule).find(name => !FIELDS.has(name))
  if (unknown !== undefined) throw new RangeError(`A fault rule has no field ${JSON.stringify(unknown)}`)
  for (const name of ['operation', 'bucket', 'key', 'keyPrefix', 'error'] as const) {
    if (rule[name] !== undefined && typeof rule[name] !== 'string') throw new RangeError(`fault ${name} must be a string`)
  }
  for (const name of ['resetConnection', 'truncateBody'] as const) {
    if (rule[name] !== undefined && typeof rule[name] !== 'boolean') throw new RangeError(`fault ${name} must be true or false`)
  }
  // Only a code with a status of its own: the response is built from it.
  if (rule.error !== undefined && (!isKnownErrorCode(rule.error) || rule.error === 'NotModified')) {
    throw new RangeError(`fault error must be an S3 error code such as SlowDown; ${JSON.stringify(rule.error)} is not one`)
  }
  if (rule.probability !== undefined && !(typeof rule.probability === 'number' && rule.probability >= 0 && rule.probability <= 1)) {
    throw new RangeError('fault probability must be between 0 and 1')
  }
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) throw new RangeError('fault times must be a positive integer')
  if (rule.latencyMs !== undefined && !(typeof rule.latencyMs === 'number' && rule.latencyMs >= 0 && rule.latencyMs <= 600_000)) {
    throw new RangeError('fault latencyMs must be between 0 and 600000')
  }
  const acts = rule.error !== undefined || rule.latencyMs !== undefined || rule.resetConnection === true || rule.truncateBody === true
  if (!acts) throw new RangeError('A fault rule needs error, latencyMs, resetConnection or truncateBody')
}
