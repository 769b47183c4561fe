/**
 * S3's rules for names and metadata. Public methods call these before any work; inner modules
 * trust their input.
 */
import { SpaceboxError } from './errors.js'

export const MAX_KEY_BYTES = 1024
export const MAX_METADATA_BYTES = 2048
export const MAX_PART_NUMBER = 10_000

const BUCKET_CHARS = /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-']
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']

/**
 * Which of S3's naming rules for general purpose buckets `name` breaks, in words; undefined when it
 * breaks none. With `creating`, also the rule spacebox came to late: each dot-separated label
 * starts and ends with a letter or digit (no `-.` or `.-`); a bucket made before keeps working.
 */
export function bucketNameProblem (name: unknown, creating = false): string | undefined {
  if (typeof name !== 'string') return 'a bucket name is a string'
  if (name.length < 3 || name.length > 63) return `a bucket name is 3 to 63 characters long (this one has ${name.length})`
  if (!/^[a-z0-9.-]*$/.test(name)) return 'a bucket name has only lowercase letters, digits, dots and hyphens'
  if (!BUCKET_CHARS.test(name)) return 'a bucket name begins and ends with a letter or digit'
  if (name.includes('..')) return 'a bucket name has no two dots in a row'
  if (creating && (name.includes('-.') || name.includes('.-'))) return 'each dot-separated part of a bucket name begins and ends with a letter or digit'
  if (IPV4.test(name)) return 'a bucket name is not an IP address'
  const prefix = RESERVED_PREFIXES.find(p => name.startsWith(p))
  if (prefix !== undefined) return `a bucket name does not begin with ${prefix}, which S3 reserves`
  const suffix = RESERVED_SUFFIXES.find(s => name.endsWith(s))
  if (suffix !== undefined) return `a bucket name does not end with ${suffix}, which S3 reserves`
  return undefined
}

/** Throws InvalidBucketName, saying which rule, unless `name` follows S3's naming rules (bucketNameProblem). */
export function assertBucketName (name: unknown, creating = false): asserts name is string {
  const problem = bucketNameProblem(name, creating)
  if (problem !== undefined) {
    throw new SpaceboxError('InvalidBucketName', `The specified bucket is not valid: ${problem}`, {
      bucket: typeof name === 'string' ? name : undefined, detail: { reason: problem }
    })
  }
}

const LONE_SURROGATE = /\p{Cs}/u

/**
 * Throws unless `key` is a well-formed string of 1 to 1024 UTF-8 bytes. U+0000 is refused: no S3
 * client can send it, and the upload index uses it as a separator.
 */
export function assertObjectKey (key: unknown, bucket: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || LONE_SURROGATE.test(key) || key.includes('\0')) {
    throw new SpaceboxError('InvalidArgument', 'Object keys must be non-empty, well-formed UTF-8 without U+0000', {
      bucket, key: typeof key === 'string' ? key : undefined
    })
  }
  if (key.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new SpaceboxError('KeyTooLongError', 'Your key is too long', { bucket, key })
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/
// Characters that cannot travel in an HTTP header value.
const HEADER_UNSAFE = /[\0-\x08\x0a-\x1f\x7f]/

/** Throws InvalidArgument unless `value` could be sent as an HTTP header value. */
export function assertHeaderValue (name: string, value: unknown, bucket: string, key: string): asserts value is string {
  if (typeof value !== 'string' || HEADER_UNSAFE.test(value)) {
    throw new SpaceboxError('InvalidArgument', `${name} must be a string without control characters`, { bucket, key })
  }
}

/**
 * User metadata with lower-cased names, as S3 returns it. Names must be HTTP tokens; the UTF-8
 * bytes of all names and values together may not exceed 2 KB (MetadataTooLarge).
 */
export function normalizeMetadata (metadata: Record<string, string> | undefined, bucket: string, key: string): Record<string, string> {
  if (metadata === undefined) return {}
  if (typeof metadata !== 'object' || metadata === null) throw new TypeError('metadata must be an object of strings')
  // A Map, then fromEntries: a name such as `__proto__` is kept as data, never assigned as a prototype.
  const out = new Map<string, string>()
  let bytes = 0
  for (const [rawName, value] of Object.entries(metadata)) {
    const name = rawName.toLowerCase()
    if (!TOKEN.test(name)) {
      throw new SpaceboxError('InvalidArgument', 'Metadata names must be HTTP tokens', { bucket, key })
    }
    assertHeaderValue(`metadata ${name}`, value, bucket, key)
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value)
    out.set(name, value)
  }
  if (bytes > MAX_METADATA_BYTES) {
    throw new SpaceboxError('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size', {
      bucket, key, detail: { size: bytes, maxSizeAllowed: MAX_METADATA_BYTES }
    })
  }
  return Object.fromEntries(out)
}

/** Options as given: undefined or null mean none; anything but an object is a programming mistake. */
export function optionsOf<T extends object> (options: T | null | undefined): T {
  if (options === undefined || options === null) return {} as T
  if (typeof options !== 'object') throw new TypeError('options must be an object')
  return options
}

/** A part number, of an upload or of a read: 1..10000. InvalidArgument otherwise. */
export function assertPartNumber (partNumber: unknown, where: { bucket: string, key: string }): asserts partNumber is number {
  if (!Number.isSafeInteger(partNumber) || (partNumber as number) < 1 || (partNumber as number) > MAX_PART_NUMBER) {
    throw new SpaceboxError('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, where)
  }
}
