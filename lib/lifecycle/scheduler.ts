/**
 * When lifecycle passes run: every `interval` ms in the background (0: never), and on demand. One
 * pass at a time, so an on-demand pass reports everything due at its start, never a half shared
 * with a background pass. Closing stops a pass at its next slice and waits for it.
 */
import type { ApplyLifecycleOptions, LifecycleResult } from './types.js'

export type RunPass = (options: ApplyLifecycleOptions & { collect: boolean, stopping: () => boolean }) => Promise<LifecycleResult>

// The first background pass comes soon after open (a store opened after a day off catches up),
// but not in the middle of opening work.
const FIRST_PASS_MS = 5000

export class LifecycleScheduler {
  readonly #run: RunPass
  readonly #interval: number
  #timer: NodeJS.Timeout | undefined
  #queue: Promise<unknown> = Promise.resolve()
  #stopped = false

  constructor (run: RunPass, interval: number) {
    this.#run = run
    this.#interval = interval
  }

  start (): void {
    if (this.#interval > 0) this.#schedule(Math.min(this.#interval, FIRST_PASS_MS))
  }

  /** A pass now, after any under way; what it expired. */
  async run (options: ApplyLifecycleOptions): Promise<LifecycleResult> {
    return await this.#enqueue(async () => await this.#run({ ...options, collect: true, stopping: () => this.#stopped }))
  }

  /** No more passes; the one under way stops at its next slice. Resolves when it has. */
  async stop (): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#queue.catch(() => {})
  }

  #schedule (delay: number): void {
    // Unref'd: a store left open does not keep the process alive for its lifecycle.
    this.#timer = setTimeout(() => {
      this.#enqueue(async () => await this.#run({ collect: false, stopping: () => this.#stopped }))
        .catch(err => { if (!this.#stopped) process.emitWarning(err as Error, 'SpaceboxLifecycleWarning') })
        .finally(() => { if (!this.#stopped) this.#schedule(this.#interval) })
    }, delay)
    this.#timer.unref()
  }

  async #enqueue<T> (fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn)
    this.#queue = next.catch(() => {})
    return await next
  }
}
