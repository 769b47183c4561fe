/**
 * The versions of one key, as S3 keeps them: their ids and order, finding one, and what a write or
 * a delete does to the versions already there under the bucket's versioning state. Enabled keeps
 * every version; Suspended and unversioned buckets write the one version whose id is `null`,
 * replacing it wherever it sits. Every change here runs under the object's lock, in one batch.
 */
import { randomBytes } from 'node:crypto'
import type { AbstractSnapshot } from 'abstract-level'
import { SpaceboxError } from '../errors.js'
import { DAY_MS, expiryKey, objectKey, publicKey, SORT_KEY_LENGTH, versionKey, versionsOfKey } from '../schema/keys.js'
import { decodeHead, encodeHead, type ObjectHead } from '../schema/records.js'
import type { BatchOp, Context } from '../context.js'
import type { BucketState } from '../bucket-state.js'
import { newId } from '../internal/ids.js'
import { chunkDeletes, readHead, type StoredObject } from './heads.js'
import { frees } from '../storage/space.js'

export type VersioningState = BucketState['record']['versioning']

type Where = { bucket: string, key: string }

/** 24 hex digits (the sort key: the version's order, inverted so the newest sorts first), then 8 random characters. */
const VERSION_ID = /^[0-9a-f]{24}[A-Za-z0-9._]{8}$/

/**
 * A version id as a caller gives it: undefined, `null`, or one this store issued. InvalidArgument,
 * naming the argument as the wire does (`argument`); `option` is the engine's name for it.
 */
export function checkVersionId (versionId: unknown, where: { bucket: string, key?: string }, option = 'versionId', argument = 'versionId'): string | undefined {
  if (versionId === undefined) return undefined
  if (typeof versionId !== 'string') throw new TypeError(`${option} must be a string`)
  if (versionId === '') {
    throw new SpaceboxError('InvalidArgument', 'Version id cannot be the empty string', { ...where, detail: { argumentName: argument, argumentValue: '' } })
  }
  if (versionId !== 'null' && !VERSION_ID.test(versionId)) {
    throw new SpaceboxError('InvalidArgument', 'Invalid version id specified', { ...where, detail: { argumentName: argument, argumentValue: versionId } })
  }
  return versionId
}

/** A version's id as S3 names it. */
export function idOf (head: ObjectHead): string {
  return head.vid ?? 'null'
}

/** The id a response reports: none in a bucket that was never versioned. */
export function reportedId (state: VersioningState, head: ObjectHead): string | undefined {
  return state === undefined && head.vid === undefined ? undefined : idOf(head)
}

/** A record written before versioning has no order: its modification time stands in. */
function orderOf (head: ObjectHead): string {
  return head.order ?? head.modified.toString(16).padStart(12, '0') + '0'.repeat(12)
}

function invert (hex: string): string {
  let out = ''
  for (let i = 0; i < hex.length; i++) out += (15 - parseInt(hex[i] as string, 16)).toString(16)
  return out
}

function sortKeyOf (head: ObjectHead): string {
  return invert(orderOf(head))
}

/** Time-ordered, and after the current version's even if the clock stepped back. */
function nextOrder (current: ObjectHead | undefined): string {
  const order = newId()
  if (current === undefined) return order
  const last = orderOf(current)
  return order > last ? order : (BigInt('0x' + last) + 1n).toString(16).padStart(SORT_KEY_LENGTH, '0')
}

/** A delete marker: no bytes, no metadata. */
export function markerHead (now: number): ObjectHead {
  return { v: 1, etag: '', size: 0, modified: now, contentType: '', headers: {}, metadata: {}, checksums: {}, marker: true }
}

export interface Version extends StoredObject {
  /** The key's current version, in `objects`; else a noncurrent one, in `versions`. */
  current: boolean
  /** Its key in its sublevel. */
  stored: Buffer
}

/** Version `versionId` of a key, current or not; undefined if there is none. */
export async function findVersion (ctx: Context, bucketId: string, key: string, versionId: string, snapshot?: AbstractSnapshot): Promise<Version | undefined> {
  const current = await readHead(ctx, bucketId, key, snapshot)
  if (current === undefined) return undefined
  if (idOf(current.head) === versionId) return { ...current, current: true, stored: objectKey(bucketId, key) }
  const options = snapshot === undefined ? {} : { snapshot }
  const sortKey = versionId === 'null' ? await ctx.sub.nullv.get(objectKey(bucketId, key), options) : versionId.slice(0, SORT_KEY_LENGTH)
  if (sortKey === undefined) return undefined
  const stored = versionKey(bucketId, key, sortKey)
  const raw = await ctx.sub.versions.get(stored, options)
  if (raw === undefined) return undefined
  const decoded = decodeHead(raw)
  return idOf(decoded.head) === versionId ? { ...decoded, raw, current: false, stored } : undefined
}

