import { isSpaceboxError, type ErrorCode } from '../index.js'

/** HTTP status of every engine error code: a new code cannot ship without one. */
const ENGINE_STATUS = {
  NotModified: 304,
  BadDigest: 400,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidDigest: 400,
  InvalidLocationConstraint: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidRequest: 400,
  KeyTooLongError: 400,
  MalformedACLError: 400,
  MalformedPolicy: 400,
  InvalidStorageClass: 400,
  InvalidTag: 400,
  BadRequest: 400,
  MetadataTooLarge: 400,
  AccessDenied: 403,
  InvalidAccessKeyId: 403,
  SignatureDoesNotMatch: 403,
  NoSuchAccessKey: 404,
  NoSuchBucket: 404,
  NoSuchBucketPolicy: 404,
  NoSuchCORSConfiguration: 404,
  NoSuchKey: 404,
  NoSuchLifecycleConfiguration: 404,
  NoSuchUpload: 404,
  NoSuchVersion: 404,
  NoSuchWebsiteConfiguration: 404,
  NoSuchTagSet: 404,
  MethodNotAllowed: 405,
  ServerSideEncryptionConfigurationNotFoundError: 404,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  PreconditionFailed: 412,
  InvalidRange: 416,
  InvalidPartNumber: 416,
  InternalError: 500,
  InvalidMasterKey: 500,
  StoreLocked: 500,
  UnsupportedFormat: 500,
  InvalidArchive: 400,
  NotOpen: 503,
  SlowDown: 503
} satisfies Record<ErrorCode, number>

/**
 * HTTP status of every S3 error code the adapter answers with. A Map, so that a code that arrives
 * from outside (a fault rule) can never find an inherited property.
 */
const STATUS: ReadonlyMap<string, number> = new Map(Object.entries({
  ...ENGINE_STATUS,
  AccessControlListNotSupported: 400,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  InvalidEncryptionAlgorithmError: 400,
  InvalidURI: 400,
  'KMS.NotFoundException': 400,
  MalformedTrailerError: 400,
  MalformedXML: 400,
  MaxMessageLengthExceeded: 400,
  MissingSecurityHeader: 400,
  MissingRequestBodyError: 400,
  RequestHeaderSectionTooLarge: 400,
  RequestTimeout: 400,
  UnexpectedContent: 400,
  AccessForbidden: 403,
  RequestTimeTooSkewed: 403,
  BucketAlreadyExists: 409,
  ConditionalRequestConflict: 409,
  MissingContentLength: 411,
  NotImplemented: 501,
  ServiceUnavailable: 503
}))

/** Elements an S3 error body may carry beside Code and Message (BucketName, Key, Region, ...). */
export type ErrorExtras = Record<string, string | number>

/** An error the adapter answers with: an S3 code, its message and the body's extra elements. */
export class S3Error extends Error {
  override name = 'S3Error'
  readonly code: string
  readonly extras: ErrorExtras
  /** Headers the response carries besides the usual ones (Content-Range for InvalidRange, ...). */
  readonly headers: Record<string, string>

  constructor (code: string, message: string, extras: ErrorExtras = {}, headers: Record<string, string> = {}) {
    super(message)
    this.code = code
    this.extras = extras
    this.headers = headers
  }

  get status (): number {
    return statusOf(this.code)
  }
}

/**
 * The S3 error for anything thrown while serving a request; unknown failures become InternalError.
 * `method` is the request's, which a 405 on a delete marker names.
 */
