/**
 * Gives deleted data's disk space back. LevelDB drops a deleted value only when a compaction
 * merges its delete with it, and deletes never make it compact on their own: their tombstones are
 * tiny, whatever the values they shadow. So once enough bytes are freed and the store is quiet,
 * the freed chunk ranges are compacted, one range at a time, each holding at most `rangeBytes` as
 * LevelDB estimates it: a request that arrives meanwhile waits for one range at most (the next
 * waits until the store is quiet again), and so does close, as LevelDB cannot cut one short.
 */
import { SpaceboxError } from '../errors.js'
import type { Sublevels } from '../schema/keys.js'
import type { CompactionOptions, StoreStats } from '../types.js'
import { midpoint, prefixBounds, successor, type LevelDb } from './disk.js'

export { leveldbOf } from './disk.js'

/** Milliseconds since the store last did anything: 0 while a call is under way. */
export type Quiet = () => number

export interface CompactionSettings {
  /** Compact in the background; compact() works either way. */
  auto: boolean
  /** Freed bytes that start a background run. */
  threshold: number
  /** Quiet ms a background range waits for. */
  idle: number
  /** Most bytes one compactRange call covers. */
  rangeBytes: number
}

const MiB = 1024 * 1024

/** The settings of the `compaction` open option; RangeError for values that make no sense. */
export function compactionSettings (option: false | CompactionOptions | undefined): CompactionSettings {
  if (option !== undefined && option !== false && (typeof option !== 'object' || option === null)) throw new TypeError('compaction must be false or an object')
  const given = option === false || option === undefined ? {} : option
  const settings = { auto: option !== false, threshold: given.threshold ?? 64 * MiB, idle: given.idle ?? 1000, rangeBytes: given.rangeBytes ?? 64 * MiB }
  for (const name of ['threshold', 'idle', 'rangeBytes'] as const) {
    if (!Number.isSafeInteger(settings[name]) || settings[name] < (name === 'rangeBytes' ? 1 : 0)) throw new RangeError(`compaction.${name} must be a ${name === 'rangeBytes' ? 'positive' : 'non-negative'} integer`)
  }
  return settings
}

/** A store that never goes quiet still compacts a range this often (ms), so deleted space is not held forever. */
const MAX_WAIT = 60_000

export class Compactor {
  readonly #db: LevelDb
  readonly #sub: Sublevels
  readonly #stats: StoreStats
  readonly #settings: CompactionSettings
  readonly #quiet: Quiet
  readonly #chunks: string
  /** Freed segments not compacted yet, and their bytes. */
  readonly #freed = new Map<string, number>()
  /** The ranges of the background run's current step, and the segments they cover. */
  #queue: Array<[Buffer, Buffer]> = []
  #planned: string[] = []
  #timer: NodeJS.Timeout | undefined
  /** The compaction running (a background range or compact()): never two at once. */
  #busy: Promise<unknown> | undefined
  /** Since when a background run is due; undefined while none is. */
  #due: number | undefined
  #closed = false

  constructor (db: LevelDb, sub: Sublevels, stats: StoreStats, settings: CompactionSettings, quiet: Quiet) {
    this.#db = db
    this.#sub = sub
    this.#stats = stats
    this.#settings = settings
    this.#quiet = quiet
    this.#chunks = sub.chunks.prefix
  }

  /** A committed batch deleted segment `id`'s chunks, `bytes` of them. */
  freed (id: string, bytes: number): void {
    this.#freed.set(id, (this.#freed.get(id) ?? 0) + bytes)
    this.#stats.reclaimableBytes += bytes
    if (this.#settings.auto && this.#due === undefined && this.#stats.reclaimableBytes >= this.#settings.threshold) {
      this.#due = performance.now()
      this.#arm(this.#settings.idle)
    }
  }

  /**
   * Compact every sublevel of the store, split where LevelDB estimates a range over `rangeBytes`;
   * between ranges, NotOpen if `stop()` says the store is closing. Returns the ranges compacted.
   */
  async compactAll (stop: () => boolean): Promise<number> {
    return await this.#exclusive(async () => {
      const covered = [...this.#freed.keys()]
      let ranges = 0
      for (const sublevel of Object.values(this.#sub)) {
        const [start, end] = prefixBounds(sublevel.prefix)
        const first = await this.#db.edgeKey(start, end, false)
        if (first === undefined) continue
        const last = await this.#db.edgeKey(start, end, true) as Buffer
        for await (const [from, to] of this.#pieces(first, successor(last), 0)) {
          if (stop()) throw new SpaceboxError('NotOpen', 'The store closed before compaction finished')
          await this.#db.compactRange(from, to)
          this.#stats.compactions++
          ranges++
        }
      }
      // The background run's plan is covered too.
      this.#queue = []
      this.#forget([...covered, ...this.#planned.splice(0)])
      return ranges
    })
  }

