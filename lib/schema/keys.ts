/**
 * The key schema: the only module that knows how spacebox lays its data out in LevelDB.
 *
 * Every record lives in a sublevel (abstract-level prefixes `!name!`) of the database handed to
 * Spacebox.open, so a store can share a database with other data:
 *
 * | sublevel  | key                                          | value                              |
 * |-----------|----------------------------------------------|------------------------------------|
 * | `meta`    | `format`                                     | FormatRecord (JSON)                |
 * |           | `identity`                                   | IdentityRecord (JSON)              |
 * |           | `keyring`                                    | KeyringRecord (JSON)               |
 * |           | `space`                                      | SpaceRecord (JSON), from a clean   |
 * |           |                                              | close until the next open          |
 * | `buckets` | bucket name                                  | BucketRecord (JSON)                |
 * | `objects` | bucketId (24 bytes) + object key (UTF-8)     | ObjectHead (binary, records.ts) of |
 * |           |                                              | the key's current version          |
 * | `versions`| bucketId (24) + object key + 0x00 + sort key | ObjectHead of a noncurrent version |
 * |           | (24 hex, newest first)                       |                                    |
 * | `nullv`   | bucketId (24) + object key                   | sort key of the key's `null`       |
 * |           |                                              | version, while it is noncurrent    |
 * | `chunks`  | segmentId (24) + chunk index (8 hex digits)  | the chunk's bytes                  |
 * | `pending` | segmentId (24)                               | creation time; a segment being     |
 * |           |                                              | written, swept at open after crash |
 * | `uploads` | bucketId (24) + object key + 0x00 + uploadId | UploadRecord (JSON)                |
 * | `parts`   | uploadId (24) + part number (5 digits)       | PartRecord (JSON)                  |
 * | `akeys`   | access key id                                | AccessKeyRecord (JSON)             |
 * | `usage`   | access key id                                | UsageRecord (JSON)                 |
 * | `bkeys`   | bucketId (24) + bucket key id (24)           | BucketKeyRecord (JSON)             |
 * | `public`  | bucketId (24) + object key + 0x00 + version  | the version's canned ACL, for each |
 * |           | id (`null` or 32 characters)                 | version whose ACL is not private   |
 * | `expiry`  | bucketId (24) + kind (`c` current version,   | nothing: the lifecycle index, one  |
 * |           | `m` current delete marker, `n` noncurrent) + | entry per version, in buckets with |
 * |           | day (u32 BE: written, or made noncurrent) +  | lifecycle rules (versions.ts)      |
 * |           | object key (+ 0x00 + version id for `n`)     |                                    |
 * | `dead`    | segmentId (24)                               | nothing: a segment file to unlink  |
 * |           |                                              | (storage/files.ts)                 |
 * | `done`    | `u` + uploadId                               | CompletionRecord (JSON): what a    |
 * |           |                                              | completed upload answered, a day   |
 * |           | `t` + completion time (12 hex) + uploadId    | nothing: those records by age      |
 *
 * Object keys are arbitrary UTF-8, so no in-band separator could be trusted after them: ids are
 * fixed width instead, and `objects` uses binary keys so that byte order (S3's listing order) is
 * exactly LevelDB's order. Chunks are keyed by segment, not by object name: a segment is written
 * under a fresh time-ordered id, so its chunks sort in write order (LevelDB ingests sorted keys far
 * faster), and replacing or deleting an object deletes a known, contiguous run of keys.
 *
 * In a store on disk, a segment of more than one chunk is a file (storage/files.ts) rather than
 * chunks: its record says so (`Segment.file`), and `pending` and `dead` guard the file's creation
 * and removal as they guard chunks.
 *
 * Versions: `objects` holds every key's current version (a delete marker included), so reading the
 * latest is one get and listings never see noncurrent data; a key has a record there exactly while
 * it has any version. Noncurrent versions sort after the current one in `versions`, newest first.
 *
 * `expiry` indexes every version of a bucket with lifecycle rules by the day its lifecycle age
 * counts from, so that a pass reads the entries old enough to be due (within a rule's prefix), not
 * the bucket; it changes in the batch that changes the version, like `public`.
 *
 * `public` indexes what an ACL makes public, so that asking costs what the answer holds, however
 * many private objects a bucket has; it changes in the batch that changes the version.
 */
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'

