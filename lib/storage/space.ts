/**
 * What the store holds, counted as it changes: the live bytes (sizes of every version and part)
 * and the chunk ranges that deletes free, which go to the compactor. One `write` listener on the
 * database sees every committed batch, whoever built it (a delete, an overwrite, a lifecycle
 * expiry, an aborted upload), so no path has to remember to count: a batch op that takes bytes away
 * carries their number (`frees`). Bytes arrive with a new version (commit.ts asks `freshBytes`) or
 * with a part, whose batch ends its segment's pending mark. Nothing is read or written for it.
 * The same listener hands the segment files a batch marks dead to be unlinked (storage/files.ts).
 */
import type { AnyLevel, Sublevels } from '../schema/keys.js'
import { ID_LENGTH, SPACE_KEY } from '../schema/keys.js'
import { decodeHead, type ObjectHead, type PartRecord, type SpaceRecord } from '../schema/records.js'
import type { StoreStats } from '../types.js'
import { Compactor, leveldbOf, type CompactionSettings, type Quiet } from './compactor.js'
import { directorySize } from './disk.js'
import type { SegmentFiles } from './files.js'

/** The property a batch op carries when it takes live bytes away with it. */
const FREES = 'spaceboxFrees'

/**
 * `op`, marked as taking `bytes` of live data away when its batch commits: the first chunk
 * delete of a segment (its size), or the index delete of an inline version (the record's bytes).
 * abstract-level passes such userland properties through to the `write` event.
 */
export function frees<T extends object> (op: T, bytes: number): T {
  return bytes > 0 ? Object.assign(op, { [FREES]: bytes }) : op
}

/**
 * A key or value as the `write` event gives it: a string, or bytes (memory-level encodes utf8
 * sublevels' keys as views). The prefixes looked for, and what is read of part records, are ASCII.
 */
function text (data: unknown): string {
  if (typeof data === 'string') return data
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1')
  return ''
}

/** An operation as the `write` event gives it: fully qualified key, encoded value. */
interface WrittenOp {
  type: 'put' | 'del'
  key: unknown
  value?: unknown
  [FREES]?: number
}

export class Space {
  readonly #root: AnyLevel
  readonly #sub: Sublevels
  readonly #stats: StoreStats
  readonly #chunks: string
  readonly #pendingPrefix: string
  readonly #partsPrefix: string
  readonly #deadPrefix: string
  readonly #files: SegmentFiles | undefined
  readonly #location: string | undefined
  readonly #compactor: Compactor | undefined
  /** Live bytes at open (counted, or saved at the last clean close); undefined while counting. */
  #base: number | undefined
  /** Change since open. */
  #delta = 0
  /** Segments being written: their bytes become live when the commit deletes their pending mark. */
  readonly #pending = new Set<string>()
  #lastWrite = performance.now()
  #counting: Promise<void> | undefined
  /** A batch could not be counted: the live bytes stay unknown (and unsaved) until the next open counts them. */
  #lost = false
  #closed = false

