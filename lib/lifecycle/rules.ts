/**
 * Bucket lifecycle rules: their validation (PutBucketLifecycleConfiguration), compiled once per
 * stored configuration, and what they decide for one version: whether it matches, and from when
 * it is due. Pure. A configuration is stored input every later GET, HEAD and lifecycle pass reads,
 * so what it may hold is bounded (1000 rules, prefixes no longer than a key, 10 tags a rule) and a
 * GET costs at most one prefix test and a few tag lookups per rule that expires current versions.
 */
import { randomBytes } from 'node:crypto'
import { SpaceboxError, type ErrorCode } from '../errors.js'
import type { ObjectHead } from '../schema/records.js'
import { DAY_MS } from '../schema/keys.js'
import type { LifecycleExpiration, LifecycleFilter, LifecycleRule, ObjectExpiration } from './types.js'

export const MAX_RULES = 1000
const MAX_ID_LENGTH = 255
const MAX_PREFIX_BYTES = 1024
// An object carries at most 10 tags: a filter naming more could never match.
const MAX_FILTER_TAGS = 10
const MAX_TAG_KEY = 128
const MAX_TAG_VALUE = 256
// Days are a 32-bit integer in S3's model.
const MAX_DAYS = 2 ** 31 - 1
const MAX_NEWER_VERSIONS = 100

const RULE_FIELDS: ReadonlySet<string> = new Set(['id', 'status', 'filter', 'prefix', 'expiration', 'noncurrentVersionExpiration', 'abortIncompleteMultipartUpload'])
const FILTER_FIELDS: ReadonlySet<string> = new Set(['prefix', 'tags', 'objectSizeGreaterThan', 'objectSizeLessThan'])

/**
 * A checked copy of a lifecycle configuration, as stored: ids given to rules without one, dates as
 * ISO strings. Throws InvalidArgument (no rules or over 1000, a long or repeated ID, a Days, Date,
 * NoncurrentDays, NewerNoncurrentVersions or DaysAfterInitiation S3 refuses, a malformed filter)
 * or InvalidRequest (a rule without action; AbortIncompleteMultipartUpload with tags or sizes,
 * ExpiredObjectDeleteMarker with tags). A field this store does not know is a TypeError.
 */
export function checkLifecycleRules (rules: readonly LifecycleRule[], bucket: string): LifecycleRule[] {
  if (!Array.isArray(rules) || rules.length === 0) throw invalid('InvalidArgument', 'A lifecycle configuration needs at least one rule', bucket)
  if (rules.length > MAX_RULES) throw invalid('InvalidArgument', `A lifecycle configuration can have at most ${MAX_RULES} rules`, bucket)
  const ids = new Set<string>()
  return rules.map(rule => {
    const checked = checkRule(rule, bucket)
    if (ids.has(checked.id as string)) throw invalid('InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule', bucket)
    ids.add(checked.id as string)
    return checked
  })
}

function checkRule (rule: LifecycleRule, bucket: string): LifecycleRule {
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) throw invalid('InvalidArgument', 'A lifecycle rule must be an object', bucket)
  for (const name of Object.keys(rule)) {
    // Transitions change only the storage class, which means nothing here: refused, not ignored.
    if (!RULE_FIELDS.has(name)) throw new TypeError(`Unknown lifecycle rule field: ${name}`)
  }
  if (rule.status !== 'Enabled' && rule.status !== 'Disabled') throw invalid('InvalidArgument', 'A rule\'s status must be Enabled or Disabled', bucket)
  let id = rule.id
  if (id === undefined) {
    id = randomBytes(36).toString('base64')
  } else {
    if (typeof id !== 'string') throw invalid('InvalidArgument', 'A rule ID must be a string', bucket)
    if (id.length > MAX_ID_LENGTH) throw invalid('InvalidArgument', `ID length should not exceed allowed limit of ${MAX_ID_LENGTH}`, bucket)
  }
  const out: LifecycleRule = { id, status: rule.status }
  if (rule.filter !== undefined && rule.prefix !== undefined) throw invalid('InvalidArgument', 'A rule has a filter or a prefix, not both', bucket)
  if (rule.prefix !== undefined) out.prefix = checkPrefix(rule.prefix, bucket)
  else out.filter = checkFilter(rule.filter ?? {}, bucket)
  const tagged = Object.keys(out.filter?.tags ?? {}).length > 0
  const sized = out.filter?.objectSizeGreaterThan !== undefined || out.filter?.objectSizeLessThan !== undefined
  if (rule.expiration !== undefined) out.expiration = checkExpiration(rule.expiration, tagged, bucket)
  if (rule.noncurrentVersionExpiration !== undefined) {
    const given = rule.noncurrentVersionExpiration
    if (given === null || typeof given !== 'object') throw invalid('InvalidArgument', 'noncurrentVersionExpiration must be an object', bucket)
    const noncurrentDays = days(given.noncurrentDays, "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer", bucket)
    out.noncurrentVersionExpiration = { noncurrentDays }
    if (given.newerNoncurrentVersions !== undefined) {
      const newer = given.newerNoncurrentVersions
      if (!Number.isInteger(newer) || newer < 1 || newer > MAX_NEWER_VERSIONS) {
        throw invalid('InvalidArgument', "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer", bucket)
      }
      out.noncurrentVersionExpiration.newerNoncurrentVersions = newer
    }
  }
  if (rule.abortIncompleteMultipartUpload !== undefined) {
    const given = rule.abortIncompleteMultipartUpload
    if (given === null || typeof given !== 'object') throw invalid('InvalidArgument', 'abortIncompleteMultipartUpload must be an object', bucket)
    if (tagged) throw invalid('InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.', bucket)
    if (sized) throw invalid('InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Object Size.', bucket)
    const daysAfterInitiation = days(given.daysAfterInitiation, "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer", bucket)
    out.abortIncompleteMultipartUpload = { daysAfterInitiation }
  }
  if (out.expiration === undefined && out.noncurrentVersionExpiration === undefined && out.abortIncompleteMultipartUpload === undefined) {
    throw invalid('InvalidRequest', 'At least one action needs to be specified in a rule.', bucket)
  }
  return out
}

