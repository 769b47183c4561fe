/**
 * A lifecycle pass: what each bucket's enabled rules make due at the store's clock, expired as S3
 * expires it. It reads the `expiry` index (schema/keys.ts), not the bucket: for a rule of N days
 * only the entries dated more than N days ago are read, per day only those under the rule's prefix
 * (one seek a day), so a pass costs what is due plus what is old enough and under the prefix but
 * filtered out by tags or size. Uploads in progress, few and short-lived, are read by prefix.
 *
 * Entries are read a slice at a time with the iterator closed in between, and the pass yields to
 * the event loop after each slice. Each expiry is one batch under the object's lock that checks
 * again, against the record and the rule as they are then, that the version is due: a crash
 * leaves every version whole, expired or not, and a pass run again finds what is left.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { BucketState } from '../bucket-state.js'
import { isSpaceboxError } from '../errors.js'
import {
  expiryDayStart, expiryKeyParts, expiryKindEnd, objectKey, uploadKeyParts, uploadPrefixRange, versionsOfKey, type ExpiryKind
} from '../schema/keys.js'
import type { UploadRecord } from '../schema/records.js'
import { objectLock, readHead } from '../objects/heads.js'
import { findVersion, idOf, markerHead, removeVersion, reportedId, supersede, versionGone } from '../objects/versions.js'
import { abortUpload } from '../multipart/abort.js'
import { currentDue, dayOf, dueAfter, matches, type CompiledRule } from './rules.js'
import { lifecyclePolicy } from './config.js'
import type { LifecycleIndex } from './build.js'
import type { LifecycleExpired, LifecycleResult } from './types.js'

/** Entries read (and expiries made) between two yields to the event loop. */
export const SLICE = 64
const LAST_DAY = 0xffffffff

export interface PassOptions {
  /** Only this bucket (NoSuchBucket if there is none). */
  bucket?: string
  /** Keep what was expired in the result (a background pass does not). */
  collect: boolean
  /** Asked between slices: true stops the pass (the store is closing). */
  stopping?: () => boolean
}

interface Entry {
  stored: Buffer
  day: number
  key: string
  versionId: string | undefined
}

interface Pass {
  ctx: Context
  buckets: Buckets
  state: BucketState
  now: number
  options: PassOptions
  result: LifecycleResult
}

export function emptyResult (): LifecycleResult {
  return { objects: [], versions: [], deleteMarkers: [], uploads: [] }
}

/** Apply every bucket's (or one bucket's) enabled rules once, at the store's clock's now. */
export async function applyLifecycle (ctx: Context, buckets: Buckets, index: Pick<LifecycleIndex, 'ready'>, options: PassOptions): Promise<LifecycleResult> {
  const result = emptyResult()
  const now = ctx.now()
  const names = options.bucket === undefined ? buckets.list().map(b => b.name) : [options.bucket]
  for (const name of names) {
    let state: BucketState
    try {
      state = buckets.get(name)
    } catch (err) {
      if (options.bucket !== undefined) throw err
      continue
    }
    if (state.record.lifecycle === undefined) continue
    // Rules set on a bucket that held objects already: its index is being built.
    await index.ready(state.record.id)
    if (options.stopping?.() === true) return result
    const policy = lifecyclePolicy(state.record)
    if (policy === undefined) continue
    const pass: Pass = { ctx, buckets, state, now, options, result }
    try {
      for (const rule of policy.rules) {
        if (options.stopping?.() === true) return result
        await applyRule(pass, rule)
      }
    } catch (err) {
      // Deleted during the pass: nothing of it is left to expire.
      if (!isSpaceboxError(err, 'NoSuchBucket')) throw err
    }
  }
  return result
}

async function applyRule (pass: Pass, rule: CompiledRule): Promise<void> {
  const today = dayOf(pass.now)
  if (rule.days !== undefined || (rule.date !== undefined && pass.now >= rule.date)) {
    const before = rule.days === undefined ? Infinity : today - rule.days
    await scan(pass, 'c', rule.prefix, before, async entry => { await expireCurrent(pass, rule.id, entry) })
    // As old as the rule's age, a delete marker left alone goes too.
    await scan(pass, 'm', rule.prefix, before, async entry => { await removeLoneMarker(pass, rule.id, entry, true) })
  }
  if (rule.expiredObjectDeleteMarker) {
    await scan(pass, 'm', rule.prefix, Infinity, async entry => { await removeLoneMarker(pass, rule.id, entry, false) })
  }
  if (rule.noncurrentDays !== undefined) {
    await scan(pass, 'n', rule.prefix, today - rule.noncurrentDays, async entry => { await expireNoncurrent(pass, rule.id, entry) })
  }
  if (rule.abortDays !== undefined) await abortStale(pass, rule)
}

