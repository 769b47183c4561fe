import { SpaceboxError } from '../errors.js'
import type { Context } from '../context.js'
import type { Body, PutObjectOptions } from '../types.js'
import { bodyPieces } from '../internal/body.js'
import { Digests, type ChecksumAlgorithm, type Checksums } from '../internal/checksums.js'
import { checksumPlan, verifyDigests } from './fields.js'
import { SegmentWriter, type Written } from './writer.js'
import type { ObjectCipher } from '../crypto/object-cipher.js'

export type BodyChecks = Pick<PutObjectOptions, 'contentMD5' | 'checksums' | 'trailingChecksums' | 'contentLength'>

export interface Received {
  written: Written
  md5: Buffer
  checksums: Checksums
  /** Remove the stored bytes, if what follows fails. */
  discard: () => Promise<void>
}

/**
 * Stream a body into storage, hashing each byte once on the way, and check it against what the
 * caller declared (length, Content-MD5, checksums). On any failure nothing is left stored.
 */
export async function receive (ctx: Context, body: Body, checks: BodyChecks, algorithms: ChecksumAlgorithm[],
  where: { bucket: string, key: string }, inline = true, cipher?: ObjectCipher): Promise<Received> {
  // A declared length over the limit is refused before a byte is read, as S3 does.
  if (checks.contentLength !== undefined && checks.contentLength > ctx.maxObjectSize) {
    throw new SpaceboxError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size', {
      ...where, detail: { maxSizeAllowed: ctx.maxObjectSize, proposedSize: checks.contentLength }
    })
  }
  const digests = new Digests(algorithms)
  const writer = new SegmentWriter(ctx, digests, ctx.maxObjectSize, inline, cipher)
  const discard = async (): Promise<void> => { await writer.discard().catch(() => {}) }
  try {
    if (typeof body === 'string' || body instanceof Uint8Array) {
      await writer.write(typeof body === 'string' ? Buffer.from(body) : body) // no async iteration for bytes in hand
    } else {
      for await (const piece of bodyPieces(body)) await writer.write(piece)
    }
    const written = await writer.end()
    const { md5, checksums } = digests.digest()
    if (checks.contentLength !== undefined && written.size !== checks.contentLength) {
      throw new SpaceboxError('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length', {
        ...where, detail: { expected: checks.contentLength, received: written.size }
      })
    }
    verifyDigests(md5, checksums, checks.contentMD5, checks.checksums, where)
    if (checks.trailingChecksums !== undefined) {
      const trailing = checks.trailingChecksums()
      checksumPlan(trailing, undefined, undefined, where) // the same format checks as checksums given up front
      verifyDigests(md5, checksums, undefined, trailing, where)
    }
    return { written, md5, checksums, discard }
  } catch (err) {
    await discard()
    throw err
  }
}