function checkFilter (filter: LifecycleFilter, bucket: string): LifecycleFilter {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) throw invalid('InvalidArgument', 'A rule filter must be an object', bucket)
  for (const name of Object.keys(filter)) {
    if (!FILTER_FIELDS.has(name)) throw new TypeError(`Unknown lifecycle filter field: ${name}`)
  }
  const out: LifecycleFilter = {}
  if (filter.prefix !== undefined) out.prefix = checkPrefix(filter.prefix, bucket)
  if (filter.tags !== undefined) {
    if (filter.tags === null || typeof filter.tags !== 'object' || Array.isArray(filter.tags)) throw invalid('InvalidArgument', 'Filter tags must be an object of keys and values', bucket)
    const entries = Object.entries(filter.tags)
    if (entries.length > MAX_FILTER_TAGS) throw invalid('InvalidArgument', `A rule filter can name at most ${MAX_FILTER_TAGS} tags`, bucket)
    for (const [key, value] of entries) {
      if (key.length === 0 || key.length > MAX_TAG_KEY) throw invalid('InvalidArgument', 'The TagKey you have provided is invalid', bucket)
      if (typeof value !== 'string' || value.length > MAX_TAG_VALUE) throw invalid('InvalidArgument', 'The TagValue you have provided is invalid', bucket)
    }
    if (entries.length > 0) out.tags = Object.fromEntries(entries)
  }
  const greater = filter.objectSizeGreaterThan
  const less = filter.objectSizeLessThan
  if (greater !== undefined) {
    if (!Number.isSafeInteger(greater) || greater < 0) throw invalid('InvalidArgument', 'ObjectSizeGreaterThan must be a non-negative integer', bucket)
    out.objectSizeGreaterThan = greater
  }
  if (less !== undefined) {
    if (!Number.isSafeInteger(less) || less < 1) throw invalid('InvalidArgument', 'ObjectSizeLessThan must be a positive integer', bucket)
    out.objectSizeLessThan = less
  }
  if (greater !== undefined && less !== undefined && greater >= less) {
    throw invalid('InvalidArgument', 'ObjectSizeGreaterThan must be less than ObjectSizeLessThan', bucket)
  }
  return out
}

function checkExpiration (expiration: LifecycleExpiration, tagged: boolean, bucket: string): LifecycleExpiration {
  if (expiration === null || typeof expiration !== 'object') throw invalid('InvalidArgument', 'expiration must be an object', bucket)
  const given = [expiration.days, expiration.date, expiration.expiredObjectDeleteMarker].filter(v => v !== undefined).length
  if (given !== 1) throw invalid('InvalidArgument', 'An Expiration has one of Days, Date and ExpiredObjectDeleteMarker', bucket)
  if (expiration.days !== undefined) return { days: days(expiration.days, "'Days' for Expiration action must be a positive integer", bucket) }
  if (expiration.date !== undefined) {
    const date = expiration.date
    const at = date instanceof Date ? date.getTime() : typeof date === 'string' ? Date.parse(date) : NaN
    if (Number.isNaN(at)) throw invalid('InvalidArgument', 'Date must be provided in ISO 8601 format', bucket)
    if (at % DAY_MS !== 0) throw invalid('InvalidArgument', "'Date' must be at midnight GMT", bucket)
    return { date: new Date(at).toISOString() }
  }
  if (typeof expiration.expiredObjectDeleteMarker !== 'boolean') throw invalid('InvalidArgument', 'ExpiredObjectDeleteMarker must be true or false', bucket)
  if (tagged) throw invalid('InvalidRequest', 'ExpiredObjectDeleteMarker cannot be specified with Tags.', bucket)
  return { expiredObjectDeleteMarker: expiration.expiredObjectDeleteMarker }
}