export function noSuchKey (bucket: string, key: string): SpaceboxError {
  return new SpaceboxError('NoSuchKey', 'The specified key does not exist.', { bucket, key })
}

/**
 * The version a read addresses: the current one, or `versionId`. NoSuchKey when the current one
 * is a delete marker (with the marker's id in the detail), NoSuchVersion for an unknown id, and
 * for a marker named by id MethodNotAllowed, or for a copy source InvalidRequest, as S3 answers.
 */
export async function readVersion (ctx: Context, bucketId: string, where: Where, versionId: string | undefined,
  snapshot?: AbstractSnapshot, copySource = false): Promise<StoredObject> {
  if (versionId === undefined) {
    const current = await readHead(ctx, bucketId, where.key, snapshot)
    if (current === undefined) throw noSuchKey(where.bucket, where.key)
    if (current.head.marker === true) {
      throw new SpaceboxError('NoSuchKey', 'The specified key does not exist.', { ...where, detail: markerDetail(current.head) })
    }
    return current
  }
  const found = await findVersion(ctx, bucketId, where.key, versionId, snapshot)
  if (found === undefined) {
    throw new SpaceboxError('NoSuchVersion', 'The specified version does not exist.', { ...where, detail: { versionId } })
  }
  if (found.head.marker === true) {
    if (copySource) throw new SpaceboxError('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.', where)
    throw new SpaceboxError('MethodNotAllowed', 'The specified method is not allowed against this resource.', { ...where, detail: markerDetail(found.head) })
  }
  return found
}

function markerDetail (head: ObjectHead): Record<string, string | number> {
  return { deleteMarker: 'true', versionId: idOf(head), lastModified: head.modified }
}

/**
 * The batch that makes `head` the current version of `key` in place of `current`: with
 * versioning Enabled the current version stays, noncurrent; otherwise `head` is the null version,
 * and the null version it replaces (current or not) goes with its chunks. Gives `head` its id and
 * order, and commits nothing.
 */
export async function supersede (ctx: Context, bucketId: string, key: string, state: VersioningState,
  current: StoredObject | undefined, head: ObjectHead, inline: Buffer | undefined): Promise<BatchOp[]> {
  if (state !== undefined) head.order = nextOrder(current?.head)
  if (state === 'Enabled') head.vid = invert(head.order as string) + randomBytes(6).toString('base64url').replaceAll('-', '.')
  // A copy of a noncurrent version is current.
  delete head.noncurrentSince
  const stored = objectKey(bucketId, key)
  const ops: BatchOp[] = [{ type: 'put', sublevel: ctx.sub.objects, key: stored, value: encodeHead(head, inline) }]
  if (current !== undefined && state !== 'Enabled' && current.head.vid === undefined) {
    ops.push(...versionGone(ctx, bucketId, key, current.head))
  } else if (current !== undefined) {
    const sortKey = sortKeyOf(current.head)
    // Noncurrent from now: its lifecycle age (NoncurrentDays) counts from this instant.
    const noncurrent: ObjectHead = { ...current.head, noncurrentSince: ctx.now() }
    ops.push(...expiryIndex(ctx, bucketId, key, current.head, 'del'), ...expiryIndex(ctx, bucketId, key, noncurrent, 'put'))
    ops.push({ type: 'put', sublevel: ctx.sub.versions, key: versionKey(bucketId, key, sortKey), value: encodeHead(noncurrent, current.inline) })
    if (current.head.vid === undefined) ops.push({ type: 'put', sublevel: ctx.sub.nullv, key: stored, value: sortKey })
    if (state === 'Suspended') ops.push(...await dropNoncurrentNull(ctx, bucketId, key))
  }
  // Last: the version it replaces may have the same index entries, deleted above.
  ops.push(...aclIndex(ctx, bucketId, key, head), ...expiryIndex(ctx, bucketId, key, head, 'put'))
  return ops
}

/** The index entry of a version whose ACL is public (records.ts); none for a private one. */
export function aclIndex (ctx: Context, bucketId: string, key: string, head: ObjectHead): BatchOp[] {
  return head.acl === undefined ? [] : [{ type: 'put', sublevel: ctx.sub.public, key: publicKey(bucketId, key, idOf(head)), value: head.acl }]
}