/**
 * Visit the bucket's index entries of `kind` dated before day `before` whose key starts with
 * `prefix`, a slice at a time. Within a day entries sort by key, so an entry outside the prefix
 * sends the iterator to the prefix in its day or in the next.
 */
async function scan (pass: Pass, kind: ExpiryKind, prefix: string, before: number, visit: (entry: Entry) => Promise<void>): Promise<void> {
  if (before <= 0) return
  const bucketId = pass.state.record.id
  const wanted = Buffer.from(prefix)
  const lt = before > LAST_DAY ? expiryKindEnd(bucketId, kind) : expiryDayStart(bucketId, kind, before)
  let gte = expiryDayStart(bucketId, kind, 0, prefix)
  for (;;) {
    if (pass.options.stopping?.() === true) return
    const slice: Entry[] = []
    let done = false
    const iterator = pass.ctx.sub.expiry.keys({ gte, lt })
    try {
      while (slice.length < SLICE) {
        const stored = await iterator.next()
        if (stored === undefined) {
          done = true
          break
        }
        const { day, keyBytes, versionId } = expiryKeyParts(stored, kind)
        if (keyBytes.length < wanted.length || keyBytes.compare(wanted, 0, wanted.length, 0, wanted.length) !== 0) {
          if (day === LAST_DAY) {
            done = true
            break
          }
          const early = Buffer.compare(keyBytes.subarray(0, wanted.length), wanted) < 0
          iterator.seek(expiryDayStart(bucketId, kind, early ? day : day + 1, prefix))
          continue
        }
        slice.push({ stored, day, key: keyBytes.toString('utf8'), versionId })
      }
    } finally {
      await iterator.close()
    }
    for (const entry of slice) await visit(entry)
    if (done || slice.length === 0) return
    // Resume just after the last entry read: what this slice expired is gone from the index.
    gte = Buffer.concat([(slice[slice.length - 1] as Entry).stored, Buffer.from([0])])
    await yieldToLoop()
  }
}

/** Run `fn` under the object's lock, through the bucket's commit (a delete marker must not outlive its bucket). */
async function locked<T> (pass: Pass, key: string, fn: () => Promise<T>): Promise<T> {
  const bucketId = pass.state.record.id
  return await pass.buckets.commit(pass.state, async () => await pass.ctx.locks.run(objectLock(bucketId, key), fn))
}

/** The rule as it is now (the configuration may have changed during the pass); undefined if gone or disabled. */
function liveRule (pass: Pass, ruleId: string): CompiledRule | undefined {
  return lifecyclePolicy(pass.state.record)?.byId.get(ruleId)
}

/** An entry no version has any longer (the version changed between the read and the lock): dropped. */
async function dropStale (pass: Pass, entry: Entry): Promise<void> {
  await pass.ctx.sub.expiry.del(entry.stored, pass.ctx.write)
}

function record (pass: Pass, list: keyof LifecycleResult, item: Omit<LifecycleExpired, 'bucket'>): void {
  if (pass.options.collect) pass.result[list].push({ bucket: pass.state.record.name, ...item })
}

/** Expiration of a current version: gone in a bucket never versioned, else hidden behind a new delete marker. */
async function expireCurrent (pass: Pass, ruleId: string, entry: Entry): Promise<void> {
  const { ctx, state } = pass
  const bucketId = state.record.id
  await locked(pass, entry.key, async () => {
    const current = await readHead(ctx, bucketId, entry.key)
    if (current === undefined || current.head.marker === true || dayOf(current.head.modified) !== entry.day) return await dropStale(pass, entry)
    const rule = liveRule(pass, ruleId)
    if (rule === undefined || !matches(rule, entry.key, current.head) || (currentDue(rule, current.head.modified) ?? Infinity) > pass.now) return
    const versioning = state.record.versioning
    const versionId = reportedId(versioning, current.head)
    if (versioning === undefined) {
      await ctx.db.batch([{ type: 'del', sublevel: ctx.sub.objects, key: objectKey(bucketId, entry.key) }, ...versionGone(ctx, bucketId, entry.key, current.head)], ctx.write)
      record(pass, 'objects', { key: entry.key, ruleId, ...(versionId === undefined ? {} : { versionId }) })
      return
    }
    const marker = markerHead(ctx.now())
    await ctx.db.batch(await supersede(ctx, bucketId, entry.key, versioning, current, marker, undefined), ctx.write)
    record(pass, 'objects', { key: entry.key, ruleId, ...(versionId === undefined ? {} : { versionId }), deleteMarkerVersionId: idOf(marker) })
  })
}