  private constructor (sub: Sublevels, stats: StoreStats, settings: CompactionSettings, quiet: Quiet, files: SegmentFiles | undefined) {
    this.#sub = sub
    this.#root = sub.chunks.db as AnyLevel
    this.#stats = stats
    this.#chunks = sub.chunks.prefix
    this.#pendingPrefix = sub.pending.prefix
    this.#partsPrefix = sub.parts.prefix
    this.#deadPrefix = sub.dead.prefix
    this.#files = files
    const location = (this.#root as { location?: unknown }).location
    this.#location = typeof location === 'string' ? location : undefined
    const leveldb = leveldbOf(this.#root)
    this.#compactor = leveldb === undefined
      ? undefined
      : new Compactor(leveldb, sub, stats, settings, () => Math.min(quiet(), performance.now() - this.#lastWrite))
    this.#root.on('write', this.#onWrite)
  }

  /**
   * Start counting. Live bytes come from the record a clean close saved (removed at once, so that
   * a crash forces a count), or are counted in the background from a snapshot taken now, while no
   * write is under way: every later write is in the delta, every earlier one in the snapshot.
   */
  static async open (sub: Sublevels, stats: StoreStats, isNew: boolean, settings: CompactionSettings, quiet: Quiet, files?: SegmentFiles): Promise<Space> {
    const saved = await sub.meta.get(SPACE_KEY) as SpaceRecord | undefined
    if (saved !== undefined) await sub.meta.del(SPACE_KEY)
    const space = new Space(sub, stats, settings, quiet, files)
    if (isNew) space.#base = 0
    else if (typeof saved?.liveBytes === 'number') space.#base = saved.liveBytes
    else space.#counting = space.#recount()
    return space
  }

  /** Live bytes, if known yet. */
  get liveBytes (): number | undefined {
    return this.#base === undefined || this.#lost ? undefined : this.#base + this.#delta
  }

  /**
   * Size of the database's directory and its segment files, for a store on disk: a readdir and a
   * stat per file (LevelDB keeps about one per 2 MiB; a segment file holds a large object or part).
   */
  get bytesOnDisk (): number | undefined {
    return this.#location === undefined ? undefined : directorySize(this.#location) + (this.#files === undefined ? 0 : directorySize(this.#files.dir))
  }

  /** The database can compact (classic-level); memory-level and others cannot, and compaction does nothing. */
  get compacts (): boolean {
    return this.#compactor !== undefined
  }

  /**
   * Bytes a commit about to be written makes live: an inline body, or the segments written for it
   * and still pending (a completed upload's segments were counted as parts already).
   */
  freshBytes (head: ObjectHead, inline: Buffer | undefined): number {
    if (inline !== undefined) return head.size
    let bytes = 0
    for (const segment of head.segments ?? []) if (this.#pending.has(segment.id)) bytes += segment.size
    return bytes
  }

  /** Count bytes a commit made live, once it is written. */
  add (bytes: number): void {
    this.#delta += bytes
  }

  /** Compact the whole store, one bounded range at a time; `stop` is asked between ranges. Returns the ranges compacted. */
  async compactAll (stop: () => boolean): Promise<number> {
    return this.#compactor === undefined ? 0 : await this.#compactor.compactAll(stop)
  }

  /**
   * Stop compacting and counting, and save the live bytes when `save` (no call is under way that
   * could still change them) and they are known; the next open then needs no count.
   */
  async close (save: boolean): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#compactor?.close()
    await this.#counting
    this.#root.off('write', this.#onWrite)
    const liveBytes = this.liveBytes
    // Best effort: without the record, the next open counts again.
    if (save && liveBytes !== undefined) await this.#sub.meta.put(SPACE_KEY, { v: 1, liveBytes } satisfies SpaceRecord).catch(() => {})
  }

  readonly #onWrite = (ops: WrittenOp[]): void => {
    this.#lastWrite = performance.now()
    // The batch is written: a throw here would fail it all the same, so nothing may escape.
    try {
      this.#tally(ops)
    } catch {
      this.#lost = true
    }
  }

  #tally (ops: WrittenOp[]): void {
    let committed: Set<string> | undefined
    let parts: unknown[] | undefined
    for (const op of ops) {
      const freed = op[FREES]
      const key = text(op.key)
      if (op.type === 'put' && this.#files !== undefined && key.startsWith(this.#deadPrefix)) {
        const id = key.slice(this.#deadPrefix.length)
        // A store closed first keeps the mark: its next open unlinks the file.
        this.#files.release(id, () => { this.#sub.dead.del(id).catch(() => {}) })
      }
      if (freed !== undefined) {
        this.#delta -= freed
        if (key.startsWith(this.#chunks)) this.#compactor?.freed(key.slice(this.#chunks.length, this.#chunks.length + ID_LENGTH), freed)
        continue
      }
      if (key.startsWith(this.#pendingPrefix)) {
        const id = key.slice(this.#pendingPrefix.length)
        if (op.type === 'put') this.#pending.add(id)
        else if (this.#pending.delete(id)) (committed ??= new Set()).add(id)
      } else if (op.type === 'put' && key.startsWith(this.#partsPrefix)) {
        (parts ??= []).push(op.value)
      }
    }
    // A part is committed in the batch that ends its segment's pending mark; a discarded segment's mark goes alone.
    if (committed !== undefined && parts !== undefined) {
      for (const value of parts) {
        const record = JSON.parse(text(value)) as PartRecord
        if (committed.has(record.segment.id)) this.#delta += record.segment.size
      }
    }
  }

  /** Sum the sizes of every version and part, from a snapshot taken before any write of this session. */
  async #recount (): Promise<void> {
    const snapshot = this.#root.snapshot()
    try {
      let total = 0
      for (const sublevel of [this.#sub.objects, this.#sub.versions]) {
        for await (const value of sublevel.values({ snapshot })) {
          if (this.#closed) return
          total += decodeHead(value).head.size
        }
      }
      for await (const value of this.#sub.parts.values({ snapshot })) {
        if (this.#closed) return
        total += (value as PartRecord).size
      }
      this.#base = total
    } catch {
      // Cut short by closing or by a storage failure: the live bytes stay unknown, and the next open counts again.
    } finally {
      await snapshot.close()
    }
  }
}
