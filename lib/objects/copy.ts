import { createHash, type Hash } from 'node:crypto'
import type { AbstractSnapshot } from 'abstract-level'
import { SpaceboxError } from '../errors.js'
import { chunkKey } from '../schema/keys.js'
import { chunkCount, type ObjectHead, type Segment } from '../schema/records.js'
import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { CopyObjectOptions, CopyObjectResult } from '../types.js'
import { newId } from '../internal/ids.js'
import { assertWriteConditions, checkReadConditions, copySourceConditions } from './conditions.js'
import { aclField, encryptionInfo, objectFields } from './fields.js'
import { receive } from './receive.js'
import { commitHead, commitReceived } from './commit.js'
import { readingSnapshot, storedBody } from './reader.js'
import { cipherOf, encryptionFor } from '../crypto/encryption.js'
import type { ChecksumAlgorithm } from '../internal/checksums.js'
import { checkVersionId, readVersion, reportedId } from './versions.js'
import { discardSegment } from './writer.js'
import { constants, createReadStream } from 'node:fs'
import { copyFile } from 'node:fs/promises'
import { storageClassField, storageClassOf } from './storage-class.js'
import { tagsField } from '../tags.js'

const COPY_BATCH_BYTES = 4 * 1024 * 1024

/**
 * Server-side copy. The source is read under one snapshot. Between plaintext objects its chunks
 * are copied row by row in LevelDB batches, never re-hashed: the ETag carries over (only a
 * multipart source is hashed on the way, as a copy is a single-part object whose ETag is the MD5 of
 * its bytes). Where either side is encrypted, the bytes are opened and sealed again, so a copy in
 * place re-encrypts an object under the bucket's current scheme.
 */
