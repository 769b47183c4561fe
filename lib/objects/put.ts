import { SpaceboxError } from '../errors.js'
import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { ObjectHead } from '../schema/records.js'
import type { Body, PutObjectOptions, PutObjectResult } from '../types.js'
import { bodyPieces } from '../internal/body.js'
import { Digests } from '../internal/checksums.js'
import { assertWriteConditions, checkWriteConditions } from './conditions.js'
import { checksumPlan, objectFields, verifyDigests } from './fields.js'
import { commitHead, readHead } from './heads.js'
import { SegmentWriter } from './writer.js'

/**
 * Stream a body in, hashing as it goes, then switch the object's record to it in one batch.
 * Nothing is visible, and nothing is left behind, unless every check passed.
 */
export async function putObject (ctx: Context, buckets: Buckets, bucketName: string, key: string, body: Body, options: PutObjectOptions): Promise<PutObjectResult> {
  const where = { bucket: bucketName, key }
  const bucket = buckets.get(bucketName)
  const fields = objectFields(options, where)
  const algorithms = checksumPlan(options.checksums, options.checksumAlgorithm, options.contentMD5, where)
  assertWriteConditions(options, where)
  if (options.ifMatch !== undefined || options.ifNoneMatch !== undefined) {
    // Fail before reading the body; the commit checks again under the object's lock.
    checkWriteConditions((await readHead(ctx, bucket.record.id, key))?.head, options, where)
  }
  const digests = new Digests(algorithms)
  const writer = new SegmentWriter(ctx, digests, ctx.maxObjectSize)
  try {
    for await (const piece of bodyPieces(body)) await writer.write(piece)
    const written = await writer.end()
    const { md5, checksums } = digests.digest()
    if (options.contentLength !== undefined && written.size !== options.contentLength) {
      throw new SpaceboxError('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length', {
        ...where, detail: { expected: options.contentLength, received: written.size }
      })
    }
    verifyDigests(md5, checksums, options.contentMD5, options.checksums, where)
    const head: ObjectHead = {
      v: 1,
      etag: md5.toString('hex'),
      size: written.size,
      modified: Date.now(),
      ...fields,
      checksums,
      ...(written.segment === undefined ? {} : { segments: [written.segment] })
    }
    await commitHead(ctx, buckets, bucket, key, head, written.inline, options)
    return { etag: `"${head.etag}"`, size: head.size, lastModified: new Date(head.modified), checksums: { ...checksums } }
  } catch (err) {
    await writer.discard().catch(() => {})
    throw err
  }
}
