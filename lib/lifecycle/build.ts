/**
 * Which buckets keep the lifecycle index, and building it. Only a bucket with lifecycle rules pays
 * for the index on its writes: `ctx.lifecycleIndexed` holds its id from the moment rules are set,
 * and every commit checks it under the object's lock (versions.ts `expiryIndex`). The versions
 * written before are then indexed by a build that visits the keys a slice at a time, holding the
 * locks of every key of the slice while it reads them and writes their entries, so a commit either
 * lands before the visit (which sees it) or sees the id (and indexes itself): none is missed, and
 * no entry is written for a version already gone. (Only the build holds several object locks, and
 * takes them in key order: no deadlock.) The build runs in the background;
 * a pass over the bucket waits for it, and the bucket record says when it is complete, so a build
 * cut short (a crash, a close) starts again at the next open. Removing the rules removes the
 * bucket's entries.
 *
 * Noncurrent versions written by a spacebox older than the index have no noncurrent date: the
 * build gives each the date of the version written after it, when it became noncurrent.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import type { Context } from '../context.js'
import type { Buckets } from '../buckets.js'
import type { BucketState } from '../bucket-state.js'
import { isSpaceboxError } from '../errors.js'
import { expiryBucketRange, objectKeyName, objectPrefixRange, versionKeyName, versionsOfKey } from '../schema/keys.js'
import { decodeHead, encodeHead } from '../schema/records.js'
import type { BatchOp } from '../context.js'
import { objectLock, readHead } from '../objects/heads.js'
import { expiryEntry } from '../objects/versions.js'
import type { LifecycleRule } from './types.js'

/** Keys visited (and locked) together: one read of their noncurrent versions, one batch. */
const KEYS_PER_SLICE = 64

interface Build {
  done: Promise<void>
  stop: boolean
}

export class LifecycleIndex {
  readonly #ctx: Context
  readonly #buckets: Buckets
  readonly #builds = new Map<string, Build>()
  #closing = false

  constructor (ctx: Context, buckets: Buckets) {
    this.#ctx = ctx
    this.#buckets = buckets
  }

  /** At open: every bucket with rules keeps its index; one not marked complete is built (again). */
  resume (): void {
    for (const { name } of this.#buckets.list()) {
      const state = this.#buckets.get(name)
      if (state.record.lifecycle === undefined) continue
      this.#ctx.lifecycleIndexed.add(state.record.id)
      if (state.record.lifecycleIndexed !== true) this.#build(state)
    }
  }

