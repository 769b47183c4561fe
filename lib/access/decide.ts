/**
 * Who may do what, all rules in one place: a key's grants, the bucket's canned ACL, its policy.
 * A signed caller may do what its grants allow, less what the policy denies it: ACLs and policy
 * Allows never widen a key (least privilege; S3 lets them). An unsigned caller may do what the
 * policy allows anyone, or the ACLs do, less what the policy denies. Pure functions.
 */
import { aclAllows } from './acl.js'
import { evaluatePolicy } from './bucket-policy.js'
import type { BucketAccess } from '../buckets.js'
import type { Check } from './operations.js'
import { authorize, type Decision, type Grant } from './policy.js'

/** What a request brings that policy conditions test; the S3 adapter fills it in. */
export interface RequestContext {
  sourceIp?: string
  secureTransport?: boolean
  referer?: string
  userAgent?: string
}

export interface Caller {
  /** Undefined for an unsigned caller. */
  accessKeyId: string | undefined
  grants: readonly Grant[]
  context: RequestContext
}

/**
 * Allowed, refused, or (an unsigned read of an object) up to the version found: its ACL, unless
 * the policy already `granted` the read. Either way a miss is told only to who may list the bucket.
 */
export type Verdict = Decision | { allowed: 'byObject', granted: boolean }

/** What a bucket's public-read ACL lets anyone do: list it. public-read-write: write its objects too. */
const ACL_LISTS = new Set(['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads'])
const ACL_WRITES = new Set(['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'])
/** An object's own ACL decides these. */
const OBJECT_READS = new Set(['s3:GetObject', 's3:GetObjectVersion'])
/** Whoever may configure a bucket may always replace its policy, as S3's bucket owner: no lockout. */
const POLICY_MANAGEMENT = new Set(['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'])

const denied = (reason: string): Decision => ({ allowed: false, reason })

/** May `caller` make `check` on a bucket whose ACL and policy are `access` (undefined: no such bucket)? */
export function decide (caller: Caller, check: Check, access: BucketAccess | undefined, listing: { prefix?: string, delimiter?: string } = {}): Verdict {
  const [action, bucket, key, s3] = check
  const signed = caller.accessKeyId !== undefined
  const owner = signed && POLICY_MANAGEMENT.has(s3) && authorize(caller.grants, 'admin', bucket).allowed
  let allowedByPolicy = false
  if (access?.policy === null && !owner) return denied(`the policy of bucket ${bucket} no longer passes today's checks; replace it`)
  if (access?.policy !== undefined && access.policy !== null && !owner) {
    const outcome = evaluatePolicy(access.policy, {
      principal: caller.accessKeyId, action: s3, bucket, ...(key === undefined ? {} : { key }), context: { ...caller.context, ...listing }
    })
    if (outcome === 'deny') return denied(`a statement of the policy of bucket ${bucket} denies ${s3}`)
    allowedByPolicy = outcome === 'allow'
  }
  if (signed) return authorize(caller.grants, action, bucket, key)
  if (key !== undefined && action === 'read' && OBJECT_READS.has(s3)) return { allowed: 'byObject', granted: allowedByPolicy }
  if (allowedByPolicy) return { allowed: true }
  if (access !== undefined) {
    if (key === undefined && action === 'read' && ACL_LISTS.has(s3) && aclAllows(access.acl, 'read')) return { allowed: true }
    if (key !== undefined && action === 'write' && ACL_WRITES.has(s3) && aclAllows(access.acl, 'write')) return { allowed: true }
  }
  return denied(`nothing makes ${s3} on ${key === undefined ? `bucket ${bucket}` : `${bucket}/${key}`} public`)
}
