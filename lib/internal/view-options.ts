/**
 * Options only a scoped view sets, under symbols no caller can name. The view decides what a key
 * may do; these carry its decisions into the engine call it makes, where they need what the call reads.
 */
import type { StoredAcl } from '../access/acl.js'

/**
 * A check the engine runs at the instant a write commits, in the tick of the batch that makes it
 * visible: the key may have been deleted, disabled, regenerated or narrowed while its body
 * streamed in. A check that throws stops the commit; nothing is stored.
 */
export const COMMIT_CHECK = Symbol('spacebox.commitCheck')

/** What a commit makes visible that its check may need beyond the call's arguments. */
export interface Committing {
  /** The ACL the version gets (a multipart upload's was given when it began). */
  acl: StoredAcl | undefined
}

/**
 * The prefix a listing is clipped to (a prefix-scoped key listing past its grant); roll-ups still
 * count from the prefix asked for.
 */
export const LISTING_SCOPE = Symbol('spacebox.listingScope')

/**
 * A read decided by the version it finds (an unsigned caller, whom an object's ACL may let in):
 * called with the version's ACL, or with undefined when there is no such version, before
 * anything of it is answered. A check that throws ends the read.
 */
export const OBJECT_CHECK = Symbol('spacebox.objectCheck')

/**
 * A check each object of a bulk change must pass (a key's write on it), asked just before that
 * object changes: false leaves it as it is, and the engine reports it refused.
 */
export const EACH_CHECK = Symbol('spacebox.eachCheck')

export interface ViewOptions {
  [OBJECT_CHECK]?: (found: { acl: StoredAcl | undefined } | undefined) => void
  [COMMIT_CHECK]?: (committing: Committing) => void
  [LISTING_SCOPE]?: string
  [EACH_CHECK]?: (key: string) => boolean
}

export function checkAtCommit (options: object, committing: Committing): void {
  (options as ViewOptions)[COMMIT_CHECK]?.(committing)
}

export function listingScopeOf (options: object): string {
  return (options as ViewOptions)[LISTING_SCOPE] ?? ''
}

export function eachCheckOf (options: object): ((key: string) => boolean) | undefined {
  return (options as ViewOptions)[EACH_CHECK]
}

/** Read a version for a caller whose access it decides: a miss is the check's to answer first. */
export async function readChecked<T extends { head: { acl?: StoredAcl } }> (options: object, read: () => Promise<T>): Promise<T> {
  const check = (options as ViewOptions)[OBJECT_CHECK]
  if (check === undefined) return await read()
  let found: T
  try {
    found = await read()
  } catch (err) {
    check(undefined)
    throw err
  }
  check({ acl: found.head.acl })
  return found
}