function checkPrefix (prefix: unknown, bucket: string): string {
  if (typeof prefix !== 'string') throw invalid('InvalidArgument', 'A rule prefix must be a string', bucket)
  if (Buffer.byteLength(prefix) > MAX_PREFIX_BYTES) throw invalid('InvalidArgument', `A rule prefix is at most ${MAX_PREFIX_BYTES} bytes`, bucket)
  return prefix
}

function days (value: unknown, message: string, bucket: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_DAYS) throw invalid('InvalidArgument', message, bucket)
  return value as number
}

function invalid (code: ErrorCode, message: string, bucket: string): SpaceboxError {
  return new SpaceboxError(code, message, { bucket })
}

/** One rule, ready to decide: absent actions are undefined. */
export interface CompiledRule {
  id: string
  /** Its place in the configuration: the first of rules giving the same date wins. */
  index: number
  prefix: string
  tags: ReadonlyArray<readonly [string, string]>
  greaterThan: number | undefined
  lessThan: number | undefined
  /** Expiration of current versions (and of delete markers left alone, once as old). */
  days: number | undefined
  date: number | undefined
  expiredObjectDeleteMarker: boolean
  noncurrentDays: number | undefined
  newerNoncurrentVersions: number
  abortDays: number | undefined
}

/** A bucket's lifecycle configuration compiled: its enabled rules. */
export interface LifecyclePolicy {
  readonly rules: readonly CompiledRule[]
  /** The enabled rules that expire current versions: what `x-amz-expiration` reads. */
  readonly expiring: readonly CompiledRule[]
  readonly byId: ReadonlyMap<string, CompiledRule>
}

/** Compile checked rules once; disabled rules are left out. Throws nothing. */
export function compileLifecycle (rules: readonly LifecycleRule[]): LifecyclePolicy {
  const compiled: CompiledRule[] = []
  rules.forEach((rule, index) => {
    if (rule.status !== 'Enabled') return
    const filter = rule.filter ?? {}
    const date = rule.expiration?.date
    compiled.push({
      id: rule.id as string,
      index,
      prefix: rule.prefix ?? filter.prefix ?? '',
      tags: Object.entries(filter.tags ?? {}),
      greaterThan: filter.objectSizeGreaterThan,
      lessThan: filter.objectSizeLessThan,
      days: rule.expiration?.days,
      date: date === undefined ? undefined : new Date(date).getTime(),
      expiredObjectDeleteMarker: rule.expiration?.expiredObjectDeleteMarker === true,
      noncurrentDays: rule.noncurrentVersionExpiration?.noncurrentDays,
      newerNoncurrentVersions: rule.noncurrentVersionExpiration?.newerNoncurrentVersions ?? 0,
      abortDays: rule.abortIncompleteMultipartUpload?.daysAfterInitiation
    })
  })
  return {
    rules: compiled,
    expiring: compiled.filter(rule => rule.days !== undefined || rule.date !== undefined),
    byId: new Map(compiled.map(rule => [rule.id, rule]))
  }
}

/** Whether a rule's filter holds for version `head` of `key`: prefix, every tag, sizes (exclusive). */
export function matches (rule: CompiledRule, key: string, head: Pick<ObjectHead, 'size' | 'tags'>): boolean {
  if (!key.startsWith(rule.prefix)) return false
  if (rule.greaterThan !== undefined && !(head.size > rule.greaterThan)) return false
  if (rule.lessThan !== undefined && !(head.size < rule.lessThan)) return false
  if (rule.tags.length === 0) return true
  const tags = head.tags ?? []
  return rule.tags.every(([name, value]) => tags.some(([k, v]) => k === name && v === value))
}

/** The day (since the epoch, UTC) an instant falls on. */
export function dayOf (at: number): number {
  return Math.floor(at / DAY_MS)
}

/** `days` after `since`, counted to the next midnight UTC, as S3 does: 1/15 10:30 + 3 days is 1/19 00:00. */
export function dueAfter (since: number, days: number): number {
  return (dayOf(since) + days + 1) * DAY_MS
}

/** When a rule expires a current version written at `modified`; undefined if it does not. */
export function currentDue (rule: CompiledRule, modified: number): number | undefined {
  if (rule.days !== undefined) return dueAfter(modified, rule.days)
  return rule.date
}

/**
 * What `x-amz-expiration` says of the current version `head` of `key`: the earliest date any
 * enabled Days or Date rule matching it gives, and that rule (the first listed, on a tie).
 * Undefined for delete markers and objects no such rule matches.
 */
export function expirationOf (policy: LifecyclePolicy, key: string, head: ObjectHead): ObjectExpiration | undefined {
  if (head.marker === true || policy.expiring.length === 0) return undefined
  let best: { at: number, rule: CompiledRule } | undefined
  for (const rule of policy.expiring) {
    if (!matches(rule, key, head)) continue
    const at = currentDue(rule, head.modified) as number
    if (best === undefined || at < best.at) best = { at, rule }
  }
  return best === undefined ? undefined : { date: new Date(best.at), ruleId: best.rule.id }
}
