import { SpaceboxError } from '../errors.js'
import type { Context } from '../context.js'
import type { UsageHour, UsageRecord } from '../schema/records.js'
import type { KeyUsage } from '../types.js'

const FLUSH_MS = 5000
const HOUR_MS = 3_600_000
/** Hours of history a key keeps: 7 days. */
const HISTORY_HOURS = 168
const WINDOW_MS = HISTORY_HOURS * HOUR_MS

/**
 * Usage figures per access key (requests by operation, bytes in and out, last use, the last
 * refusal and why, and requests and bytes hour by hour over 7 days) and the per-key rate limit.
 * Figures are counted in memory and written every few seconds and at close: a crash loses at most
 * the last few seconds of counts, never data.
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
    const now = ctx.now()
    for await (const [id, value] of ctx.sub.usage.iterator()) {
      const figures = decodeUsage(value, now)
      if (figures !== undefined) usage.#figures.set(id, figures)
    }
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

  /** On every request: adds to the totals and to the current hour's entry only (a new one once an hour). */
  count (id: string, operation: string, bytesIn = 0, bytesOut = 0): void {
    const figures = this.#record(id)
    const now = this.#ctx.now()
    figures.requests[operation] = (figures.requests[operation] ?? 0) + 1
    figures.bytesIn += bytesIn
    figures.bytesOut += bytesOut
    figures.lastUsed = now
    countHour(figures.history, hourOf(now), bytesIn, bytesOut)
  }

  /** Remember why a key was refused: the owner can read it, the caller only sees AccessDenied. */
  denied (id: string, operation: string, reason: string): void {
    const figures = this.#record(id)
    figures.denied++
    figures.lastDenied = { at: this.#ctx.now(), operation, reason }
  }

  get (id: string): KeyUsage {
    const figures = this.#figures.get(id)
    const out: KeyUsage = {
      requests: { ...figures?.requests },
      bytesIn: figures?.bytesIn ?? 0,
      bytesOut: figures?.bytesOut ?? 0,
      denied: figures?.denied ?? 0,
      history: figures === undefined ? [] : recent(figures.history, hourOf(this.#ctx.now()))
    }
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
      figures = { v: 2, requests: {}, bytesIn: 0, bytesOut: 0, denied: 0, history: [] }
      this.#figures.set(id, figures)
    }
    this.#dirty.add(id)
    return figures
  }
}

/** The start of the hour holding `ms` (UTC). */
function hourOf (ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS
}

/**
 * Count a request in its hour: the newest entry's (found at once, as nearly every request is), the
 * first of a new hour (an append), or one from an earlier hour after the clock was set back (found,
 * or inserted in order). Hours 168 or more before the newest fall off the front, so a history never
 * holds more than 168 entries.
 */
function countHour (history: UsageHour[], hour: number, bytesIn: number, bytesOut: number): void {
  if (!Number.isFinite(hour)) return
  let i = history.length
  while (i > 0 && history[i - 1]!.hour > hour) i--
  const found = history[i - 1]
  if (found !== undefined && found.hour === hour) {
    found.requests++
    found.bytesIn += bytesIn
    found.bytesOut += bytesOut
    return
  }
  const newest = Math.max(hour, history[history.length - 1]?.hour ?? hour)
  if (hour <= newest - WINDOW_MS) return
  const entry = { hour, requests: 1, bytesIn, bytesOut }
  if (i === history.length) history.push(entry)
  else history.splice(i, 0, entry)
  let old = 0
  while (history[old]!.hour <= newest - WINDOW_MS) old++
  if (old > 0) history.splice(0, old)
}

/** The hours of the 7 days up to `nowHour`, as KeyUsage shows them. */
function recent (history: UsageHour[], nowHour: number): KeyUsage['history'] {
  const out: KeyUsage['history'] = []
  for (const { hour, requests, bytesIn, bytesOut } of history) {
    if (hour > nowHour - WINDOW_MS && hour <= nowHour) out.push({ hour: new Date(hour), requests, bytesIn, bytesOut })
  }
  return out
}

type Fields = Record<string, unknown>

function isFields (value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isAmount (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}

/**
 * A stored usage record, v1 (without history) or v2, as this version keeps it in memory; undefined
 * for a value that is not a record at all. Stored data is input: fields of the wrong type are
 * dropped, only the last 168 entries of a stored history are looked at (however long the array),
 * malformed entries and hours outside the 7 days up to `now` are left out, and one entry is kept
 * an hour. A damaged or hostile record costs a bounded amount to read and to hold.
 */
export function decodeUsage (value: unknown, now: number): UsageRecord | undefined {
  if (!isFields(value)) return undefined
  const figures: UsageRecord = {
    v: 2,
    requests: isFields(value.requests) ? value.requests as Record<string, number> : {},
    bytesIn: isAmount(value.bytesIn) ? value.bytesIn : 0,
    bytesOut: isAmount(value.bytesOut) ? value.bytesOut : 0,
    denied: isAmount(value.denied) ? value.denied : 0,
    history: decodeHistory(value.history, hourOf(now))
  }
  if (isAmount(value.lastUsed)) figures.lastUsed = value.lastUsed
  const last = value.lastDenied
  if (isFields(last) && isAmount(last.at) && typeof last.operation === 'string' && typeof last.reason === 'string') {
    figures.lastDenied = { at: last.at, operation: last.operation, reason: last.reason }
  }
  return figures
}

function decodeHistory (value: unknown, nowHour: number): UsageHour[] {
  if (!Array.isArray(value)) return []
  const hours: UsageHour[] = []
  for (let i = Math.max(0, value.length - HISTORY_HOURS); i < value.length; i++) {
    const entry = decodeHour(value[i])
    if (entry !== undefined && entry.hour > nowHour - WINDOW_MS && entry.hour <= nowHour) hours.push(entry)
  }
  hours.sort((a, b) => a.hour - b.hour)
  return hours.filter((entry, i) => i === 0 || hours[i - 1]!.hour !== entry.hour)
}

function decodeHour (value: unknown): UsageHour | undefined {
  if (!isFields(value)) return undefined
  const { hour, requests, bytesIn, bytesOut } = value
  if (typeof hour !== 'number' || !Number.isSafeInteger(hour) || hour % HOUR_MS !== 0) return undefined
  if (typeof requests !== 'number' || !Number.isSafeInteger(requests) || requests < 1) return undefined
  if (!isAmount(bytesIn) || !isAmount(bytesOut)) return undefined
  return { hour, requests, bytesIn, bytesOut }
}
