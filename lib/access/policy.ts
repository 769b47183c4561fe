/**
 * The authorisation rules, as pure functions: what a key's grants let it do. The engine's
 * scoped view and the S3 adapter both decide through these, and nothing else.
 */
export type Permission = 'read' | 'readwrite' | 'fullaccess'

/** Access to one bucket (optionally only keys under `prefix`), or with `bucket: ''` and fullaccess, to all. */
export interface Grant {
  bucket: string
  permission: Permission
  prefix?: string
  /** A readwrite grant that may also write objects with a public ACL; fullaccess always may. */
  publish?: boolean
}

/**
 * What an operation needs: `read` (get, head, list), `write` (put, copy into, delete, multipart),
 * `publish` (write with a public ACL), `admin` (create or delete the bucket, change its configuration).
 */
export type Action = 'read' | 'write' | 'publish' | 'admin'

const NEEDS: Record<Action, number> = { read: 1, write: 2, publish: 2, admin: 3 }
const GIVES: Record<Permission, number> = { read: 1, readwrite: 2, fullaccess: 3 }

export type Decision = { allowed: true } | { allowed: false, reason: string }

export function isFullAccess (grants: readonly Grant[]): boolean {
  return grants.length === 1 && grants[0]?.bucket === '' && grants[0].permission === 'fullaccess'
}

/**
 * May a key holding `grants` do `action` on `bucket`, or on object `key` of it? An object action
 * needs a grant whose prefix the key starts with; a bucket action (key undefined) that is
 * `admin` needs a grant on the whole bucket; reading a bucket (head, list) needs any grant on it.
 */
export function authorize (grants: readonly Grant[], action: Action, bucket: string, key?: string): Decision {
  if (isFullAccess(grants)) return { allowed: true }
  const onBucket = grants.filter(g => g.bucket === bucket)
  if (onBucket.length === 0) return { allowed: false, reason: `no grant names bucket ${bucket}` }
  const strong = onBucket.filter(g => GIVES[g.permission] >= NEEDS[action] && (action !== 'publish' || g.permission === 'fullaccess' || g.publish === true))
  if (strong.length === 0) {
    return { allowed: false, reason: `the grants on bucket ${bucket} (${onBucket.map(g => g.permission).join(', ')}) do not allow ${action}` }
  }
  if (key === undefined) {
    if (action !== 'admin' || strong.some(g => g.prefix === undefined)) return { allowed: true }
    return { allowed: false, reason: `${action} on bucket ${bucket} needs a grant on the whole bucket, not a prefix` }
  }
  if (strong.some(g => g.prefix === undefined || key.startsWith(g.prefix))) return { allowed: true }
  return { allowed: false, reason: `key ${key} is outside the prefixes granted for ${action} on bucket ${bucket} (${strong.map(g => g.prefix).join(', ')})` }
}

/**
 * The part of a bucket a listing under `prefix` may show: '' for all of it, or the one granted
 * prefix that the listing is clipped to when the request asks for more than it may see.
 */
export function listingScope (grants: readonly Grant[], bucket: string, prefix: string): { allowed: true, scope: string } | { allowed: false, reason: string } {
  const readable = isFullAccess(grants) ? grants : grants.filter(g => g.bucket === bucket)
  if (readable.length === 0) return { allowed: false, reason: `no grant names bucket ${bucket}` }
  if (isFullAccess(grants) || readable.some(g => g.prefix === undefined || prefix.startsWith(g.prefix))) return { allowed: true, scope: '' }
  const narrower = new Set(readable.map(g => g.prefix as string).filter(p => p.startsWith(prefix)))
  if (narrower.size === 1) return { allowed: true, scope: [...narrower][0] as string }
  return { allowed: false, reason: `listing ${JSON.stringify(prefix)} of bucket ${bucket} would reach past the granted prefixes; list under one of them` }
}

/** The buckets a key can reach: all of them, or those its grants name. */
export function reachable (grants: readonly Grant[]): 'all' | Set<string> {
  return isFullAccess(grants) ? 'all' : new Set(grants.map(g => g.bucket))
}