export async function copyObject (ctx: Context, buckets: Buckets, srcBucket: string, srcKey: string,
  dstBucket: string, dstKey: string, options: CopyObjectOptions): Promise<CopyObjectResult> {
  const src = buckets.get(srcBucket)
  const dst = buckets.get(dstBucket)
  const where = { bucket: dstBucket, key: dstKey }
  const directive = options.metadataDirective ?? 'COPY'
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new SpaceboxError('InvalidArgument', 'Unknown metadata directive', where)
  }
  const tagging = options.taggingDirective ?? 'COPY'
  if (tagging !== 'COPY' && tagging !== 'REPLACE') {
    throw new SpaceboxError('InvalidArgument', 'Unknown tagging directive', { ...where, detail: { argumentName: 'x-amz-tagging-directive', argumentValue: String(tagging) } })
  }
  // S3 ignores x-amz-tagging under COPY; an engine caller who passes tags means something, so say so.
  if (tagging === 'COPY' && options.tags !== undefined) throw new TypeError('tags go with taggingDirective REPLACE; COPY gives the copy its source\'s tags')
  const replacedTags = tagging === 'REPLACE' ? tagsField(options.tags, where) : undefined
  assertWriteConditions(options, where)
  const sourceVersionId = checkVersionId(options.sourceVersionId, { bucket: srcBucket, key: srcKey }, 'sourceVersionId')
  const replaced = directive === 'REPLACE' ? objectFields(options, where) : undefined
  const reencrypt = options.serverSideEncryption !== undefined || options.customerKey !== undefined || options.bucketKeyEnabled !== undefined
  // Never the source's: a copy is STANDARD unless it asks for a class, under either directive.
  const storageClass = storageClassField(options.storageClass, where)
  // Copying an older version onto its own key is how S3 restores it.
  const ontoItself = src === dst && srcKey === dstKey && replaced === undefined && !reencrypt && sourceVersionId === undefined
  const snapshot = readingSnapshot(ctx)
  const copied: Segment[] = []
  try {
    const stored = await readVersion(ctx, src.record.id, { bucket: srcBucket, key: srcKey }, sourceVersionId, snapshot, true)
    const source = stored.head
    // Changing only the class is legal (S3's own way to change it, rclone's settier): as RGW does,
    // the class the copy would get is compared with the source's.
    if (ontoItself && storageClassOf(source) === storageClassOf(storageClass)) {
      throw new SpaceboxError('InvalidRequest', 'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.', where)
    }
    const copySourceVersionId = reportedId(src.record.versioning, source)
    const versions = (versionId: string | undefined): { versionId?: string, copySourceVersionId?: string } => ({
      ...(versionId === undefined ? {} : { versionId }), ...(copySourceVersionId === undefined ? {} : { copySourceVersionId })
    })
    checkReadConditions(source, copySourceConditions(options), { bucket: srcBucket, key: srcKey }, true)
    if (source.size > ctx.maxObjectSize) {
      throw new SpaceboxError('InvalidRequest', 'The specified copy source is larger than the maximum allowable size for a copy source', where)
    }
    const fields = {
      ...(replaced ?? { contentType: source.contentType, headers: source.headers, metadata: source.metadata, ...aclField(options, where), ...storageClass }),
      ...(replacedTags ?? (source.tags === undefined ? {} : { tags: source.tags }))
    }
    const multipart = source.etag.includes('-')
    const { cipher, enc } = await encryptionFor(ctx, buckets.keys, dst, options, where)
    if (source.enc !== undefined || cipher !== undefined) {
      // Encrypted on either side: the bytes pass through, opened and sealed again.
      const sourceCipher = source.enc === undefined ? undefined : await cipherOf(ctx, buckets.keys, src.record.id, source.enc, options.sourceCustomerKey, { bucket: srcBucket, key: srcKey })
      const body = storedBody(ctx, stored, undefined, snapshot, sourceCipher)
      const received = await receive(ctx, body, {}, multipart ? [] : Object.keys(source.checksums) as ChecksumAlgorithm[], where, true, cipher)
      const { head, versionId } = await commitReceived(ctx, buckets, dst, dstKey, received, fields, enc, options)
      return { etag: `"${head.etag}"`, lastModified: new Date(head.modified), checksums: { ...head.checksums }, ...encryptionInfo(enc, dst.record.region), ...versions(versionId) }
    }
    const md5 = multipart ? createHash('md5') : undefined
    for (const segment of source.segments ?? []) copied.push(await copySegment(ctx, segment, snapshot, md5))
    const head: ObjectHead = {
      v: 1,
      etag: md5 === undefined ? source.etag : md5.digest('hex'),
      size: source.size,
      modified: ctx.now(),
      ...fields,
      // A multipart object's checksums are composites of its parts; they do not describe a copy.
      checksums: multipart ? {} : source.checksums,
      ...(source.segments === undefined ? {} : { segments: copied })
    }
    const versionId = await commitHead(ctx, buckets, dst, dstKey, head, stored.inline, options)
    return { etag: `"${head.etag}"`, lastModified: new Date(head.modified), checksums: { ...head.checksums }, ...versions(versionId) }
  } catch (err) {
    for (const segment of copied) await discardSegment(ctx, segment.id).catch(() => {})
    throw err
  } finally {
    await snapshot.close()
  }
}

async function copySegment (ctx: Context, segment: Segment, snapshot: AbstractSnapshot, md5: Hash | undefined): Promise<Segment> {
  const id = newId()
  const { chunks, pending } = ctx.sub
  await pending.put(id, String(Date.now()))
  if (segment.file !== undefined && ctx.files !== undefined) {
    // A plaintext segment file is the bytes themselves: copied whole (a clone where the filesystem can).
    try {
      await copyFile(ctx.files.path(segment.id), ctx.files.path(id), constants.COPYFILE_FICLONE)
      if (md5 !== undefined) for await (const piece of createReadStream(ctx.files.path(id))) md5.update(piece as Buffer)
    } catch (err) {
      await discardSegment(ctx, id).catch(() => {})
      throw err
    }
    return { ...segment, id }
  }
  try {
    let batch = chunks.batch()
    let bytes = 0
    let index = 0
    const range = { gte: chunkKey(segment.id, 0), lt: chunkKey(segment.id, chunkCount(segment)), snapshot }
    for await (const value of chunks.values(range)) {
      md5?.update(value)
      batch.put(chunkKey(id, index++), value)
      bytes += value.length
      if (bytes >= COPY_BATCH_BYTES) {
        await batch.write()
        batch = chunks.batch()
        bytes = 0
      }
    }
    await batch.write()
  } catch (err) {
    await discardSegment(ctx, id).catch(() => {})
    throw err
  }
  return { ...segment, id }
}
