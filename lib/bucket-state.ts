import type { BatchOp } from './context.js'
import type { BucketRecord } from './schema/records.js'

/** A bucket as the engine holds it while open: its record and the commits under way in it. */
export interface BucketState {
  record: BucketRecord
  /** Commits under way in the bucket. */
  active: number
  /** Set while a delete waits for commits to drain; resolves to whether the bucket went. */
  deleting: Promise<boolean> | undefined
  drained: (() => void) | undefined
}

/** Change a bucket's record, with `extra` operations in the same batch (Buckets.update). */
export type BucketUpdate = (state: BucketState, edit: (record: BucketRecord) => void, extra?: BatchOp[]) => Promise<void>
