/**
 * The policy document of a browser form upload (POST Object): parsed from its base64 JSON, then
 * checked against the form's fields as S3 checks it. Pure functions; errors carry S3's codes and
 * messages.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 */
import { S3Error } from './errors.js'

/** One eq or starts-with condition on a field (name lower-cased; `shown` as S3 quotes it when it fails). */
interface FieldCondition {
  op: 'eq' | 'starts-with'
  field: string
  value: string
  shown: string
}

export interface PostPolicy {
  /** ms since the epoch. */
  expiration: number
  conditions: FieldCondition[]
  /** The narrowest content-length-range the conditions give. */
  length: { min: number, max: number } | undefined
}

/** Fields no condition needs to name (S3's list for SigV2 and SigV4 forms together). */
export function exempt (field: string): boolean {
  return field === 'file' || field === 'policy' || field === 'x-amz-signature' || field === 'signature' ||
    field === 'awsaccesskeyid' || field.startsWith('x-ignore-')
}

function invalid (reason: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${reason}`)
}

function denied (reason: string): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: ${reason}`)
}

// ISO 8601 as S3 writes and reads it: 2007-12-01T12:00:00.000Z (fraction and offset optional forms).
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/

/** Decode and check the document's shape (InvalidPolicyDocument); conditions are checked later. */
export function parsePolicy (encoded: string): PostPolicy {
  // Some encoders wrap base64 at 60 or 76 columns; the signature covers the text as sent regardless.
  const compact = encoded.replace(/\s+/g, '')
  if (compact === '') throw invalid('Expecting \'{\' but found End-of-Input')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw invalid('invalid Base64 encoding.')
  let doc: unknown
  try {
    doc = JSON.parse(Buffer.from(compact, 'base64').toString('utf8'))
  } catch {
    throw invalid('Invalid JSON.')
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('Invalid JSON.')
  const record = doc as Record<string, unknown>
  // Both names are case-sensitive: `EXPIRATION` is not the expiration.
  if (!Object.hasOwn(record, 'expiration')) throw invalid('Policy missing expiration.')
  if (!Object.hasOwn(record, 'conditions')) throw invalid('Policy missing conditions.')
  for (const name of Object.keys(record)) {
    if (name !== 'expiration' && name !== 'conditions') throw invalid(`Unexpected: ${name}`)
  }
  const expiration = typeof record.expiration === 'string' && ISO_8601.test(record.expiration) ? Date.parse(record.expiration) : NaN
  if (Number.isNaN(expiration)) throw invalid(`Invalid 'expiration' value: '${String(record.expiration)}'`)
  if (!Array.isArray(record.conditions)) throw invalid('Invalid \'conditions\' value: must be a List.')
  const policy: PostPolicy = { expiration, conditions: [], length: undefined }
  for (const condition of record.conditions as unknown[]) addCondition(policy, condition)
  return policy
}

function addCondition (policy: PostPolicy, condition: unknown): void {
  if (Array.isArray(condition)) {
    addListCondition(policy, condition)
    return
  }
  if (typeof condition !== 'object' || condition === null) throw invalid('Invalid condition test: must be a List or Object.')
  const entries = Object.entries(condition)
  if (entries.length !== 1) throw invalid('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.')
  const [name, value] = entries[0]!
  if (typeof value !== 'string') throw invalid('Invalid Simple-Condition: value must be a string.')
  policy.conditions.push({ op: 'eq', field: name.toLowerCase(), value, shown: quoted('eq', `$${name}`, value) })
}

function addListCondition (policy: PostPolicy, list: unknown[]): void {
  const [op, first, second] = list
  if (list.length === 0 || typeof op !== 'string') throw invalid('Invalid Condition: missing operation identifier.')
  const operation = op.toLowerCase()
  if (operation !== 'eq' && operation !== 'starts-with' && operation !== 'content-length-range') {
    throw invalid(`Invalid Condition: unknown operation '${op}'.`)
  }
  if (list.length !== 3) throw invalid(`Invalid ${op}: wrong number of arguments.`)
  if (operation === 'content-length-range') {
    const min = byteCount(first)
    const max = byteCount(second)
    if (min === undefined || max === undefined) throw invalid(`Invalid ${op}: the range must be two non-negative integers.`)
    const length = policy.length ?? { min: 0, max: Number.MAX_SAFE_INTEGER }
    policy.length = { min: Math.max(length.min, min), max: Math.min(length.max, max) }
    return
  }
  const value = typeof second === 'number' ? String(second) : second
  if (typeof first !== 'string' || typeof value !== 'string') throw invalid('Invalid JSON.')
  const shown = quoted(op, first, value)
  // A condition names a field as `$name`; anything else can never hold.
  if (!first.startsWith('$') || first.length === 1) throw denied(`Policy Condition failed: ${shown}`)
  policy.conditions.push({ op: operation, field: first.slice(1).toLowerCase(), value, shown })
}

/** A byte count as S3 takes it: a JSON integer or a string of digits. */
function byteCount (value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

/** A condition as S3 prints it in a refusal: `["eq", "$acl", "public-read"]`. */
function quoted (op: string, field: string, value: string): string {
  return `[${JSON.stringify(op)}, ${JSON.stringify(field)}, ${JSON.stringify(value)}]`
}

/**
 * Check the form against the policy: not expired, every field named by a condition (the bucket
 * too, though the URL gives it), every condition met. `fields` are lower-cased names with
 * `${filename}` already expanded; `sent` maps them back to the spelling the form used. The
 * content-length-range is left to the upload, which alone knows the size.
 */
export function checkPolicy (policy: PostPolicy, fields: ReadonlyMap<string, string>, sent: ReadonlyMap<string, string>, bucket: string, now: number): void {
  if (now > policy.expiration) throw denied('Policy expired.')
  const covered = new Set(policy.conditions.map(c => c.field))
  for (const name of fields.keys()) {
    if (!exempt(name) && !covered.has(name)) throw denied(`Extra input fields: ${sent.get(name) ?? name}`)
  }
  if (!covered.has('bucket')) throw denied('Extra input fields: bucket')
  for (const condition of policy.conditions) {
    // The bucket is the one addressed: a `bucket` field cannot stand in for it.
    const actual = condition.field === 'bucket' ? bucket : fields.get(condition.field)
    if (!holds(condition, actual)) throw denied(`Policy Condition failed: ${condition.shown}`)
  }
}

function holds (condition: FieldCondition, actual: string | undefined): boolean {
  if (condition.op === 'eq') return actual === condition.value
  if (actual === undefined) return condition.value === ''
  // A Content-Type may list several types; each must start with the prefix.
  if (condition.field === 'content-type' && actual.includes(',')) {
    return actual.split(',').every(type => type.trim().startsWith(condition.value))
  }
  return actual.startsWith(condition.value)
}