  /** Store a bucket's rules (checked), indexing it from now on, and building what it holds if it was not indexed. NoSuchBucket. */
  async setRules (bucket: string, rules: LifecycleRule[]): Promise<void> {
    const state = this.#buckets.get(bucket)
    const id = state.record.id
    const was = this.#ctx.lifecycleIndexed.has(id)
    // First: a commit from now on indexes itself; the build covers what came before.
    this.#ctx.lifecycleIndexed.add(id)
    try {
      await this.#buckets.update(state, record => { record.lifecycle = rules })
    } catch (err) {
      if (!was) this.#ctx.lifecycleIndexed.delete(id)
      throw err
    }
    if (state.record.lifecycleIndexed !== true && !this.#builds.has(id)) this.#build(state)
  }

  /** Remove a bucket's rules and its index entries. NoSuchBucket. */
  async removeRules (bucket: string): Promise<void> {
    const state = this.#buckets.get(bucket)
    const id = state.record.id
    const build = this.#builds.get(id)
    if (build !== undefined) {
      build.stop = true
      await build.done
    }
    await this.#buckets.update(state, record => {
      delete record.lifecycle
      delete record.lifecycleIndexed
    })
    this.#ctx.lifecycleIndexed.delete(id)
    await this.#ctx.sub.expiry.clear(expiryBucketRange(id))
  }

  /** Resolves once the bucket's index is complete (or its build stopped). */
  async ready (bucketId: string): Promise<void> {
    await this.#builds.get(bucketId)?.done
  }

  /** Stop the builds under way (at their next key); resolves when they have. */
  async close (): Promise<void> {
    this.#closing = true
    for (const build of this.#builds.values()) build.stop = true
    await Promise.all([...this.#builds.values()].map(async build => await build.done))
  }

  #build (state: BucketState): void {
    const id = state.record.id
    const build: Build = { done: Promise.resolve(), stop: this.#closing }
    build.done = this.#ctx.gate.run(async () => {
      try {
        if (await this.#visitAll(state, build)) await this.#buckets.update(state, record => { record.lifecycleIndexed = true })
      } catch (err) {
        // A bucket deleted meanwhile has nothing left to index.
        if (!isSpaceboxError(err, 'NoSuchBucket') && !isSpaceboxError(err, 'NotOpen') && !this.#closing) {
          process.emitWarning(err as Error, 'SpaceboxLifecycleWarning')
        }
      } finally {
        this.#builds.delete(id)
      }
    })
    this.#builds.set(id, build)
  }

  /** Index every key of the bucket, a slice of keys at a time under their locks; false if stopped first. */
  async #visitAll (state: BucketState, build: Build): Promise<boolean> {
    const ctx = this.#ctx
    const bucketId = state.record.id
    const range = objectPrefixRange(bucketId)
    for (let gt: Buffer | undefined; ;) {
      if (build.stop) return false
      const stored = await ctx.sub.objects.keys({ ...(gt === undefined ? { gte: range.gte } : { gt }), lt: range.lt, limit: KEYS_PER_SLICE }).all()
      if (stored.length > 0) await this.#locked(bucketId, stored.map(objectKeyName), 0, async keys => { await this.#visit(bucketId, keys) })
      if (stored.length < KEYS_PER_SLICE) return !build.stop
      gt = stored[stored.length - 1]
      await yieldToLoop()
    }
  }

  /** `fn(keys)` holding the lock of every key, taken in order. */
  async #locked (bucketId: string, keys: string[], from: number, fn: (keys: string[]) => Promise<void>): Promise<void> {
    if (from === keys.length) return await fn(keys)
    await this.#ctx.locks.run(objectLock(bucketId, keys[from] as string), async () => { await this.#locked(bucketId, keys, from + 1, fn) })
  }

  /** The entries of consecutive keys, in one batch; noncurrent versions without a date get their successor's. */
  async #visit (bucketId: string, keys: string[]): Promise<void> {
    const ctx = this.#ctx
    const ops: BatchOp[] = []
    const modified = new Map<string, number>()
    for (const key of keys) {
      const current = await readHead(ctx, bucketId, key)
      if (current === undefined) continue
      ops.push({ type: 'put', sublevel: ctx.sub.expiry, key: expiryEntry(bucketId, key, current.head), value: '' })
      modified.set(key, current.head.modified)
    }
    // Every key with noncurrent versions has a current one, so the slice's versions are those
    // between its first key's and its last's, by key and newest first.
    const range = { gt: versionsOfKey(bucketId, keys[0] as string).gt, lt: versionsOfKey(bucketId, keys[keys.length - 1] as string).lt }
    let last: string | undefined
    let successor = 0
    for await (const [stored, value] of ctx.sub.versions.iterator(range)) {
      const key = versionKeyName(stored)
      const { head, inline } = decodeHead(value)
      if (key !== last) successor = modified.get(key) ?? head.modified
      last = key
      if (head.noncurrentSince === undefined) {
        head.noncurrentSince = Math.max(successor, head.modified)
        ops.push({ type: 'put', sublevel: ctx.sub.versions, key: stored, value: encodeHead(head, inline) })
      }
      ops.push({ type: 'put', sublevel: ctx.sub.expiry, key: expiryEntry(bucketId, key, head), value: '' })
      successor = head.modified
    }
    if (ops.length > 0) await ctx.db.batch(ops, ctx.write)
  }
}
