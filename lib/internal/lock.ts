/**
 * Per-name mutual exclusion inside one process. LevelDB admits one process per store, so an
 * in-process lock is enough to serialise the read-check-write step of commits on one object.
 */
export class KeyedLock {
  #tails = new Map<string, Promise<void>>()

  async run<T> (name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(name)
    let release!: () => void
    const mine = new Promise<void>(resolve => { release = resolve })
    const tail = previous === undefined ? mine : previous.then(() => mine)
    this.#tails.set(name, tail)
    if (previous !== undefined) await previous
    try {
      return await fn()
    } finally {
      release()
      if (this.#tails.get(name) === tail) this.#tails.delete(name)
    }
  }
}
