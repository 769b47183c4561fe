/**
 * Compiling one statement of a bucket policy: its fields, principal, actions and resources, checked
 * as PutBucketPolicy checks them, and the combinations of those S3 refuses. What it answers is all a
 * decision reads, so a request never goes back to the policy's text.
 */
import { compileConditions, type Condition } from './policy-conditions.js'
import { field, isObject, SYNTAX, type Fail, type Json } from './policy-document.js'
import { ACTION_NAMES, ACTIONS, type ActionKind } from './s3-actions.js'
import { compileGlob, matchGlob, type Glob } from './wildcard.js'

const ARN = 'arn:aws:s3:::'
const INVALID_ACTION = 'Policy has invalid action'
const INVALID_RESOURCE = 'Policy has invalid resource'
const INVALID_PRINCIPAL = 'Invalid principal in policy'

/** A compiled statement: what `CompiledPolicy` decides requests from. */
export interface Statement {
  index: number
  sid: string | undefined
  effect: 'Allow' | 'Deny'
  /** Principal `*`: everyone, anonymous callers included. */
  anyone: boolean
  /** Access key ids (and other principals, prefixed with their type so they never equal one). */
  principals: ReadonlySet<string>
  notPrincipal: boolean
  /** Lower-cased names of the known actions the patterns cover. */
  actions: ReadonlySet<string>
  notAction: boolean
  /** Patterns on `bucket` or `bucket/key` (the ARN prefix taken off). */
  resources: readonly Glob[]
  notResource: boolean
  conditions: readonly Condition[]
  writtenActions: readonly string[]
  writtenResources: readonly string[]
}

const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'])

/** Statement `index` of a policy on `bucket`; `variables` when the policy is of version 2012-10-17. */
export function compileStatement (raw: Json, index: number, bucket: string, variables: boolean, fail: Fail): Statement {
  if (!isObject(raw)) return fail(SYNTAX)
  for (const name of Object.keys(raw)) {
    if (!STATEMENT_FIELDS.has(name)) fail(`Unknown field ${name}`)
  }
  for (const name of ['Principal', 'Action', 'Resource']) {
    if (Object.hasOwn(raw, name) && Object.hasOwn(raw, `Not${name}`)) fail(`Statement/policy already has instance of ${name}`)
  }
  const sid = field(raw, 'Sid')
  if (sid !== undefined && typeof sid !== 'string') fail(SYNTAX)
  const effect = field(raw, 'Effect')
  if (effect === undefined) fail('Missing required field Effect')
  if (effect !== 'Allow' && effect !== 'Deny') fail(`Invalid effect: ${typeof effect === 'string' ? effect : JSON.stringify(effect)}`)

  const notPrincipal = Object.hasOwn(raw, 'NotPrincipal')
  const principal = field(raw, notPrincipal ? 'NotPrincipal' : 'Principal')
  if (principal === undefined) fail('Missing required field Principal')
  const { anyone, principals } = compilePrincipal(principal as Json, notPrincipal, fail)

  const notAction = Object.hasOwn(raw, 'NotAction')
  const writtenActions = strings(field(raw, notAction ? 'NotAction' : 'Action'), 'Action', INVALID_ACTION, fail)
  const notResource = Object.hasOwn(raw, 'NotResource')
  const writtenResources = strings(field(raw, notResource ? 'NotResource' : 'Resource'), 'Resource', INVALID_RESOURCE, fail)

  const patterns = writtenActions.map(pattern => actionNames(pattern, fail))
  const resources = writtenResources.map(resource => resourceGlob(resource, bucket, variables, fail))
  const condition = field(raw, 'Condition')
  const conditions = condition === undefined ? [] : compileConditions(condition, variables, fail)

  if (!notAction) {
    // S3 refuses a condition key that cannot apply to an action the statement names outright.
    const named = writtenActions.filter(a => !a.includes('*') && !a.includes('?')).map(a => a.toLowerCase())
    for (const { key } of conditions) {
      if (key.actions !== undefined && named.some(a => !(key.actions as ReadonlySet<string>).has(a))) {
        fail('Conditions do not apply to combination of actions and resources in statement')
      }
    }
    if (!notResource) {
      const kinds = new Set<ActionKind>()
      for (const r of resources) {
        if (r.bucket) kinds.add('bucket')
        if (r.object) kinds.add('object')
      }
      for (const names of patterns) {
        if (!names.some(name => kinds.has(ACTIONS.get(name) as ActionKind))) fail('Action does not apply to any resource(s) in statement')
      }
    }
  }
  return {
    index,
    sid: sid as string | undefined,
    effect,
    anyone,
    principals,
    notPrincipal,
    actions: new Set(patterns.flat()),
    notAction,
    resources: resources.map(r => r.glob),
    notResource,
    conditions,
    writtenActions: Object.freeze(writtenActions),
    writtenResources: Object.freeze(writtenResources)
  }
}