/**
 * 2: versions and delete markers; 3: segment files, which an older spacebox could not read (stores
 * of formats 1 and 2 are read as they are).
 */
export const FORMAT_VERSION = 3
export const ID_LENGTH = 24

export type AnyLevel = AbstractLevel<any, any, any>
export type Sublevel<K, V> = AbstractSublevel<AnyLevel, any, K, V>

export interface Sublevels {
  meta: Sublevel<string, unknown>
  buckets: Sublevel<string, unknown>
  objects: Sublevel<Buffer, Buffer>
  versions: Sublevel<Buffer, Buffer>
  nullv: Sublevel<Buffer, string>
  chunks: Sublevel<string, Buffer>
  pending: Sublevel<string, string>
  uploads: Sublevel<Buffer, unknown>
  parts: Sublevel<string, unknown>
  akeys: Sublevel<string, unknown>
  usage: Sublevel<string, unknown>
  bkeys: Sublevel<string, unknown>
  public: Sublevel<Buffer, string>
  expiry: Sublevel<Buffer, string>
  done: Sublevel<string, unknown>
  dead: Sublevel<string, string>
}

export function openSublevels (db: AnyLevel): Sublevels {
  return {
    meta: db.sublevel<string, unknown>('meta', { valueEncoding: 'json' }),
    buckets: db.sublevel<string, unknown>('buckets', { valueEncoding: 'json' }),
    objects: db.sublevel<Buffer, Buffer>('objects', { keyEncoding: 'buffer', valueEncoding: 'buffer' }),
    versions: db.sublevel<Buffer, Buffer>('versions', { keyEncoding: 'buffer', valueEncoding: 'buffer' }),
    nullv: db.sublevel<Buffer, string>('nullv', { keyEncoding: 'buffer', valueEncoding: 'utf8' }),
    chunks: db.sublevel<string, Buffer>('chunks', { valueEncoding: 'buffer' }),
    pending: db.sublevel<string, string>('pending', {}),
    uploads: db.sublevel<Buffer, unknown>('uploads', { keyEncoding: 'buffer', valueEncoding: 'json' }),
    parts: db.sublevel<string, unknown>('parts', { valueEncoding: 'json' }),
    akeys: db.sublevel<string, unknown>('akeys', { valueEncoding: 'json' }),
    usage: db.sublevel<string, unknown>('usage', { valueEncoding: 'json' }),
    bkeys: db.sublevel<string, unknown>('bkeys', { valueEncoding: 'json' }),
    public: db.sublevel<Buffer, string>('public', { keyEncoding: 'buffer', valueEncoding: 'utf8' }),
    expiry: db.sublevel<Buffer, string>('expiry', { keyEncoding: 'buffer', valueEncoding: 'utf8' }),
    done: db.sublevel<string, unknown>('done', { valueEncoding: 'json' }),
    dead: db.sublevel<string, string>('dead', {})
  }
}

export const FORMAT_KEY = 'format'
export const IDENTITY_KEY = 'identity'
export const KEYRING_KEY = 'keyring'
/** `meta` key of the live bytes saved at a clean close (storage/space.ts). */
export const SPACE_KEY = 'space'

/** `objects` key of one object. */
export function objectKey (bucketId: string, key: string): Buffer {
  const out = Buffer.allocUnsafe(ID_LENGTH + Buffer.byteLength(key))
  out.write(bucketId, 0, 'latin1')
  out.write(key, ID_LENGTH, 'utf8')
  return out
}

