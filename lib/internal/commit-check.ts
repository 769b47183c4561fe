/**
 * A check the engine runs at the instant a write commits, in the same tick as the batch that makes
 * it visible. The scoped view passes one in its options, under a symbol no caller can name, to
 * authorise a key again after its body has streamed in: the key may have been deleted, disabled,
 * regenerated or narrowed meanwhile. A check that throws stops the commit; nothing is stored.
 */
export const COMMIT_CHECK = Symbol('spacebox.commitCheck')

export interface CommitChecked {
  [COMMIT_CHECK]?: () => void
}

export function checkAtCommit (options: object): void {
  (options as CommitChecked)[COMMIT_CHECK]?.()
}
