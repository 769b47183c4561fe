/**
 * Canned ACLs: the four S3 names a bucket or an object can carry, and what each lets an unsigned
 * caller do. Grants to named accounts do not exist here (one owner per store), so a canned ACL is
 * the whole ACL. Pure functions.
 */
import { SpaceboxError } from '../errors.js'

export type CannedAcl = 'private' | 'public-read' | 'public-read-write' | 'authenticated-read'

/** What a write may give an object: the bucket-owner ACLs too, private here (one owner). */
export type ObjectCannedAcl = CannedAcl | 'bucket-owner-read' | 'bucket-owner-full-control'

/** A stored ACL: absent means private. */
export type StoredAcl = Exclude<CannedAcl, 'private'>

const CANNED: readonly string[] = ['private', 'public-read', 'public-read-write', 'authenticated-read']
/** Object ACLs naming the bucket owner, who is the object owner here: both are private. */
const OWNER_ONLY: readonly string[] = ['bucket-owner-read', 'bucket-owner-full-control']

/**
 * A canned ACL as a caller gives it, checked: undefined and private (and, for objects, the
 * bucket-owner ones) store as undefined. InvalidArgument naming `x-amz-acl`, as S3 answers.
 */
export function checkAcl (acl: unknown, where: { bucket: string, key?: string }): StoredAcl | undefined {
  if (acl === undefined) return undefined
  if (typeof acl !== 'string') throw new TypeError('acl must be a string')
  if (where.key !== undefined && OWNER_ONLY.includes(acl)) return undefined
  if (!CANNED.includes(acl)) {
    throw new SpaceboxError('InvalidArgument', `Unsupported canned ACL ${JSON.stringify(acl)}: private, public-read, public-read-write or authenticated-read`, {
      ...where, detail: { argumentName: 'x-amz-acl', argumentValue: acl }
    })
  }
  return acl === 'private' ? undefined : acl as StoredAcl
}

/** Whether writing with this ACL makes something readable beyond the key's own grants: the publish right. */
export function publishes (acl: unknown): boolean {
  return typeof acl === 'string' && acl !== 'private' && !OWNER_ONLY.includes(acl)
}

/** What an ACL lets anyone do, unsigned: read (a bucket: list it; an object: get it), and write (a bucket: its objects). */
export function aclAllows (acl: StoredAcl | undefined, access: 'read' | 'write'): boolean {
  return acl === 'public-read-write' || (acl === 'public-read' && access === 'read')
}
