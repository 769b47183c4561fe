import { extname } from 'node:path/posix'
import mime from 'mime-types'
import { SpaceboxError } from '../errors.js'
import { checkAcl, type StoredAcl } from '../access/acl.js'
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, type Checksums } from '../internal/checksums.js'
import type { ObjectEncryption, ObjectHead, StoredHeaders } from '../schema/records.js'
import type { EncryptionInfo, ObjectHeaders, ObjectInfo } from '../types.js'
import { assertHeaderValue, normalizeMetadata } from '../validate.js'
import { storageClassField, storageClassOf } from './storage-class.js'
import { kmsKeyArn } from '../crypto/kms-arn.js'

type Where = { bucket: string, key: string }

/** The headers, metadata, ACL and storage class a write stores, validated, with the content type resolved. */
export function objectFields (options: ObjectHeaders, where: Where): Pick<ObjectHead, 'contentType' | 'headers' | 'metadata' | 'acl' | 'storageClass'> {
  const headers: StoredHeaders = {}
  for (const name of ['contentEncoding', 'contentDisposition', 'contentLanguage', 'cacheControl'] as const) {
    const value = options[name]
    if (value !== undefined) {
      assertHeaderValue(name, value, where.bucket, where.key)
      headers[name] = value
    }
  }
  if (options.expires !== undefined) {
    const expires = options.expires instanceof Date ? options.expires.toUTCString() : options.expires
    assertHeaderValue('expires', expires, where.bucket, where.key)
    headers.expires = expires
  }
  let contentType = options.contentType
  if (contentType === undefined) contentType = typeByExtension(where.key)
  else assertHeaderValue('contentType', contentType, where.bucket, where.key)
  return {
    contentType, headers, metadata: normalizeMetadata(options.metadata, where.bucket, where.key), ...aclField(options, where), ...storageClassField(options.storageClass, where)
  }
}

/** The ACL a write gives its object, as a record field: none for private. */
export function aclField (options: ObjectHeaders, where: Where): { acl?: StoredAcl } {
  const acl = checkAcl(options.acl, where)
  return acl === undefined ? {} : { acl }
}

/** The type mime-types gives the key's extension; a key ending in `/` names a folder, not a file. */
function typeByExtension (key: string): string {
  const extension = key.endsWith('/') ? '' : extname(key)
  return (extension !== '' && mime.lookup(extension)) || 'application/octet-stream'
}

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 }
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

function decodesTo (value: string, bytes: number): boolean {
  return BASE64.test(value) && Buffer.from(value, 'base64').length === bytes && value.length % 4 === 0
}

/** The checksum algorithms a write must compute; refuses unknown algorithms and malformed values. */
export function checksumPlan (given: Checksums | undefined, extra: ChecksumAlgorithm | undefined, contentMD5: string | undefined, where: Where): ChecksumAlgorithm[] {
  if (contentMD5 !== undefined && !(typeof contentMD5 === 'string' && decodesTo(contentMD5, 16))) {
    throw new SpaceboxError('InvalidDigest', 'The Content-MD5 you specified is not valid.', where)
  }
  const algorithms = new Set<ChecksumAlgorithm>()
  for (const [algorithm, value] of Object.entries(given ?? {})) {
    if (!isAlgorithm(algorithm)) throw new SpaceboxError('InvalidRequest', `Unknown checksum algorithm ${algorithm}`, where)
    if (typeof value !== 'string' || !decodesTo(value, DIGEST_BYTES[algorithm])) {
      throw new SpaceboxError('InvalidRequest', `Value for the ${algorithm} checksum is invalid.`, where)
    }
    algorithms.add(algorithm)
  }
  if (extra !== undefined) {
    if (!isAlgorithm(extra)) throw new SpaceboxError('InvalidRequest', `Unknown checksum algorithm ${String(extra)}`, where)
    algorithms.add(extra)
  }
  return [...algorithms]
}

function isAlgorithm (name: unknown): name is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly unknown[]).includes(name)
}

/** Throws BadDigest unless the computed digests match what the caller said the body has. */
export function verifyDigests (md5: Buffer, computed: Checksums, contentMD5: string | undefined, given: Checksums | undefined, where: Where): void {
  if (contentMD5 !== undefined && md5.toString('base64') !== contentMD5) {
    throw new SpaceboxError('BadDigest', 'The Content-MD5 you specified did not match what we received.', where)
  }
  for (const [algorithm, value] of Object.entries(given ?? {}) as Array<[ChecksumAlgorithm, string]>) {
    if (computed[algorithm] !== value) {
      throw new SpaceboxError('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`, where)
    }
  }
}

export function toInfo (bucket: string, key: string, head: ObjectHead, versionId: string | undefined, region: string): ObjectInfo {
  const info: ObjectInfo = {
    ...encryptionInfo(head.enc, region),
    bucket,
    key,
    size: head.size,
    etag: `"${head.etag}"`,
    lastModified: new Date(head.modified),
    contentType: head.contentType,
    ...head.headers,
    metadata: { ...head.metadata },
    checksums: { ...head.checksums },
    storageClass: storageClassOf(head)
  }
  // Set, not spread: a conditional spread here cost a small GET a fifth of its speed.
  if (versionId !== undefined) info.versionId = versionId
  if (head.tags !== undefined) info.tagCount = head.tags.length
  return info
}

/** How an object is encrypted, in S3's terms; `region` is its bucket's, which the key's ARN names. */
export function encryptionInfo (enc: ObjectEncryption | undefined, region: string): EncryptionInfo {
  if (enc === undefined) return {}
  if (enc.alg === 'SSE-C') return { serverSideEncryption: 'AES256', customerKeyMD5: enc.customerKeyMD5 as string }
  const info: EncryptionInfo = { serverSideEncryption: enc.alg, bucketKeyEnabled: enc.bucketKeyId !== undefined }
  if (enc.alg === 'aws:kms' && enc.masterKeyId !== undefined) {
    info.masterKeyId = enc.masterKeyId
    info.masterKeyArn = kmsKeyArn(region, enc.masterKeyId)
  }
  return info
}
