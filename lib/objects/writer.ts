import { SpaceboxError } from '../errors.js'
import { chunkKey, segmentRange } from '../schema/keys.js'
import type { Segment } from '../schema/records.js'
import type { FileHandle } from 'node:fs/promises'
import type { Context } from '../context.js'
import type { Digests } from '../internal/checksums.js'
import { newId } from '../internal/ids.js'
import type { ObjectCipher } from '../crypto/object-cipher.js'

/** Where a written body ended up: inline bytes, or one segment of chunks. */
export type Written = { size: number, inline: Buffer, segment?: undefined } | { size: number, inline?: undefined, segment: Segment }

/**
 * Cuts a byte stream into fixed-size chunks and stores them under a fresh segment id, hashing as
 * the bytes pass. A body no larger than the inline threshold never touches the chunks sublevel.
 * The first chunk is written together with a `pending` marker, so that a crash before the
 * object's record points at the segment leaves a trace that the sweep at open removes. A body of
 * a chunk or more, in a store with segment files, goes to a file instead, created after the
 * marker. One chunk write is kept in flight while the next chunk fills.
 */
export class SegmentWriter {
  readonly #ctx: Context
  readonly #digests: Digests
  readonly #limit: number
  readonly #inline: boolean
  readonly #cipher: ObjectCipher | undefined
  #pieces: Uint8Array[] = []
  #buffered = 0
  #size = 0
  #segmentId: string | undefined
  #index = 0
  #inflight: Promise<void> | undefined
  #failure: unknown
  /** The segment's file, and where the next chunk goes in it. */
  #file: FileHandle | undefined
  #position = 0
  /** Bytes a whole stored chunk takes in the file. */
  #stride: number | undefined

  /**
   * `inline: false` always yields a segment (multipart parts, whose chunks outlive their record).
   * With a `cipher`, what is stored is sealed; what is hashed is the plaintext.
   */
  constructor (ctx: Context, digests: Digests, limit: number, inline = true, cipher?: ObjectCipher) {
    this.#ctx = ctx
    this.#digests = digests
    this.#limit = limit
    this.#inline = inline
    this.#cipher = cipher
  }

  async write (data: Uint8Array): Promise<void> {
    if (data.length === 0) return
    this.#size += data.length
    if (this.#size > this.#limit) {
      throw new SpaceboxError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size', {
        detail: { maxSizeAllowed: this.#limit }
      })
    }
    this.#digests.update(data)
    this.#pieces.push(data)
    this.#buffered += data.length
    const chunkSize = this.#ctx.chunkSize
    // Only past a whole chunk: the last is written at the end.
    while (this.#buffered > chunkSize) await this.#flush(this.#take(chunkSize))
  }

  /** Store what is left and return where the body is. */
  async end (): Promise<Written> {
    if (this.#inline && this.#segmentId === undefined && this.#size <= this.#ctx.inlineThreshold) {
      const bytes = this.#take(this.#buffered)
      return { size: this.#size, inline: this.#cipher === undefined ? bytes : this.#cipher.sealInline(bytes) }
    }
    if (this.#buffered > 0) await this.#flush(this.#take(this.#buffered))
    await this.#settle()
    // An empty segment has no chunk and so no pending marker: nothing to sweep.
    const id = this.#segmentId ?? newId()
    const segment: Segment = { id, size: this.#size, chunkSize: this.#ctx.chunkSize }
    if (this.#file !== undefined) {
      const file = this.#file
      this.#file = undefined
      try {
        if ((this.#ctx.write as { sync?: boolean }).sync === true) await file.datasync()
      } finally {
        await file.close()
      }
      segment.file = this.#stride as number
    }
    return { size: this.#size, segment }
  }

  /** Remove whatever this writer stored. Safe to call at any point, more than once. */
  async discard (): Promise<void> {
    await this.#inflight?.catch(() => {})
    await this.#file?.close().catch(() => {})
    this.#file = undefined
    const id = this.#segmentId
    if (id === undefined) return
    this.#segmentId = undefined
    await discardSegment(this.#ctx, id)
  }

  #take (length: number): Buffer {
    let out: Buffer
    const first = this.#pieces[0]
    if (first !== undefined && first.length === length) {
      this.#pieces.shift()
      out = Buffer.from(first.buffer, first.byteOffset, first.byteLength)
    } else {
      out = Buffer.allocUnsafe(length)
      let filled = 0
      while (filled < length) {
        const piece = this.#pieces[0] as Uint8Array
        const need = length - filled
        if (piece.length <= need) {
          out.set(piece, filled)
          filled += piece.length
          this.#pieces.shift()
        } else {
          out.set(piece.subarray(0, need), filled)
          this.#pieces[0] = piece.subarray(need)
          filled = length
        }
      }
    }
    this.#buffered -= length
    return out
  }

  /** Store a chunk. A body whose first chunk is whole (a chunk or more) is a file, where there are files. */
  async #flush (chunk: Buffer): Promise<void> {
    await this.#settle()
    const { chunks, pending } = this.#ctx.sub
    const index = this.#index++
    const first = this.#segmentId === undefined
    const id = this.#segmentId ??= newId()
    const stored = this.#cipher === undefined ? chunk : this.#cipher.sealChunk(id, index, chunk)
    const files = this.#ctx.files
    if (first && chunk.length === this.#ctx.chunkSize && files?.writing === true) {
      // The mark first, as durable as a commit: a crash after the file exists must find it.
      await pending.put(id, String(Date.now()), this.#ctx.write)
      this.#file = await files.create(id)
      this.#stride = stored.length
    }
    let write: Promise<unknown>
    if (this.#file !== undefined) {
      write = this.#file.write(stored, 0, stored.length, this.#position)
      this.#position += stored.length
    } else {
      write = first
        ? this.#ctx.db.batch([
          { type: 'put', sublevel: pending, key: id, value: String(Date.now()) },
          { type: 'put', sublevel: chunks, key: chunkKey(id, index), value: stored }
        ])
        : chunks.put(chunkKey(id, index), stored)
    }
    this.#inflight = write.then(() => {}, err => { this.#failure = err })
  }

  async #settle (): Promise<void> {
    await this.#inflight
    this.#inflight = undefined
    if (this.#failure !== undefined) throw this.#failure
  }
}

/** Delete a segment's chunks (or file), then its pending marker (so a crash in between is swept later). */
export async function discardSegment (ctx: Context, id: string): Promise<void> {
  await ctx.sub.chunks.clear(segmentRange(id))
  await ctx.files?.remove(id)
  await ctx.sub.pending.del(id)
}
