/**
 * Segment files: in a store spacebox opens on disk, a segment of more than one chunk (a large
 * object, a multipart part) is one file, `<location>/blobs/<segment id>`, its chunks written once
 * and in order, instead of going through LevelDB's log, memtable and compactions. LevelDB keeps
 * the records that point at them, and the marks that make them safe:
 *
 * - a file is created only after its segment's `pending` mark is written, so the sweep at open
 *   finds a file that no record references (a crash mid-write) and removes it;
 * - a delete writes a `dead` mark in the batch that drops the last record of the segment; the file
 *   is unlinked once that batch is written and every read that began before it has ended (an open
 *   snapshot could still read it), then the mark goes. A crash between leaves the mark, which the
 *   next open finishes.
 */
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { SpaceboxError } from '../errors.js'

export class SegmentFiles {
  readonly dir: string
  /** Reads under way, by the epoch they began in. */
  readonly #readers = new Map<number, number>()
  /** Files to unlink once the reads that began before `epoch` have ended. */
  #dying: Array<{ epoch: number, id: string, done: () => void }> = []
  #epoch = 0
  /** Bodies reading files: a database close ends chunk reads, and `close()` ends these alike. */
  readonly #bodies = new Set<Readable>()

  /** New segments of more than a chunk are written as files (else as chunks, and only read here). */
  readonly writing: boolean

  constructor (location: string, writing: boolean) {
    this.dir = join(location, 'blobs')
    this.writing = writing
  }

  async open (): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
  }

  path (id: string): string {
    return join(this.dir, id)
  }

  /** A new segment's file, for writing (it must not exist). */
  async create (id: string): Promise<FileHandle> {
    return await open(this.path(id), 'wx', 0o600)
  }

  /** Remove a segment's file now; no error if it is gone. */
  async remove (id: string): Promise<void> {
    await rm(this.path(id), { force: true })
  }

  /**
   * A read begins: files deleted from now on outlive it. Returns its end (idempotent), to call
   * when its snapshot closes.
   */
  reading (): () => void {
    const epoch = this.#epoch
    this.#readers.set(epoch, (this.#readers.get(epoch) ?? 0) + 1)
    let ended = false
    return () => {
      if (ended) return
      ended = true
      const left = (this.#readers.get(epoch) as number) - 1
      if (left === 0) this.#readers.delete(epoch)
      else this.#readers.set(epoch, left)
      this.#reap()
    }
  }

  /** A segment's last record is gone: unlink its file once no earlier read can need it, then `done`. */
  release (id: string, done: () => void): void {
    this.#dying.push({ epoch: ++this.#epoch, id, done })
    this.#reap()
  }

  /** A body that reads segment files, ended by `close()` if still open then. */
  track (body: Readable): void {
    this.#bodies.add(body)
    body.once('close', () => { this.#bodies.delete(body) })
  }

  /** The store is closing: every body still reading files ends with NotOpen, as chunk reads do. */
  close (): void {
    for (const body of this.#bodies) body.destroy(new SpaceboxError('NotOpen', 'The store is not open'))
    this.#bodies.clear()
  }

  #reap (): void {
    let oldest = Infinity
    for (const epoch of this.#readers.keys()) oldest = Math.min(oldest, epoch)
    const ready = this.#dying.filter(d => d.epoch <= oldest)
    if (ready.length === 0) return
    this.#dying = this.#dying.filter(d => d.epoch > oldest)
    for (const { id, done } of ready) this.remove(id).then(done, () => {})
  }
}
