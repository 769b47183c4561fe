import { SpaceboxError } from '../errors.js'
import type { Context } from '../context.js'
import type { UsageRecord } from '../schema/records.js'
import type { KeyUsage } from '../types.js'

const FLUSH_MS = 5000

/**
 * Usage figures per access key (requests by operation, bytes in and out, last use, the last
 * refusal and why) and the per-key rate limit. Figures are counted in memory and written every
 * few seconds and at close: a crash loses at most the last few seconds of counts, never data.
 */
export class Usage {
  readonly #ctx: Context
  readonly #figures = new Map<string, UsageRecord>()
  readonly #dirty = new Set<string>()
  readonly #tokens = new Map<string, { tokens: number, at: number }>()
  readonly #timer: NodeJS.Timeout

  private constructor (ctx: Context) {
    this.#ctx = ctx
    this.#timer = setInterval(() => { this.flush().catch(() => {}) }, FLUSH_MS)
    this.#timer.unref()
  }

  static async load (ctx: Context): Promise<Usage> {
    const usage = new Usage(ctx)
    for await (const [id, value] of ctx.sub.usage.iterator()) usage.#figures.set(id, value as UsageRecord)
    return usage
  }

  /** Spend one request of a key's budget (token bucket, burst of one second's worth). SlowDown. */
  take (id: string, perSecond: number | undefined): void {
    if (perSecond === undefined) return
    const now = this.#ctx.now()
    const burst = Math.max(1, perSecond)
    const state = this.#tokens.get(id) ?? { tokens: burst, at: now }
    state.tokens = Math.min(burst, state.tokens + (now - state.at) / 1000 * perSecond)
    state.at = now
    this.#tokens.set(id, state)
    if (state.tokens < 1) throw new SpaceboxError('SlowDown', 'Please reduce your request rate.', { detail: { accessKeyId: id } })
    state.tokens -= 1
  }

  count (id: string, operation: string, bytesIn = 0, bytesOut = 0): void {
    const figures = this.#record(id)
    figures.requests[operation] = (figures.requests[operation] ?? 0) + 1
    figures.bytesIn += bytesIn
    figures.bytesOut += bytesOut
    figures.lastUsed = this.#ctx.now()
  }

  /** Remember why a key was refused: the owner can read it, the caller only sees AccessDenied. */
  denied (id: string, operation: string, reason: string): void {
    const figures = this.#record(id)
    figures.denied++
    figures.lastDenied = { at: this.#ctx.now(), operation, reason }
  }

  get (id: string): KeyUsage {
    const figures = this.#figures.get(id)
    const out: KeyUsage = { requests: { ...figures?.requests }, bytesIn: figures?.bytesIn ?? 0, bytesOut: figures?.bytesOut ?? 0, denied: figures?.denied ?? 0 }
    if (figures?.lastUsed !== undefined) out.lastUsed = new Date(figures.lastUsed)
    if (figures?.lastDenied !== undefined) out.lastDenied = { ...figures.lastDenied, at: new Date(figures.lastDenied.at) }
    return out
  }

  async forget (id: string): Promise<void> {
    this.#figures.delete(id)
    this.#dirty.delete(id)
    this.#tokens.delete(id)
    await this.#ctx.sub.usage.del(id)
  }

  async flush (): Promise<void> {
    if (this.#dirty.size === 0) return
    const ids = [...this.#dirty]
    this.#dirty.clear()
    await this.#ctx.sub.usage.batch(ids.flatMap(id => {
      const figures = this.#figures.get(id)
      return figures === undefined ? [] : [{ type: 'put' as const, key: id, value: figures }]
    }))
  }

  async close (): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
  }

  #record (id: string): UsageRecord {
    let figures = this.#figures.get(id)
    if (figures === undefined) {
      figures = { v: 1, requests: {}, bytesIn: 0, bytesOut: 0, denied: 0 }
      this.#figures.set(id, figures)
    }
    this.#dirty.add(id)
    return figures
  }
}