/**
 * A current delete marker with no version behind it, removed: by ExpiredObjectDeleteMarker at
 * any age, or (`aged`) by a Days or Date rule once the marker is as old as it asks.
 */
async function removeLoneMarker (pass: Pass, ruleId: string, entry: Entry, aged: boolean): Promise<void> {
  const { ctx, state } = pass
  const bucketId = state.record.id
  await locked(pass, entry.key, async () => {
    const current = await readHead(ctx, bucketId, entry.key)
    if (current === undefined || current.head.marker !== true || dayOf(current.head.modified) !== entry.day) return await dropStale(pass, entry)
    const rule = liveRule(pass, ruleId)
    if (rule === undefined || !matches(rule, entry.key, current.head)) return
    if (aged ? (currentDue(rule, current.head.modified) ?? Infinity) > pass.now : !rule.expiredObjectDeleteMarker) return
    const [behind] = await ctx.sub.versions.keys({ ...versionsOfKey(bucketId, entry.key), limit: 1 }).all()
    if (behind !== undefined) return
    const versionId = idOf(current.head)
    const { ops } = await removeVersion(ctx, bucketId, entry.key, versionId)
    await ctx.db.batch(ops, ctx.write)
    record(pass, 'deleteMarkers', { key: entry.key, ruleId, versionId })
  })
}

/** NoncurrentVersionExpiration: a version noncurrent for the rule's days goes, unless among the newest it keeps. */
async function expireNoncurrent (pass: Pass, ruleId: string, entry: Entry): Promise<void> {
  const { ctx, state } = pass
  const bucketId = state.record.id
  const versionId = entry.versionId as string
  await locked(pass, entry.key, async () => {
    const found = await findVersion(ctx, bucketId, entry.key, versionId)
    const since = found?.head.noncurrentSince
    if (found === undefined || found.current || since === undefined || dayOf(since) !== entry.day) return await dropStale(pass, entry)
    const rule = liveRule(pass, ruleId)
    if (rule?.noncurrentDays === undefined || !matches(rule, entry.key, found.head) || dueAfter(since, rule.noncurrentDays) > pass.now) return
    if (rule.newerNoncurrentVersions > 0) {
      // Noncurrent versions sort newest first: those before this one are newer.
      const newer = await ctx.sub.versions.keys({ gt: versionsOfKey(bucketId, entry.key).gt, lt: found.stored, limit: rule.newerNoncurrentVersions }).all()
      if (newer.length < rule.newerNoncurrentVersions) return
    }
    const { ops } = await removeVersion(ctx, bucketId, entry.key, versionId)
    await ctx.db.batch(ops, ctx.write)
    record(pass, 'versions', { key: entry.key, ruleId, versionId })
  })
}

/** AbortIncompleteMultipartUpload: uploads under the rule's prefix started the rule's days ago. */
async function abortStale (pass: Pass, rule: CompiledRule): Promise<void> {
  const { ctx, state } = pass
  const bucketId = state.record.id
  const range = uploadPrefixRange(bucketId, rule.prefix)
  for (let gt: Buffer | undefined; ;) {
    if (pass.options.stopping?.() === true) return
    const slice = await ctx.sub.uploads.iterator({ ...(gt === undefined ? { gte: range.gte } : { gt }), lt: range.lt, limit: SLICE }).all()
    for (const [stored, value] of slice) {
      const live = liveRule(pass, rule.id)
      if (live?.abortDays === undefined) return
      const { key, uploadId } = uploadKeyParts(stored)
      if (!key.startsWith(live.prefix) || dueAfter((value as UploadRecord).initiated, live.abortDays) > pass.now) continue
      // Its record and parts go in one batch under the upload's lock; a completion first wins.
      if (await abortUpload(ctx, bucketId, key, uploadId) !== undefined) record(pass, 'uploads', { key, ruleId: rule.id, uploadId })
    }
    if (slice.length < SLICE) return
    gt = (slice[slice.length - 1] as [Buffer, unknown])[0]
    await yieldToLoop()
  }
}