export function toS3Error (err: unknown, method = 'GET'): S3Error {
  if (err instanceof S3Error) return err
  if (isSpaceboxError(err)) {
    const extras: ErrorExtras = {}
    const headers: Record<string, string> = {}
    const detail = err.detail ?? {}
    if ((err.code === 'NoSuchBucket' || err.code === 'NoSuchBucketPolicy') && err.bucket !== undefined) extras.BucketName = err.bucket
    if ((err.code === 'NoSuchKey' || err.code === 'KeyTooLongError') && err.key !== undefined) extras.Key = err.key
    if (err.code === 'NoSuchUpload' && detail.uploadId !== undefined) extras.UploadId = detail.uploadId
    if (err.code === 'InvalidRange' && detail.actualObjectSize !== undefined) {
      extras.ActualObjectSize = detail.actualObjectSize
      if (detail.range !== undefined) extras.RangeRequested = detail.range
      headers['content-range'] = `bytes */${detail.actualObjectSize}`
    }
    if (err.code === 'InvalidPartNumber' && detail.actualPartCount !== undefined) {
      extras.PartNumberRequested = detail.partNumberRequested ?? ''
      extras.ActualPartCount = detail.actualPartCount
    }
    if (err.code === 'PreconditionFailed' && detail.condition !== undefined) extras.Condition = detail.condition
    // S3 names the tag at fault: its key, and its value when that is what is wrong.
    if (err.code === 'InvalidTag' && detail.tagKey !== undefined) {
      extras.TagKey = detail.tagKey
      if (detail.tagValue !== undefined) extras.TagValue = detail.tagValue
    }
    if (err.code === 'InvalidStorageClass' && detail.storageClassRequested !== undefined) extras.StorageClassRequested = detail.storageClassRequested
    if (err.code === 'InvalidAccessKeyId' && detail.accessKeyId !== undefined) extras.AWSAccessKeyId = detail.accessKeyId
    if (err.code === 'BucketAlreadyOwnedByYou' && err.bucket !== undefined) extras.BucketName = err.bucket
    // S3's own words on the wire; the engine's say which rule (err.detail.reason).
    if (err.code === 'InvalidBucketName') {
      if (err.bucket !== undefined) extras.BucketName = err.bucket
      return new S3Error('InvalidBucketName', 'The specified bucket is not valid.', extras)
    }
    if (err.code === 'InvalidArgument' && detail.argumentName !== undefined) {
      extras.ArgumentName = detail.argumentName
      extras.ArgumentValue = detail.argumentValue ?? ''
    }
    if (err.code === 'NoSuchVersion') {
      if (err.key !== undefined) extras.Key = err.key
      if (detail.versionId !== undefined) extras.VersionId = detail.versionId
    }
    // A delete marker answers for the key it hides (NoSuchKey) or, named by its id, refuses
    // anything but DELETE (MethodNotAllowed); either way the response says which marker.
    if (detail.deleteMarker !== undefined) {
      headers['x-amz-delete-marker'] = 'true'
      if (detail.versionId !== undefined) headers['x-amz-version-id'] = String(detail.versionId)
      if (err.code === 'MethodNotAllowed') {
        extras.Method = method
        extras.ResourceType = 'DeleteMarker'
        headers.allow = 'DELETE'
        // RFC 1123, as httpDate() in headers.ts writes it (which imports this module).
        if (detail.lastModified !== undefined) headers['last-modified'] = new Date(Number(detail.lastModified)).toUTCString()
      }
    }
    // Engine codes that have no S3 counterpart on the wire.
    if (err.code === 'NoSuchAccessKey') return new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', extras)
    if (err.code === 'NotOpen') return new S3Error('ServiceUnavailable', 'Please reduce your request rate.', extras)
    // A key id the request (or the bucket default) names that the provider lacks is the client's
    // mistake, as S3 reports an unknown KMS key; a store that cannot open its keys is not.
    if (err.code === 'InvalidMasterKey' && detail.masterKeyId !== undefined) {
      return new S3Error('KMS.NotFoundException', `Invalid keyId ${detail.masterKeyId}`)
    }
    if (err.code === 'UnsupportedFormat' || err.code === 'StoreLocked' || err.code === 'InvalidMasterKey') {
      return new S3Error('InternalError', 'We encountered an internal error. Please try again.', extras)
    }
    return new S3Error(err.code, err.message, extras, headers)
  }
  return new S3Error('InternalError', 'We encountered an internal error. Please try again.')
}

function statusOf (code: string): number {
  return STATUS.get(code) ?? 400
}

/** Whether `code` is an S3 error code the adapter knows how to answer with. */
export function isKnownErrorCode (code: string): boolean {
  return STATUS.has(code)
}