/** The object key held in an `objects` key. */
export function objectKeyName (stored: Buffer): string {
  return stored.toString('utf8', ID_LENGTH)
}

/** Bounds of every `objects` key of a bucket whose object key starts with `prefix`. */
export function objectPrefixRange (bucketId: string, prefix = ''): { gte: Buffer, lt: Buffer } {
  const gte = objectKey(bucketId, prefix)
  return { gte, lt: upperBound(gte) }
}

/** The smallest byte string greater than every string that starts with `prefix`. */
export function upperBound (prefix: Buffer): Buffer {
  let end = prefix.length
  while (end > 0 && prefix[end - 1] === 0xff) end--
  // A prefix of only 0xff bytes cannot occur here: every key starts with an ASCII id.
  const out = Buffer.from(prefix.subarray(0, end))
  out[end - 1] = (out[end - 1] as number) + 1
  return out
}

const VERSION_SEPARATOR = Buffer.from([0])

/** `versions` key of a noncurrent version: object keys hold no U+0000, so versions sort by key, then newest first. */
export function versionKey (bucketId: string, key: string, sortKey: string): Buffer {
  return Buffer.concat([objectKey(bucketId, key), VERSION_SEPARATOR, Buffer.from(sortKey, 'latin1')])
}

/** Bounds of every noncurrent version of one key. */
export function versionsOfKey (bucketId: string, key: string): { gt: Buffer, lt: Buffer } {
  const stored = objectKey(bucketId, key)
  return { gt: Buffer.concat([stored, VERSION_SEPARATOR]), lt: Buffer.concat([stored, Buffer.from([1])]) }
}

/** The object key held in a `versions` key. */
export function versionKeyName (stored: Buffer): string {
  return stored.toString('utf8', ID_LENGTH, stored.length - SORT_KEY_LENGTH - 1)
}

export const SORT_KEY_LENGTH = 24

/** `public` key of one version of an object. */
export function publicKey (bucketId: string, key: string, versionId: string): Buffer {
  return Buffer.concat([objectKey(bucketId, key), VERSION_SEPARATOR, Buffer.from(versionId, 'latin1')])
}

/** The object key and version id held in a `public` key. */
export function publicKeyParts (stored: Buffer): { key: string, versionId: string } {
  const at = stored.lastIndexOf(0)
  return { key: stored.toString('utf8', ID_LENGTH, at), versionId: stored.toString('latin1', at + 1) }
}

/** `chunks` key of chunk `index` of a segment. */
export function chunkKey (segmentId: string, index: number): string {
  return segmentId + index.toString(16).padStart(8, '0')
}

/** Bounds of every chunk of a segment. */
export function segmentRange (segmentId: string): { gte: string, lt: string } {
  return { gte: segmentId, lt: segmentId + 'g' } // 'g' sorts after every hex digit
}

const UPLOAD_SEPARATOR = Buffer.from([0])

/** `uploads` key of a multipart upload: object keys hold no U+0000, so uploads sort by key, then id. */
export function uploadKey (bucketId: string, key: string, uploadId: string): Buffer {
  return Buffer.concat([objectKey(bucketId, key), UPLOAD_SEPARATOR, Buffer.from(uploadId, 'latin1')])
}

/** The object key and upload id held in an `uploads` key. */
export function uploadKeyParts (stored: Buffer): { key: string, uploadId: string } {
  const end = stored.length - ID_LENGTH - 1
  return { key: stored.toString('utf8', ID_LENGTH, end), uploadId: stored.toString('latin1', end + 1) }
}

/** The first `uploads` key after every upload of object `key`. */
export function afterUploadsOf (bucketId: string, key: string): Buffer {
  return Buffer.concat([objectKey(bucketId, key), Buffer.from([1])])
}

/** Bounds of every `uploads` key of a bucket whose object key starts with `prefix`. */
export function uploadPrefixRange (bucketId: string, prefix = ''): { gte: Buffer, lt: Buffer } {
  return objectPrefixRange(bucketId, prefix)
}

