/**
 * The bucket policy language: the checks PutBucketPolicy makes (S3's MalformedPolicy messages),
 * compiling a policy once, deciding one request against it, and the statements that make a bucket
 * public in S3's sense (GetBucketPolicyStatus). Pure: nothing here touches the store.
 *
 * A stored policy is hostile input to every later request, so its cost is paid when it is stored:
 * the document is at most 20 KB (policy-document.ts), action patterns become sets of known action
 * names (s3-actions.ts), CIDRs are parsed (cidr.ts), and `*`/`?` patterns are matched by a forward
 * scan (wildcard.ts), so one decision costs at most a pass over the statements with a linear-ish
 * match each. Statements and conditions compile in policy-statement.ts and policy-conditions.ts.
 */
import { SpaceboxError } from '../errors.js'
import { requestIp } from './cidr.js'
import { holds, type PolicyContext } from './policy-conditions.js'
import { field, parseDocument, SYNTAX, type Fail } from './policy-document.js'
import { compileStatement, type Statement } from './policy-statement.js'
import { ACTIONS } from './s3-actions.js'
import { matchGlob } from './wildcard.js'

export type { PolicyContext } from './policy-conditions.js'

const VERSIONS: readonly PolicyVersion[] = ['2012-10-17', '2008-10-17']

export interface PolicyRequest {
  /** The access key that signed the request; undefined for an anonymous one. */
  principal: string | undefined
  /** An S3 action as policies name it, e.g. `s3:GetObject`. */
  action: string
  bucket: string
  /** The object, for an object action (and only then). */
  key?: string | undefined
  context: PolicyContext
}

export type PolicyDecision = 'allow' | 'deny' | undefined
/** The policy language versions S3 takes; a policy without `Version` is 2008-10-17's. */
export type PolicyVersion = '2012-10-17' | '2008-10-17'

/** An Allow statement that lets anyone in, in S3's sense of public (see `publicStatements`). */
export interface PublicStatement {
  /** Its place in `Statement` (0 for a lone statement object). */
  index: number
  sid: string | undefined
  /** `Action` as written, or `NotAction` when `notAction`. */
  actions: string[]
  notAction: boolean
  /** `Resource` as written, or `NotResource` when `notResource`. */
  resources: string[]
  notResource: boolean
}

/**
 * A checked, compiled bucket policy: what `compilePolicy` answers. Immutable; holds the text as
 * given (what GetBucketPolicy answers) and the compiled statements, private to this module.
 */
export class CompiledPolicy {
  readonly bucket: string
  readonly text: string
  readonly version: PolicyVersion
  readonly id: string | undefined
  readonly #statements: readonly Statement[]
  readonly #usesIp: boolean

  private constructor (bucket: string, text: string, version: PolicyVersion, id: string | undefined, statements: Statement[]) {
    this.bucket = bucket
    this.text = text
    this.version = version
    this.id = id
    this.#statements = Object.freeze(statements)
    this.#usesIp = statements.some(s => s.conditions.some(c => c.key.type === 'ip'))
    Object.freeze(this)
  }

  /** See `compilePolicy`. */
  static compile (text: unknown, bucket: string): CompiledPolicy {
    if (typeof text !== 'string') throw new TypeError('A bucket policy must be a string of JSON')
    if (typeof bucket !== 'string' || bucket === '') throw new TypeError('bucket must be a bucket name')
    const fail: Fail = message => { throw new SpaceboxError('MalformedPolicy', message, { bucket }) }
    const document = parseDocument(text, fail)
    for (const name of Object.keys(document)) {
      if (name !== 'Version' && name !== 'Id' && name !== 'Statement') fail(`Unknown field ${name}`)
    }
    const written = field(document, 'Version')
    const version = written === undefined ? '2008-10-17' : written
    if (!VERSIONS.includes(version as PolicyVersion)) fail('The policy must contain a valid version string')
    const id = field(document, 'Id')
    if (id !== undefined && typeof id !== 'string') fail(SYNTAX)
    const raw = field(document, 'Statement')
    if (raw === undefined) fail('Missing required field Statement')
    const list = Array.isArray(raw) ? raw : [raw]
    if (list.length === 0) fail('Could not parse the policy: Statement is empty!')
    // Policy variables (`${aws:username}`) exist from version 2012-10-17 on; before it `${` is text.
    const variables = version === '2012-10-17'
    const statements = list.map((item, index) => compileStatement(item, index, bucket, variables, fail))
    const sids = new Set<string>()
    for (const { sid } of statements) {
      if (sid === undefined || sid === '') continue
      if (sids.has(sid)) fail('Statement IDs (SID) in a single policy must be unique')
      sids.add(sid)
    }
    return new CompiledPolicy(bucket, text, version as PolicyVersion, id as string | undefined, statements)
  }