  /** Stop the background runs, waiting for a range under way. */
  async close (): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#busy?.catch(() => {})
  }

  #arm (ms: number): void {
    if (this.#timer !== undefined || this.#closed) return
    this.#timer = setTimeout(() => {
      this.#tick().catch(err => {
        // Not retried in a loop: the next freed segment starts a run again.
        this.#due = undefined
        if (!this.#closed) process.emitWarning(`spacebox: background compaction failed: ${(err as Error).message}`)
      })
    }, Math.max(0, ms))
    this.#timer.unref()
  }

  /** One background step: wait for quiet (or MAX_WAIT), compact the next range, then come back while any is left. */
  async #tick (): Promise<void> {
    this.#timer = undefined
    const due = this.#due
    if (this.#closed || due === undefined) return
    const { idle } = this.#settings
    const quiet = this.#quiet()
    const forced = performance.now() - due >= MAX_WAIT
    if (this.#busy !== undefined) {
      // compact() is running: look again later rather than queue behind it.
      this.#arm(Math.max(idle, 50))
      return
    }
    if (quiet < idle && !forced) {
      this.#arm(idle - quiet)
      return
    }
    await this.#exclusive(async () => { await this.#compactNext() })
    if (this.#freed.size === 0 && this.#queue.length === 0) {
      this.#due = undefined
      return
    }
    if (forced) this.#due = performance.now()
    this.#arm(0)
  }

  /**
   * Compact the next range: the first freed segments (by key) that fit one range together, or a
   * piece of one segment too large for a range, its other pieces queued for the next steps.
   */
  async #compactNext (): Promise<void> {
    if (this.#queue.length === 0) await this.#plan()
    const next = this.#queue.shift()
    if (next === undefined) return
    try {
      await this.#db.compactRange(next[0], next[1])
      this.#stats.compactions++
    } catch (err) {
      // Closing cut it short, or the disk failed: either way, not retried in a loop.
      if (!this.#closed) process.emitWarning(`spacebox: background compaction failed: ${(err as Error).message}`)
    }
    if (this.#queue.length === 0) this.#forget(this.#planned.splice(0))
  }

  /** Queue the range(s) covering the first freed segments that fit together. */
  async #plan (): Promise<void> {
    const ids = [...this.#freed.keys()].sort()
    if (ids.length === 0) return
    const start = Buffer.from(this.#chunks + (ids[0] as string))
    const endOf = (index: number): Buffer => Buffer.from(this.#chunks + (ids[index] as string) + 'g') // 'g' sorts after every hex digit of a chunk index
    const size = this.#db.approximateSize
    // The span of segments 0..n grows with n: gallop, then bisect, to the last that fits.
    let fits = 0
    let over = ids.length
    if (size !== undefined) {
      const fit = async (n: number): Promise<boolean> => await size(start, endOf(n)) <= this.#settings.rangeBytes
      for (let step = 1; fits + step < over; step *= 2) {
        if (await fit(fits + step)) fits += step
        else over = fits + step
      }
      while (over - fits > 1) {
        const mid = (fits + over) >>> 1
        if (await fit(mid)) fits = mid
        else over = mid
      }
    }
    // Only a lone segment can be over rangeBytes: its pieces each take a step.
    for await (const piece of this.#pieces(start, endOf(fits), 0)) this.#queue.push(piece)
    this.#planned = ids.slice(0, fits + 1)
  }

  /** Pieces of [start, end) of at most rangeBytes each, as LevelDB estimates, halving those over it. */
  async * #pieces (start: Buffer, end: Buffer, depth: number): AsyncGenerator<[Buffer, Buffer]> {
    const bytes = this.#db.approximateSize === undefined ? 0 : await this.#db.approximateSize(start, end)
    // An empty half needs no compaction: any other range flushes the memtable.
    if (bytes === 0 && depth > 0) return
    const mid = bytes > this.#settings.rangeBytes && depth < 64 ? midpoint(start, end) : undefined
    if (mid === undefined) {
      yield [start, end]
      return
    }
    yield * this.#pieces(start, mid, depth + 1)
    yield * this.#pieces(mid, end, depth + 1)
  }

  #forget (ids: string[]): void {
    for (const id of ids) {
      this.#stats.reclaimableBytes -= this.#freed.get(id) ?? 0
      this.#freed.delete(id)
    }
  }

  async #exclusive<T> (fn: () => Promise<T>): Promise<T> {
    while (this.#busy !== undefined) await this.#busy.catch(() => {})
    const run = fn()
    this.#busy = run
    try {
      return await run
    } finally {
      if (this.#busy === run) this.#busy = undefined
    }
  }
}
