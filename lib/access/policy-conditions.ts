/**
 * Condition operators and keys: which of IAM's a bucket policy may use, compiling a `Condition`
 * block into tests, and whether a condition holds for a request. Values are checked and converted
 * (numbers, booleans, CIDRs, patterns) when the policy is stored, so a decision only compares.
 */
import { inCidr, parseCidr, type Cidr, type Ip } from './cidr.js'
import { isObject, SYNTAX, type Fail, type Json } from './policy-document.js'
import { compileGlob, literal, matchGlob } from './wildcard.js'

/** What a request brings that conditions test; leave out (or undefined) what the request has not. */
export interface PolicyContext {
  /** aws:SourceIp: the caller's address, IPv4 or IPv6 (an IPv4-mapped IPv6 address counts as IPv4). */
  sourceIp?: string | undefined
  /** aws:SecureTransport: whether the request came over TLS. */
  secureTransport?: boolean | undefined
  /** aws:Referer, the Referer header. */
  referer?: string | undefined
  /** aws:UserAgent, the User-Agent header. */
  userAgent?: string | undefined
  /** s3:prefix of a listing, only when the request names one. */
  prefix?: string | undefined
  /** s3:delimiter of a listing, only when the request names one. */
  delimiter?: string | undefined
  /** s3:max-keys of a listing, only when the request names one. */
  maxKeys?: number | undefined
  /** s3:x-amz-acl, the canned ACL a write names. */
  acl?: string | undefined
}

type KeyType = 'string' | 'ip' | 'bool' | 'numeric'
type Value = string | number | boolean | Ip

interface KeySpec {
  type: KeyType
  read: (context: PolicyContext) => string | number | boolean | undefined
  /** The only actions the key can apply to (lower-cased), when it is not a global one. */
  actions?: ReadonlySet<string>
}

// The keys of listings apply to ListBucket and ListBucketVersions; s3:x-amz-acl to the calls that
// take a canned ACL (Service Authorization Reference).
const LISTINGS = new Set(['s3:listbucket', 's3:listbucketversions'])
const ACL_WRITES = new Set(['s3:putobject', 's3:putobjectacl', 's3:putobjectversionacl', 's3:putbucketacl', 's3:createbucket', 's3:bypassgovernanceretention'])
/** Condition key names are case-insensitive in IAM: looked up lower-cased. */
const KEYS = new Map<string, KeySpec>([
  ['aws:sourceip', { type: 'ip', read: c => c.sourceIp }],
  ['aws:securetransport', { type: 'bool', read: c => c.secureTransport }],
  ['aws:referer', { type: 'string', read: c => c.referer }],
  ['aws:useragent', { type: 'string', read: c => c.userAgent }],
  ['s3:prefix', { type: 'string', read: c => c.prefix, actions: LISTINGS }],
  ['s3:delimiter', { type: 'string', read: c => c.delimiter, actions: LISTINGS }],
  ['s3:max-keys', { type: 'numeric', read: c => c.maxKeys, actions: LISTINGS }],
  ['s3:x-amz-acl', { type: 'string', read: c => c.acl, actions: ACL_WRITES }]
])