  /** See `evaluatePolicy`. */
  evaluate (request: PolicyRequest): PolicyDecision {
    const { action, path, principal, context } = this.#checkRequest(request)
    const ip = this.#usesIp && typeof context.sourceIp === 'string' ? requestIp(context.sourceIp) : undefined
    let allowed = false
    for (const s of this.#statements) {
      if (s.actions.has(action) === s.notAction) continue
      const named = s.anyone || (principal !== undefined && s.principals.has(principal))
      if (named === s.notPrincipal) continue
      if (s.resources.some(glob => matchGlob(glob, path)) === s.notResource) continue
      if (!s.conditions.every(c => holds(c, context, ip))) continue
      if (s.effect === 'Deny') return 'deny'
      allowed = true
    }
    return allowed ? 'allow' : undefined
  }

  /** See `publicStatements`. */
  publicStatements (): PublicStatement[] {
    return this.#statements.filter(isPublic).map(s => ({
      index: s.index,
      sid: s.sid,
      actions: [...s.writtenActions],
      notAction: s.notAction,
      resources: [...s.writtenResources],
      notResource: s.notResource
    }))
  }

  #checkRequest (request: PolicyRequest): { action: string, path: string, principal: string | undefined, context: PolicyContext } {
    if (request === null || typeof request !== 'object') throw new TypeError('request must be an object')
    const { principal, action, bucket, key, context } = request
    if (principal !== undefined && typeof principal !== 'string') throw new TypeError('principal must be an access key id or undefined')
    if (bucket !== this.bucket) throw new TypeError(`This policy is bucket ${this.bucket}'s, not ${String(bucket)}'s`)
    const name = typeof action === 'string' ? action.toLowerCase() : ''
    const kind = ACTIONS.get(name)
    if (kind === undefined || kind === 'other') throw new TypeError(`${String(action)} is not an S3 bucket or object action`)
    if (key !== undefined && typeof key !== 'string') throw new TypeError('key must be a string')
    if ((kind === 'object') !== (key !== undefined)) {
      throw new TypeError(kind === 'object' ? `${action} needs the object's key` : `${action} is a bucket action: it takes no key`)
    }
    if (context === null || typeof context !== 'object') throw new TypeError('context must be an object')
    return { action: name, path: key === undefined ? bucket : `${bucket}/${key}`, principal, context }
  }
}

/**
 * Check a bucket policy (JSON text) for `bucket` and compile it. Throws a TypeError if `text` is
 * not a string; MalformedPolicy with S3's message where S3 has one: not JSON or not starting with
 * `{`, over 20 KB, an unknown element, a missing or repeated one, an action S3 does not have, a
 * resource outside the bucket, an action that applies to none of the statement's resources, a
 * principal, condition operator, condition key or value that is invalid, and (with a message
 * naming it) anything valid in IAM that spacebox does not evaluate rather than ignore it.
 */
export function compilePolicy (text: unknown, bucket: string): CompiledPolicy {
  return CompiledPolicy.compile(text, bucket)
}

/**
 * What `policy` says of `request`: 'deny' when a statement that applies denies it (an explicit deny
 * wins), 'allow' when one allows it and none denies, undefined when none applies. A condition key
 * the request lacks fails positive operators and passes negated ones (StringNotEquals, StringNotLike,
 * NumericNotEquals, NotIpAddress); `...IfExists` operators pass. Throws a TypeError for a request
 * that cannot be this policy's: another bucket, an action that is not an S3 bucket or object
 * action, an object action without a key or a bucket action with one.
 */
export function evaluatePolicy (policy: CompiledPolicy, request: PolicyRequest): PolicyDecision {
  return policy.evaluate(request)
}

/**
 * The statements that make the policy public as S3 reports it (GetBucketPolicyStatus): Allow
 * statements whose principal is anyone (`*`, `{"AWS": "*"}`, or a NotPrincipal), unless an
 * `IpAddress` condition on aws:SourceIp pins them to CIDRs no broader than /8 (IPv4) or /32 (IPv6).
 * Conditions on keys anyone can set (Referer, User-Agent, TLS, prefix) leave them public.
 */
export function publicStatements (policy: CompiledPolicy): PublicStatement[] {
  return policy.publicStatements()
}

/** Whether an Allow statement lets anyone in, by S3's definition of a public policy. */
function isPublic (s: Statement): boolean {
  if (s.effect !== 'Allow' || !(s.anyone || s.notPrincipal)) return false
  // Pinned to fixed CIDRs by aws:SourceIp: not public, unless a range is broader than /8 or /32.
  const pinned = s.conditions.some(c => c.key.type === 'ip' && !c.negated && !c.ifExists && c.absent === undefined &&
    c.cidrs !== undefined && c.cidrs.every(r => r.prefix >= (r.v6 ? 32 : 8)))
  return !pinned
}
