import type { Grant, Permission } from '../index.js'
import { UsageError } from './io.js'

// readwrite+publish: a readwrite grant that may also write objects with a public ACL.
const PERMISSIONS: readonly string[] = ['read', 'readwrite', 'readwrite+publish', 'fullaccess']

/** The one grant of a full-access key. */
const FULL_ACCESS: Grant = { bucket: '', permission: 'fullaccess' }

/**
 * `BUCKET:PERMISSION[:PREFIX]` as a grant; `*:fullaccess` is full access to every bucket. The
 * prefix is everything after the second colon, so it may hold colons itself.
 */
export function parseGrant (spec: string): Grant {
  const first = spec.indexOf(':')
  const second = first === -1 ? -1 : spec.indexOf(':', first + 1)
  const bucket = spec.slice(0, first)
  const permission = second === -1 ? spec.slice(first + 1) : spec.slice(first + 1, second)
  if (first < 1 || !PERMISSIONS.includes(permission)) {
    throw new UsageError(`--grant ${JSON.stringify(spec)}: expected BUCKET:PERMISSION[:PREFIX], PERMISSION one of ${PERMISSIONS.join(', ')}`)
  }
  if (bucket === '*') {
    if (permission !== 'fullaccess' || second !== -1) throw new UsageError('--grant \'*:...\' (every bucket) is only \'*:fullaccess\', without a prefix')
    return { ...FULL_ACCESS }
  }
  const grant: Grant = permission === 'readwrite+publish' ? { bucket, permission: 'readwrite', publish: true } : { bucket, permission: permission as Permission }
  if (second !== -1 && second < spec.length - 1) grant.prefix = spec.slice(second + 1)
  return grant
}

/** The grants of `--grant` and `--full-access` options; at least one is needed. */
export function grantsOf (specs: readonly string[] | undefined, fullAccess: boolean | undefined): Grant[] {
  const grants = (specs ?? []).map(parseGrant)
  if (fullAccess === true) grants.push({ ...FULL_ACCESS })
  if (grants.length === 0) throw new UsageError('a key needs at least one --grant BUCKET:PERMISSION[:PREFIX], or --full-access')
  if (grants.length > 1 && grants.some(g => g.bucket === '')) throw new UsageError('full access (--full-access, --grant \'*:fullaccess\') cannot be combined with other grants')
  return grants
}

/** A grant as it is written on the command line. */
export function formatGrant (grant: Grant): string {
  if (grant.bucket === '') return '*:fullaccess'
  const permission = grant.publish === true ? 'readwrite+publish' : grant.permission
  return grant.prefix === undefined ? `${grant.bucket}:${permission}` : `${grant.bucket}:${permission}:${grant.prefix}`
}
