/**
 * Options only a scoped view sets, under symbols no caller can name. The view decides what a key
 * may do; these carry two of its decisions into the engine call it makes.
 */

/**
 * A check the engine runs at the instant a write commits, in the tick of the batch that makes it
 * visible: the key may have been deleted, disabled, regenerated or narrowed while its body
 * streamed in. A check that throws stops the commit; nothing is stored.
 */
export const COMMIT_CHECK = Symbol('spacebox.commitCheck')

/**
 * The prefix a listing is clipped to (a prefix-scoped key listing past its grant); roll-ups still
 * count from the prefix asked for.
 */
export const LISTING_SCOPE = Symbol('spacebox.listingScope')

export interface ViewOptions {
  [COMMIT_CHECK]?: () => void
  [LISTING_SCOPE]?: string
}

export function checkAtCommit (options: object): void {
  (options as ViewOptions)[COMMIT_CHECK]?.()
}

export function listingScopeOf (options: object): string {
  return (options as ViewOptions)[LISTING_SCOPE] ?? ''
}
