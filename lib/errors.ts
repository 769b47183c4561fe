/**
 * The one error class of spacebox. `code` is a contract (the S3 error vocabulary, plus a few
 * store-level codes); `message` is not. HTTP statuses belong to the S3 adapter, not here.
 */
export type ErrorCode =
  | 'NoSuchBucket'
  | 'NoSuchKey'
  | 'NoSuchVersion'
  | 'MethodNotAllowed'
  | 'BucketAlreadyOwnedByYou'
  | 'BucketNotEmpty'
  | 'InvalidBucketName'
  | 'InvalidLocationConstraint'
  | 'KeyTooLongError'
  | 'InvalidArgument'
  | 'InvalidRequest'
  | 'MetadataTooLarge'
  | 'PreconditionFailed'
  | 'NotModified'
  | 'InvalidRange'
  | 'InvalidPartNumber'
  | 'BadDigest'
  | 'InvalidDigest'
  | 'EntityTooLarge'
  | 'IncompleteBody'
  | 'NoSuchUpload'
  | 'InvalidPart'
  | 'InvalidPartOrder'
  | 'EntityTooSmall'
  | 'InternalError'
  | 'NotOpen'
  | 'StoreLocked'
  | 'UnsupportedFormat'
  | 'InvalidArchive'
  | 'InvalidMasterKey'
  | 'NoSuchAccessKey'
  | 'InvalidAccessKeyId'
  | 'SignatureDoesNotMatch'
  | 'AccessDenied'
  | 'SlowDown'
  | 'ServerSideEncryptionConfigurationNotFoundError'
  | 'NoSuchCORSConfiguration'
  | 'MalformedPolicy'
  | 'NoSuchBucketPolicy'
  | 'MalformedACLError'
  | 'NoSuchWebsiteConfiguration'
  | 'NoSuchLifecycleConfiguration'
  | 'InvalidStorageClass'
  | 'InvalidTag'
  | 'BadRequest'
  | 'NoSuchTagSet'

export interface ErrorDetails {
  bucket?: string | undefined
  key?: string | undefined
  cause?: unknown
  /** Extra facts an adapter needs to render the error (e.g. `actualSize` for InvalidRange). */
  detail?: Record<string, string | number> | undefined
}

/**
 * Marks spacebox's errors across copies of the package: a process that both imports and requires
 * spacebox loads its ES and CommonJS builds side by side, each with its own class.
 */
const BRAND = Symbol.for('spacebox.error')

export class SpaceboxError extends Error {
  /** `instanceof` recognises an error of either build by its brand. */
  static override [Symbol.hasInstance] (value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }

  override name = 'SpaceboxError'
  readonly code: ErrorCode
  readonly bucket: string | undefined
  readonly key: string | undefined
  readonly detail: Record<string, string | number> | undefined

  constructor (code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    this.bucket = details.bucket
    this.key = details.key
    this.detail = details.detail
    Object.defineProperty(this, BRAND, { value: true })
  }
}

export function isSpaceboxError (err: unknown, code?: ErrorCode): err is SpaceboxError {
  return err instanceof SpaceboxError && (code === undefined || err.code === code)
}

/**
 * Translate a storage-layer failure into a SpaceboxError at the engine boundary. Errors that are
 * already ours, and errors that are not LevelDB's (a caller's body stream failing, a TypeError
 * for a programming mistake), pass through untouched.
 */
export function fromStorageError (err: unknown): unknown {
  if (err instanceof SpaceboxError) return err
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string' || !code.startsWith('LEVEL_')) return err
  if (code === 'LEVEL_DATABASE_NOT_OPEN' || code === 'LEVEL_ITERATOR_NOT_OPEN' || code === 'LEVEL_SNAPSHOT_NOT_OPEN') {
    return new SpaceboxError('NotOpen', 'The store is not open', { cause: err })
  }
  return new SpaceboxError('InternalError', 'The storage layer failed', { cause: err })
}