/**
 * The lifecycle index key of a version (schema/keys.ts): a noncurrent one dated from when it became
 * noncurrent, a current one (object or delete marker) from when it was written.
 */
export function expiryEntry (bucketId: string, key: string, head: ObjectHead): Buffer {
  return head.noncurrentSince === undefined
    ? expiryKey(bucketId, head.marker === true ? 'm' : 'c', Math.floor(head.modified / DAY_MS), key)
    : expiryKey(bucketId, 'n', Math.floor(head.noncurrentSince / DAY_MS), key, idOf(head))
}

/**
 * The change of a version's lifecycle index entry; none in a bucket without lifecycle rules, so that
 * their writes cost what they did (lifecycle/build.ts).
 */
export function expiryIndex (ctx: Context, bucketId: string, key: string, head: ObjectHead, type: 'put' | 'del'): BatchOp[] {
  if (!ctx.lifecycleIndexed.has(bucketId)) return []
  return type === 'put' ? [{ type, sublevel: ctx.sub.expiry, key: expiryEntry(bucketId, key, head), value: '' }] : [expiryDel(ctx, bucketId, key, head)]
}

/** The delete of a version's lifecycle index entry, whether or not its bucket keeps the index (then it deletes nothing). */
export function expiryDel (ctx: Context, bucketId: string, key: string, head: ObjectHead): BatchOp {
  return { type: 'del', sublevel: ctx.sub.expiry, key: expiryEntry(bucketId, key, head) }
}

/** What goes with a version removed for good: its chunks, and its entries in the indexes of public versions and of lifecycle. */
export function versionGone (ctx: Context, bucketId: string, key: string, head: ObjectHead | undefined): BatchOp[] {
  const ops = chunkDeletes(ctx, head?.segments)
  if (head?.acl !== undefined) ops.push({ type: 'del', sublevel: ctx.sub.public, key: publicKey(bucketId, key, idOf(head)) })
  // An inline version's bytes go with its record, which the caller deletes: this delete, made for every version, counts them.
  if (head !== undefined) ops.push(frees(expiryDel(ctx, bucketId, key, head), head.segments === undefined ? head.size : 0))
  return ops
}

async function dropNoncurrentNull (ctx: Context, bucketId: string, key: string): Promise<BatchOp[]> {
  const stored = objectKey(bucketId, key)
  const sortKey = await ctx.sub.nullv.get(stored)
  if (sortKey === undefined) return []
  const at = versionKey(bucketId, key, sortKey)
  const raw = await ctx.sub.versions.get(at)
  return [
    { type: 'del', sublevel: ctx.sub.nullv, key: stored },
    { type: 'del', sublevel: ctx.sub.versions, key: at },
    ...versionGone(ctx, bucketId, key, raw === undefined ? undefined : decodeHead(raw).head)
  ]
}

/**
 * The batch that removes version `versionId` for good, with its chunks; when it was current, the
 * newest noncurrent version becomes current. Empty, with nothing found, if there is no such version.
 */
export async function removeVersion (ctx: Context, bucketId: string, key: string, versionId: string): Promise<{ ops: BatchOp[], found: Version | undefined }> {
  const found = await findVersion(ctx, bucketId, key, versionId)
  if (found === undefined) return { ops: [], found }
  const stored = objectKey(bucketId, key)
  const ops = versionGone(ctx, bucketId, key, found.head)
  if (!found.current) {
    ops.push({ type: 'del', sublevel: ctx.sub.versions, key: found.stored })
    if (found.head.vid === undefined) ops.push({ type: 'del', sublevel: ctx.sub.nullv, key: stored })
    return { ops, found }
  }
  const [next] = await ctx.sub.versions.iterator({ ...versionsOfKey(bucketId, key), limit: 1 }).all()
  if (next === undefined) {
    ops.push({ type: 'del', sublevel: ctx.sub.objects, key: stored })
  } else {
    // Current again: no longer dated from when it became noncurrent.
    const { head, inline } = decodeHead(next[1])
    ops.push(...expiryIndex(ctx, bucketId, key, head, 'del'))
    delete head.noncurrentSince
    ops.push({ type: 'put', sublevel: ctx.sub.objects, key: stored, value: encodeHead(head, inline) }, { type: 'del', sublevel: ctx.sub.versions, key: next[0] })
    if (head.vid === undefined) ops.push({ type: 'del', sublevel: ctx.sub.nullv, key: stored })
    ops.push(...expiryIndex(ctx, bucketId, key, head, 'put'))
  }
  return { ops, found }
}