/** A string or a non-empty list of them; `invalid` for anything else. */
function strings (value: Json | undefined, element: string, invalid: string, fail: Fail): string[] {
  if (value === undefined) fail(`Missing required field ${element}`)
  if (typeof value === 'string') return [value]
  if (!Array.isArray(value)) return fail(invalid)
  if (value.length === 0) fail(`Missing required field ${element} cannot be empty!`)
  return value.map(item => typeof item === 'string' ? item : fail(invalid))
}

const PRINCIPAL_TYPES = new Set(['AWS', 'CanonicalUser', 'Service', 'Federated'])
// An access key id (or an account id, a user name); or an IAM/STS ARN, which may hold spaces
// (CloudFront origin access identities). Neither may hold a wildcard: only `*` alone means anyone.
const PRINCIPAL_ID = /^[A-Za-z0-9][\w.-]{0,127}$/
const PRINCIPAL_ARN = /^arn:aws:(?:iam|sts)::[^\s:*?]*:[^*?\0-\x1f]{1,1024}$/
const OTHER_PRINCIPAL = /^[^\s*?]{1,1024}$/

function compilePrincipal (value: Json, negated: boolean, fail: Fail): { anyone: boolean, principals: Set<string> } {
  const principals = new Set<string>()
  // NotPrincipal `*` would exclude everyone: S3 refuses it as an invalid principal.
  if (value === '*' && !negated) return { anyone: true, principals }
  if (!isObject(value) || Object.keys(value).length === 0) return fail(INVALID_PRINCIPAL)
  let anyone = false
  for (const [type, ids] of Object.entries(value)) {
    if (!PRINCIPAL_TYPES.has(type)) fail(INVALID_PRINCIPAL)
    const list = typeof ids === 'string' ? [ids] : Array.isArray(ids) && ids.length > 0 ? ids : fail(INVALID_PRINCIPAL)
    for (const id of list) {
      if (typeof id !== 'string') return fail(INVALID_PRINCIPAL)
      if (type === 'AWS' && id === '*' && !negated) {
        anyone = true
      } else if (type === 'AWS' && (PRINCIPAL_ID.test(id) || PRINCIPAL_ARN.test(id))) {
        principals.add(id)
      } else if (type !== 'AWS' && OTHER_PRINCIPAL.test(id)) {
        // No spacebox caller is a service or a canonical user: such statements name nobody here.
        principals.add(`${type}:${id}`)
      } else {
        fail(INVALID_PRINCIPAL)
      }
    }
  }
  return { anyone, principals }
}

/** The lower-cased known actions an `Action` entry covers; S3 refuses one that covers none. */
function actionNames (pattern: string, fail: Fail): readonly string[] {
  const lower = pattern.toLowerCase()
  if (lower === '*') return ACTION_NAMES
  if (!lower.startsWith('s3:')) return fail(INVALID_ACTION)
  if (!lower.includes('*') && !lower.includes('?')) return ACTIONS.has(lower) ? [lower] : fail(INVALID_ACTION)
  const glob = compileGlob(lower, false, fail)
  const names = ACTION_NAMES.filter(name => matchGlob(glob, name))
  return names.length > 0 ? names : fail(INVALID_ACTION)
}

/**
 * A resource as a pattern on `bucket` or `bucket/key`, and whether it can name the bucket and
 * objects in it. It must name this bucket (S3 refuses `*` and other buckets): the bucket's name
 * followed by nothing, `/`, or a wildcard that stretches into the key.
 */
function resourceGlob (resource: string, bucket: string, variables: boolean, fail: Fail): { glob: Glob, bucket: boolean, object: boolean } {
  if (!resource.startsWith(ARN)) return fail(INVALID_RESOURCE)
  const path = resource.slice(ARN.length)
  const rest = path.startsWith(bucket) ? path.slice(bucket.length) : undefined
  if (rest === undefined || (rest !== '' && rest[0] !== '/' && rest[0] !== '*' && rest[0] !== '?')) return fail(INVALID_RESOURCE)
  const glob = compileGlob(path, variables, fail)
  return { glob, bucket: matchGlob(glob, bucket), object: rest !== '' }
}
