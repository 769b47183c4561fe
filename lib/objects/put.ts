import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { Body, PutObjectOptions, PutObjectResult } from '../types.js'
import { assertWriteConditions, checkWriteConditions } from './conditions.js'
import { checksumPlan, encryptionInfo, objectFields } from './fields.js'
import { encryptionFor } from '../crypto/encryption.js'
import { readHead } from './heads.js'
import { receive } from './receive.js'
import { commitReceived } from './commit.js'
import { tagsField } from '../tags.js'
import { withExpiration } from '../lifecycle/config.js'

/**
 * Stream a body in, hashing as it goes, then switch the object's record to it in one batch.
 * Nothing is visible, and nothing is left behind, unless every check passed.
 */
export async function putObject (ctx: Context, buckets: Buckets, bucketName: string, key: string, body: Body, options: PutObjectOptions): Promise<PutObjectResult> {
  const where = { bucket: bucketName, key }
  const bucket = buckets.get(bucketName)
  const fields = { ...objectFields(options, where), ...tagsField(options.tags, where) }
  const algorithms = checksumPlan(options.checksums, options.checksumAlgorithm, options.contentMD5, where)
  assertWriteConditions(options, where)
  if (options.ifMatch !== undefined || options.ifNoneMatch !== undefined) {
    // Fail before reading the body; the commit checks again under the object's lock.
    const current = (await readHead(ctx, bucket.record.id, key))?.head
    checkWriteConditions(current?.marker === true ? undefined : current, options, where)
  }
  const { cipher, enc } = await encryptionFor(ctx, buckets.keys, bucket, options, where)
  const received = await receive(ctx, body, options, algorithms, where, true, cipher)
  const { head, versionId } = await commitReceived(ctx, buckets, bucket, key, received, fields, enc, options)
  const result: PutObjectResult = {
    etag: `"${head.etag}"`, size: head.size, lastModified: new Date(head.modified), checksums: { ...head.checksums }, ...encryptionInfo(enc, bucket.record.region), ...(versionId === undefined ? {} : { versionId })
  }
  return withExpiration(result, bucket.record, key, { head, current: true }, undefined)
}