/** `parts` key of part `partNumber` (1..10000) of an upload. */
export function partKey (uploadId: string, partNumber: number): string {
  return uploadId + String(partNumber).padStart(5, '0')
}

/** Bounds of every part of an upload after part `after`. */
export function completionKey (uploadId: string): string {
  return `u${uploadId}`
}

/** A completion's entry in the age index. */
export function completionAgeKey (at: number, uploadId: string): string {
  return `t${at.toString(16).padStart(12, '0')}${uploadId}`
}

/** Age index entries of completions made before `before`. */
export function completionsBefore (before: number): { gte: string, lt: string } {
  return { gte: 't', lt: `t${Math.max(0, before).toString(16).padStart(12, '0')}` }
}

/** The uploadId of an age index entry. */
export function completionAgeId (stored: string): string {
  return stored.slice(13)
}

export function partRange (uploadId: string, after = 0): { gt: string, lt: string } {
  return { gt: partKey(uploadId, after), lt: uploadId + ':' } // ':' sorts after every digit
}

/** A day in ms: `expiry` entries are dated in whole days since the epoch, UTC. */
export const DAY_MS = 86_400_000

/** What an `expiry` entry indexes: a current version, a current delete marker, or a noncurrent version. */
export type ExpiryKind = 'c' | 'm' | 'n'

const EXPIRY_DAY_AT = ID_LENGTH + 1
const EXPIRY_KEY_AT = EXPIRY_DAY_AT + 4

/** `expiry` key of a version of `key` dated `day` (days since the epoch); `versionId` for kind `n` only. */
export function expiryKey (bucketId: string, kind: ExpiryKind, day: number, key: string, versionId?: string): Buffer {
  const tail = versionId === undefined ? 0 : 1 + versionId.length
  const out = Buffer.allocUnsafe(EXPIRY_KEY_AT + Buffer.byteLength(key) + tail)
  out.write(bucketId, 0, 'latin1')
  out.write(kind, ID_LENGTH, 'latin1')
  // Days before the epoch or past 2^32 (a clock set far out) share the ends of the range.
  out.writeUInt32BE(Math.min(Math.max(day, 0), 0xffffffff), EXPIRY_DAY_AT)
  const end = EXPIRY_KEY_AT + out.write(key, EXPIRY_KEY_AT, 'utf8')
  if (versionId !== undefined) {
    out[end] = 0
    out.write(versionId, end + 1, 'latin1')
  }
  return out
}

/** The first `expiry` key of a bucket's entries of `kind` dated `day` whose object key is at least `prefix`. */
export function expiryDayStart (bucketId: string, kind: ExpiryKind, day: number, prefix = ''): Buffer {
  return expiryKey(bucketId, kind, day, prefix)
}

/** Bounds of every `expiry` entry of a bucket. */
export function expiryBucketRange (bucketId: string): { gte: Buffer, lt: Buffer } {
  const gte = Buffer.from(bucketId, 'latin1')
  return { gte, lt: upperBound(gte) }
}

/** The first `expiry` key after every entry of a bucket's of `kind`. */
export function expiryKindEnd (bucketId: string, kind: ExpiryKind): Buffer {
  return upperBound(Buffer.from(bucketId + kind, 'latin1'))
}

/** The day, object key (as bytes, for prefix tests) and version id held in an `expiry` key. */
export function expiryKeyParts (stored: Buffer, kind: ExpiryKind): { day: number, keyBytes: Buffer, versionId: string | undefined } {
  const day = stored.readUInt32BE(EXPIRY_DAY_AT)
  if (kind !== 'n') return { day, keyBytes: stored.subarray(EXPIRY_KEY_AT), versionId: undefined }
  const at = stored.lastIndexOf(0)
  return { day, keyBytes: stored.subarray(EXPIRY_KEY_AT, at), versionId: stored.toString('latin1', at + 1) }
}
