import { SpaceboxError, fromStorageError } from '../errors.js'
import type { StoreStatus } from '../types.js'

/**
 * A store's lifecycle, shared by every public entry point (the store's methods and `box.keys`):
 * calls start only while it is open (NotOpen otherwise), calls under way are counted so that
 * closing can wait for them, and their storage errors are translated to SpaceboxErrors.
 */
export class Gate {
  #status: StoreStatus = 'open'
  readonly #inflight = new Set<Promise<unknown>>()
  /** When the last call ended (performance.now()): background work waits for quiet. */
  #lastCall = 0

  get status (): StoreStatus {
    return this.#status
  }

  /** A call is under way. */
  get busy (): boolean {
    return this.#inflight.size > 0
  }

  /** Milliseconds since the last call ended; 0 while one is under way. */
  quietFor (): number {
    return this.#inflight.size > 0 ? 0 : performance.now() - this.#lastCall
  }

  assertOpen (): void {
    if (this.#status !== 'open') throw new SpaceboxError('NotOpen', 'The store is not open')
  }

  /** Run a call: counted while under way (close waits for it), its storage errors translated. */
  async run<T> (fn: () => Promise<T>): Promise<T> {
    const call = fn()
    this.#inflight.add(call)
    try {
      return await call
    } catch (err) {
      throw fromStorageError(err)
    } finally {
      this.#inflight.delete(call)
      this.#lastCall = performance.now()
    }
  }

  /**
   * Refuse new calls, give those under way up to `timeout` ms, then run `release` (close the
   * database). Does nothing if it is closing or closed already.
   */
  async close (timeout: number, release: () => Promise<void>): Promise<void> {
    if (this.#status !== 'open') return
    this.#status = 'closing'
    try {
      if (this.#inflight.size > 0) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([
          Promise.allSettled(this.#inflight),
          new Promise(resolve => { timer = setTimeout(resolve, timeout) })
        ])
        clearTimeout(timer)
      }
      await release()
    } finally {
      this.#status = 'closed'
    }
  }
}
