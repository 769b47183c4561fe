/**
 * An object version's canned ACL, read and replaced in place: the version keeps its id, bytes and
 * place; only its record and the index of public versions change, in one batch under its lock.
 */
import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import { checkAcl, type ObjectCannedAcl } from '../access/acl.js'
import { objectKey, publicKey } from '../schema/keys.js'
import { encodeHead } from '../schema/records.js'
import type { ObjectAcl } from '../types.js'
import { objectLock, readHead } from './heads.js'
import { checkVersionId, findVersion, idOf, noSuchKey, readVersion, reportedId, type Version } from './versions.js'

/** S3 PutObjectAcl. NoSuchBucket, NoSuchKey, NoSuchVersion, MethodNotAllowed (a delete marker), InvalidArgument. */
export async function putObjectAcl (ctx: Context, buckets: Buckets, bucket: string, key: string, acl: ObjectCannedAcl, versionId: string | undefined): Promise<{ versionId?: string }> {
  const where = { bucket, key }
  checkVersionId(versionId, where)
  if (acl === undefined) throw new TypeError('acl is required')
  const stored = checkAcl(acl, where)
  const state = buckets.get(bucket)
  const bucketId = state.record.id
  return await buckets.commit(state, async () => await ctx.locks.run(objectLock(bucketId, key), async () => {
    const found = await locate(ctx, bucketId, where, versionId)
    const head = { ...found.head }
    if (stored === undefined) delete head.acl
    else head.acl = stored
    const index = publicKey(bucketId, key, idOf(head))
    await ctx.db.batch([
      { type: 'put', sublevel: found.current ? ctx.sub.objects : ctx.sub.versions, key: found.stored, value: encodeHead(head, found.inline) },
      stored === undefined ? { type: 'del', sublevel: ctx.sub.public, key: index } : { type: 'put', sublevel: ctx.sub.public, key: index, value: stored }
    ], ctx.write)
    const id = reportedId(state.record.versioning, head)
    return id === undefined ? {} : { versionId: id }
  }))
}

/** The version an ACL or tag change addresses; a delete marker has neither (S3: MethodNotAllowed by id, NoSuchKey as current). */
export async function locate (ctx: Context, bucketId: string, where: { bucket: string, key: string }, versionId: string | undefined): Promise<Version> {
  if (versionId === undefined) {
    const current = await readHead(ctx, bucketId, where.key)
    if (current === undefined || current.head.marker === true) throw noSuchKey(where.bucket, where.key)
    return { ...current, current: true, stored: objectKey(bucketId, where.key) }
  }
  await readVersion(ctx, bucketId, where, versionId)
  return await findVersion(ctx, bucketId, where.key, versionId) as Version
}

/** S3 GetObjectAcl: the version's canned ACL and owner. */
export async function getObjectAcl (ctx: Context, buckets: Buckets, bucket: string, key: string, versionId: string | undefined): Promise<ObjectAcl> {
  const where = { bucket, key }
  const state = buckets.get(bucket)
  const { head } = await readVersion(ctx, state.record.id, where, checkVersionId(versionId, where))
  const result: ObjectAcl = { owner: { ...ctx.owner }, acl: head.acl ?? 'private' }
  const id = reportedId(state.record.versioning, head)
  if (id !== undefined) result.versionId = id
  return result
}
