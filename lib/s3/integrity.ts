import { createHash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { checksumOf, type ChecksumAlgorithm, type Checksums } from '../index.js'
import { S3Error } from './errors.js'
import { checksumsOf } from './headers.js'
import { header } from './request.js'

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 }

/**
 * Check a body held in memory (a configuration document) against its Content-MD5 and any
 * x-amz-checksum-* header or trailer. With `required`, at least one must be present, as S3 asks
 * of DeleteObjects: either kind will do, since current SDKs send a CRC32 and no MD5.
 */
export function verifyIntegrity (headers: IncomingHttpHeaders, body: Buffer, trailer: Checksums | undefined, required: boolean): void {
  const md5 = header(headers, 'content-md5')
  const checksums: Checksums = { ...checksumsOf(headers), ...trailer }
  if (required && md5 === undefined && Object.keys(checksums).length === 0) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5')
  }
  if (md5 !== undefined) {
    if (Buffer.from(md5, 'base64').length !== 16 || !/^[A-Za-z0-9+/]+={0,2}$/.test(md5)) {
      throw new S3Error('InvalidDigest', 'The Content-MD5 you specified is not valid.')
    }
    if (createHash('md5').update(body).digest('base64') !== md5) {
      throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.')
    }
  }
  for (const [algorithm, value] of Object.entries(checksums) as Array<[ChecksumAlgorithm, string]>) {
    if (Buffer.from(value, 'base64').length !== DIGEST_BYTES[algorithm]) {
      throw new S3Error('InvalidRequest', `Value for x-amz-checksum-${algorithm.toLowerCase()} header is invalid.`)
    }
    if (checksumOf(algorithm, body) !== value) {
      throw new S3Error('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`)
    }
  }
}
