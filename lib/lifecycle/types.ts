/** The public shapes of bucket lifecycle rules (PutBucketLifecycleConfiguration) and of a lifecycle pass. */

/** Which objects a rule applies to: every predicate given must hold. None (or `{}`) is the whole bucket. */
export interface LifecycleFilter {
  /** Keys starting with this. */
  prefix?: string
  /** Versions carrying every one of these tags (S3: one `Tag`, or several inside `And`). */
  tags?: Record<string, string>
  /** Versions larger than this many bytes (exclusive). */
  objectSizeGreaterThan?: number
  /** Versions smaller than this many bytes (exclusive). */
  objectSizeLessThan?: number
}

/** What a rule's Expiration does: after `days` or from `date`, or only remove delete markers left alone. */
export interface LifecycleExpiration {
  /** Days after the version was written, counted to the next midnight UTC; 1 or more. */
  days?: number
  /** A midnight UTC (a Date, or an ISO 8601 string). */
  date?: Date | string
  /** Remove a delete marker that has no version behind it; alone, without days or date. */
  expiredObjectDeleteMarker?: boolean
}

/** One rule of a bucket's lifecycle configuration. */
export interface LifecycleRule {
  /** Up to 255 characters, unique in the configuration; generated when absent. */
  id?: string
  status: 'Enabled' | 'Disabled'
  filter?: LifecycleFilter
  /** The older rule-level prefix, instead of a filter. */
  prefix?: string
  expiration?: LifecycleExpiration
  /** Remove noncurrent versions `noncurrentDays` after they became noncurrent, keeping the newest `newerNoncurrentVersions` (1 to 100). */
  noncurrentVersionExpiration?: { noncurrentDays: number, newerNoncurrentVersions?: number }
  /** Abort multipart uploads `daysAfterInitiation` days after they started. Not with a tag filter. */
  abortIncompleteMultipartUpload?: { daysAfterInitiation: number }
}

/** When a rule expires an object, as `x-amz-expiration` says it. */
export interface ObjectExpiration {
  /** A midnight UTC. */
  date: Date
  ruleId: string
}

/** One thing a lifecycle pass expired, and the rule that expired it. */
export interface LifecycleExpired {
  bucket: string
  key: string
  ruleId: string
  /**
   * objects: the version that stopped being current (absent in a bucket never versioned);
   * versions and deleteMarkers: the version removed.
   */
  versionId?: string
  /** objects, in a versioned bucket: the delete marker written in its place. */
  deleteMarkerVersionId?: string
  /** uploads: the upload aborted. */
  uploadId?: string
}

/** What `applyLifecycle()` expired. */
export interface LifecycleResult {
  /** Current versions expired: deleted, or (versioned bucket) hidden behind a new delete marker. */
  objects: LifecycleExpired[]
  /** Noncurrent versions removed for good. */
  versions: LifecycleExpired[]
  /** Delete markers left alone with no version behind them, removed. */
  deleteMarkers: LifecycleExpired[]
  /** Multipart uploads aborted. */
  uploads: LifecycleExpired[]
}

export interface ApplyLifecycleOptions {
  /** Only this bucket's rules; default every bucket's. */
  bucket?: string
}
