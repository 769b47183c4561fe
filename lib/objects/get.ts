import type { AbstractSnapshot } from 'abstract-level'
import type { Context } from '../context.js'
import { SpaceboxError } from '../errors.js'
import { assertPartNumber } from '../validate.js'
import type { Buckets } from '../buckets.js'
import type { GetObjectOptions, GetObjectResult, HeadObjectOptions, ObjectInfo } from '../types.js'
import { checkReadConditions } from './conditions.js'
import { toInfo } from './fields.js'
import { partRange, partsCount, resolveRange } from './range.js'
import { bytesBody, damaged, inlineBytes, oneChunk, openBody, readChunk, readingSnapshot } from './reader.js'
import { cipherOf } from '../crypto/encryption.js'
import { checkVersionId, readVersion, reportedId } from './versions.js'
import type { StoredObject } from './heads.js'
import { readChecked } from '../internal/view-options.js'
import { withExpiration } from '../lifecycle/config.js'

/** SSE-C objects answer HEAD only to the holder of their key, as S3. Conditions apply to the version addressed. */
export async function headObject (ctx: Context, buckets: Buckets, bucket: string, key: string, options: HeadObjectOptions): Promise<ObjectInfo> {
  const where = { bucket, key }
  const state = buckets.get(bucket)
  const bucketId = state.record.id
  const versionId = checkVersionId(options.versionId, where)
  const stored = await readChecked(options, async () => await readVersion(ctx, bucketId, where, versionId))
  const { head } = stored
  if (head.enc?.alg === 'SSE-C') await cipherOf(ctx, buckets.keys, bucketId, head.enc, options.customerKey, where)
  checkReadConditions(head, options, where)
  return withExpiration(toInfo(bucket, key, head, reportedId(state.record.versioning, head), state.record.region), state.record, key, stored, versionId)
}

/**
 * Bytes that sit in one place (inline, or one chunk, as every object up to the chunk size) are
 * read with one more get, no snapshot: if the chunk is gone, the object was replaced meanwhile and
 * is read again. Bytes across chunks stream from a snapshot taken before the record is read
 * again, so the record and every chunk come from one instant, whatever commits meanwhile.
 */
export async function getObject (ctx: Context, buckets: Buckets, bucket: string, key: string, options: GetObjectOptions): Promise<GetObjectResult> {
  const state = buckets.get(bucket)
  const bucketId = state.record.id
  const where = { bucket, key }
  const versionId = checkVersionId(options.versionId, where)
  // Every read of the record, first or again after a replace, is checked: the new version's ACL may differ.
  const read = async (snapshot?: AbstractSnapshot): Promise<StoredObject> => await readChecked(options, async () => await readVersion(ctx, bucketId, where, versionId, snapshot))
  const { partNumber } = options
  if (partNumber !== undefined) {
    assertPartNumber(partNumber, where)
    if (options.range !== undefined) throw new SpaceboxError('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter', where)
  }
  for (let stored = await read(); ;) {
    checkReadConditions(stored.head, options, where)
    const range = partNumber === undefined ? resolveRange(options.range, stored.head.size, where) : partRange(stored.head, partNumber, where)
    const info = withExpiration(toInfo(bucket, key, stored.head, reportedId(state.record.versioning, stored.head), state.record.region), state.record, key, stored, versionId)
    if (partNumber !== undefined) {
      const count = partsCount(stored.head)
      if (count !== undefined) info.partsCount = count
    }
    const result = { info, ...(range === undefined ? {} : { range }) }
    const start = range?.start ?? 0
    const end = range?.end ?? stored.head.size - 1
    // An empty part (or part 1 of an empty object) has no byte to read.
    if (end < start) return { ...result, body: bytesBody(Buffer.alloc(0)) }
    const cipher = stored.head.enc === undefined ? undefined : await cipherOf(ctx, buckets.keys, bucketId, stored.head.enc, options.customerKey, where)
    if (stored.inline !== undefined) return { ...result, body: bytesBody(inlineBytes(stored.inline, cipher).subarray(start, end + 1)) }
    const one = oneChunk(stored.head.segments ?? [], start, end)
    if (one !== undefined) {
      const chunk = await readChunk(ctx, one.segment, one.index, cipher)
      if (chunk !== undefined) return { ...result, body: bytesBody(chunk.subarray(one.from, one.to)) }
      const again = await read()
      if (again.head.segments?.some(s => s.id === one.segment.id) === true) throw damaged(one.segment, one.index)
      stored = again
      continue
    }
    const snapshot = readingSnapshot(ctx)
    try {
      const again = await read(snapshot)
      if (again.head.segments?.[0]?.id !== stored.head.segments?.[0]?.id) {
        await snapshot.close()
        stored = again
        continue
      }
      return { ...result, body: openBody(ctx, again, range, snapshot, cipher) }
    } catch (err) {
      await snapshot.close()
      throw err
    }
  }
}
