/**
 * A bucket's lifecycle configuration as its record keeps it: set, read back, removed, and compiled
 * once per record (a changed bucket record is a new object, so a stale compilation is never used).
 */
import { SpaceboxError } from '../errors.js'
import type { Buckets } from '../buckets.js'
import type { BucketRecord, ObjectHead } from '../schema/records.js'
import { compileLifecycle, expirationOf, type LifecyclePolicy } from './rules.js'
import type { LifecycleRule, ObjectExpiration } from './types.js'

const policies = new WeakMap<LifecycleRule[], LifecyclePolicy>()

/** The bucket's enabled rules compiled; undefined when it has no configuration. Throws nothing. */
export function lifecyclePolicy (record: BucketRecord): LifecyclePolicy | undefined {
  const rules = record.lifecycle
  if (rules === undefined) return undefined
  let policy = policies.get(rules)
  if (policy === undefined) {
    policy = compileLifecycle(rules)
    policies.set(rules, policy)
  }
  return policy
}

/** The bucket's rules as given (ids filled in, dates as Dates). NoSuchBucket, NoSuchLifecycleConfiguration. */
export function lifecycleRules (buckets: Buckets, bucket: string): LifecycleRule[] {
  const rules = buckets.get(bucket).record.lifecycle
  if (rules === undefined) throw new SpaceboxError('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', { bucket })
  return rules.map(rule => {
    const copy = structuredClone(rule)
    if (copy.expiration?.date !== undefined) copy.expiration.date = new Date(copy.expiration.date)
    return copy
  })
}

/**
 * `info` with what `x-amz-expiration` says of it, for a read of the current version (`versionId`
 * undefined, or naming the current one). Costs nothing in a bucket without rules.
 */
export function withExpiration<T extends { expiration?: ObjectExpiration }> (info: T, record: BucketRecord, key: string,
  stored: { head: ObjectHead, current?: boolean }, versionId: string | undefined): T {
  if (record.lifecycle === undefined || (versionId !== undefined && stored.current !== true)) return info
  const expiration = expirationOf(lifecyclePolicy(record) as LifecyclePolicy, key, stored.head)
  if (expiration !== undefined) info.expiration = expiration
  return info
}