type Family = 'string' | 'numeric' | 'bool' | 'ip' | 'null'
type Mode = 'eq' | 'ieq' | 'like' | 'lt' | 'le' | 'gt' | 'ge'
interface OperatorSpec { family: Family, negated: boolean, mode: Mode }
const op = (family: Family, negated: boolean, mode: Mode = 'eq'): OperatorSpec => ({ family, negated, mode })
const OPERATORS = new Map<string, OperatorSpec>([
  ['StringEquals', op('string', false)],
  ['StringNotEquals', op('string', true)],
  ['StringEqualsIgnoreCase', op('string', false, 'ieq')],
  ['StringNotEqualsIgnoreCase', op('string', true, 'ieq')],
  ['StringLike', op('string', false, 'like')],
  ['StringNotLike', op('string', true, 'like')],
  ['NumericEquals', op('numeric', false)],
  ['NumericNotEquals', op('numeric', true)],
  ['NumericLessThan', op('numeric', false, 'lt')],
  ['NumericLessThanEquals', op('numeric', false, 'le')],
  ['NumericGreaterThan', op('numeric', false, 'gt')],
  ['NumericGreaterThanEquals', op('numeric', false, 'ge')],
  ['Bool', op('bool', false)],
  ['IpAddress', op('ip', false)],
  ['NotIpAddress', op('ip', true)],
  ['Null', op('null', false)]
])
// Valid IAM operators spacebox does not evaluate: refused by name, never ignored.
const UNSUPPORTED_OPERATORS = new Set(['DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan',
  'DateGreaterThanEquals', 'BinaryEquals', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike'])
/** The operator families each type of key takes (a boolean also compares as the text true/false). */
const FAMILIES: Record<KeyType, ReadonlySet<Family>> = {
  string: new Set(['string', 'null']),
  ip: new Set(['ip', 'null']),
  bool: new Set(['bool', 'string', 'null']),
  numeric: new Set(['numeric', 'null'])
}

/** One compiled condition: its key, the operator's sense, and a test of the request's value. */
export interface Condition {
  key: KeySpec
  negated: boolean
  ifExists: boolean
  /** Null: whether the key being absent is what the condition asks. */
  absent: ReadonlySet<boolean> | undefined
  /** IpAddress, NotIpAddress: the ranges, for `publicStatements`. */
  cidrs: readonly Cidr[] | undefined
  /** Whether the request's value matches any of the condition's values. */
  test: (value: Value) => boolean
}

/** IAM operator names are case-sensitive; `...IfExists` goes on any but Null. */
function parseOperator (name: string, fail: Fail): { spec: OperatorSpec, ifExists: boolean } {
  const colon = name.indexOf(':')
  const qualifier = colon === -1 ? '' : name.slice(0, colon)
  const base = name.slice(colon + 1)
  const ifExists = !OPERATORS.has(base) && !UNSUPPORTED_OPERATORS.has(base) && base.endsWith('IfExists')
  const bare = ifExists ? base.slice(0, -'IfExists'.length) : base
  const known = (OPERATORS.has(bare) || UNSUPPORTED_OPERATORS.has(bare)) && !(bare === 'Null' && ifExists) &&
    (qualifier === '' || qualifier === 'ForAnyValue' || qualifier === 'ForAllValues')
  if (!known) fail(`Invalid Condition type : ${name}`)
  const spec = OPERATORS.get(bare)
  // The set qualifiers matter only to multivalued keys; spacebox's keys have one value each.
  if (spec === undefined || qualifier !== '') return fail(`Condition operator ${name} is not supported`)
  return { spec, ifExists }
}

/**
 * A statement's `Condition` block, compiled. Fails on an operator or key that is unknown or not
 * supported, an operator the key does not take, or a value the operator cannot compare.
 */
export function compileConditions (value: Json, variables: boolean, fail: Fail): Condition[] {
  if (!isObject(value)) return fail(SYNTAX)
  const conditions: Condition[] = []
  for (const [operator, block] of Object.entries(value)) {
    const { spec, ifExists } = parseOperator(operator, fail)
    if (!isObject(block)) return fail(SYNTAX)
    for (const [name, raw] of Object.entries(block)) {
      const key = KEYS.get(name.toLowerCase()) ??
        fail(/^(aws|s3):/i.test(name) ? `Condition key ${name} is not supported` : 'Policy has an invalid condition key')
      if (!FAMILIES[key.type].has(spec.family)) fail(`Condition operator ${operator} does not apply to condition key ${name}`)
      const values = (Array.isArray(raw) ? raw : [raw]).map(v =>
        typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : fail(`Invalid value for condition key ${name}`))
      if (values.length === 0) fail(`Invalid value for condition key ${name}`)
      conditions.push(compileCondition(spec, ifExists, key, name, values, variables, fail))
    }
  }
  return conditions
}

function compileCondition (spec: OperatorSpec, ifExists: boolean, key: KeySpec, name: string, values: (string | number | boolean)[], variables: boolean, fail: Fail): Condition {
  const base = { key, negated: spec.negated, ifExists, absent: undefined, cidrs: undefined }
  const bool = (v: string | number | boolean): boolean => v === true || v === 'true' ? true : v === false || v === 'false' ? false : fail(`Invalid value for condition key ${name}: ${String(v)}`)
  switch (spec.family) {
    case 'null':
      return { ...base, absent: new Set(values.map(bool)), test: () => false }
    case 'bool': {
      const wanted = new Set(values.map(bool))
      return { ...base, test: v => wanted.has(v as boolean) }
    }
    case 'ip': {
      const cidrs = values.map(v => (typeof v === 'string' ? parseCidr(v) : undefined) ?? fail('Invalid IP address in Conditions'))
      return { ...base, cidrs, test: v => cidrs.some(c => inCidr(v as Ip, c)) }
    }
    case 'numeric': {
      const numbers = values.map(v => number(v) ?? fail(`Invalid value for condition key ${name}: ${String(v)}`))
      const compare = COMPARE[spec.mode]
      return { ...base, test: v => typeof v === 'number' && numbers.some(n => compare(v, n)) }
    }
    case 'string': {
      const texts = values.map(String)
      if (spec.mode === 'like') {
        const globs = texts.map(t => compileGlob(t, variables, fail))
        return { ...base, test: v => globs.some(g => matchGlob(g, text(v))) }
      }
      const literals = texts.map(t => literal(t, variables, fail))
      if (spec.mode === 'ieq') {
        const lowered = new Set(literals.map(t => t.toLowerCase()))
        return { ...base, test: v => lowered.has(text(v).toLowerCase()) }
      }
      const exact = new Set(literals)
      return { ...base, test: v => exact.has(text(v)) }
    }
  }
}

const COMPARE: Record<Mode, (value: number, wanted: number) => boolean> = {
  eq: (a, b) => a === b,
  ieq: (a, b) => a === b,
  like: (a, b) => a === b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b
}
const text = (v: Value): string => typeof v === 'string' ? v : String(v)
/** A JSON number, or the text of a plain decimal one. */
function number (v: string | number | boolean): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  return typeof v === 'string' && /^-?\d{1,15}(\.\d{1,15})?$/.test(v) ? Number(v) : undefined
}

/** Whether `c` holds for a request with `context`, whose aws:SourceIp has been parsed into `ip`. */
export function holds (c: Condition, context: PolicyContext, ip: Ip | undefined): boolean {
  const raw = c.key.read(context)
  if (c.absent !== undefined) return c.absent.has(raw === undefined)
  const value = c.key.type === 'ip' ? ip : raw
  if (value === undefined) return c.ifExists || c.negated
  // Negated operators with several values hold when the value matches none of them.
  return c.test(value) !== c.negated
}
