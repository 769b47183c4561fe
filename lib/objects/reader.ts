import { open, type FileHandle } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { AbstractSnapshot } from 'abstract-level'
import { SpaceboxError, fromStorageError } from '../errors.js'
import { chunkKey } from '../schema/keys.js'
import type { Segment } from '../schema/records.js'
import type { Context } from '../context.js'
import type { ByteRange } from '../types.js'
import type { StoredObject } from './heads.js'
import type { ObjectCipher } from '../crypto/object-cipher.js'
import type { SegmentFiles } from '../storage/files.js'

/**
 * A Readable of bytes `range` (inclusive) of a chunked object, read through `snapshot`, taken
 * when the record was read, so an overwrite that commits meanwhile cannot tear the stream. The
 * snapshot is released when the stream closes, however it ends.
 */
export function openBody (ctx: Context, stored: StoredObject, range: ByteRange | undefined, snapshot: AbstractSnapshot, cipher: ObjectCipher | undefined): Readable {
  const start = range?.start ?? 0
  const end = range?.end ?? stored.head.size - 1
  const body = Readable.from(readSegments(ctx, stored.head.segments ?? [], start, end, snapshot, cipher), { objectMode: false })
  body.once('close', () => { snapshot.close().catch(() => {}) })
  if (stored.head.segments?.some(segment => segment.file !== undefined) === true) segmentFiles(ctx).track(body)
  return body
}

/**
 * A snapshot to read chunks under: while it is open, no segment file that it can see is unlinked
 * (storage/files.ts). Close it as any snapshot.
 */
export function readingSnapshot (ctx: Context): AbstractSnapshot {
  const snapshot = ctx.db.snapshot()
  const ended = ctx.files?.reading()
  if (ended !== undefined) {
    const close = snapshot.close.bind(snapshot)
    snapshot.close = async () => {
      ended()
      await close()
    }
  }
  return snapshot
}

/** The bytes `range` of any stored object, read under `snapshot` (released here if not needed). */
export function storedBody (ctx: Context, stored: StoredObject, range: ByteRange | undefined, snapshot: AbstractSnapshot, cipher: ObjectCipher | undefined): Readable {
  if (stored.inline === undefined) return openBody(ctx, stored, range, snapshot, cipher)
  snapshot.close().catch(() => {})
  return bytesBody(inlineBytes(stored.inline, cipher).subarray(range?.start ?? 0, (range?.end ?? stored.head.size - 1) + 1))
}

/** The plaintext of inline bytes. */
export function inlineBytes (inline: Buffer, cipher: ObjectCipher | undefined): Buffer {
  return cipher === undefined ? inline : cipher.openInline(inline)
}

/** A Readable of bytes already in hand: far cheaper to make than Readable.from. */
export function bytesBody (bytes: Buffer): Readable {
  const body = new Readable({ read () {} })
  if (bytes.length > 0) body.push(bytes)
  body.push(null)
  return body
}

/** Where bytes [start, end] lie, if all in one chunk: the chunk, and the slice of it. */
export function oneChunk (segments: Segment[], start: number, end: number): { segment: Segment, index: number, from: number, to: number } | undefined {
  let base = 0
  for (const segment of segments) {
    if (start < base + segment.size) {
      const index = Math.floor((start - base) / segment.chunkSize)
      const offset = base + index * segment.chunkSize
      if (end >= base + segment.size || end >= offset + segment.chunkSize) return undefined
      return { segment, index, from: start - offset, to: end - offset + 1 }
    }
    base += segment.size
  }
  // No byte at all (an empty object): an empty slice of nothing.
  return undefined
}

/** One chunk, checked for its expected size; undefined if it is not there. */
export async function readChunk (ctx: Context, segment: Segment, index: number, cipher: ObjectCipher | undefined): Promise<Buffer | undefined> {
  if (segment.file !== undefined) {
    // Gone (deleted since its record was read): the caller reads the record again.
    const file = await openSegmentFile(ctx, segment)
    if (file === undefined) return undefined
    try {
      return plainChunk(segment, index, await fileChunk(file, segment, index), cipher)
    } finally {
      await file.close()
    }
  }
  const stored = await ctx.sub.chunks.get(chunkKey(segment.id, index))
  return stored === undefined ? undefined : plainChunk(segment, index, stored, cipher)
}

/** A segment's file, open for reading; undefined if it is gone. */
async function openSegmentFile (ctx: Context, segment: Segment): Promise<FileHandle | undefined> {
  try {
    return await open(segmentFiles(ctx).path(segment.id), 'r')
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined
    throw err
  }
}

/** The files of a store; a segment file in a store opened without them cannot be read. */
function segmentFiles (ctx: Context): SegmentFiles {
  if (ctx.files === undefined) throw new SpaceboxError('InternalError', 'This object is stored in a segment file: open the store by its location to read it')
  return ctx.files
}

/** Chunk `index` of a segment file as stored (sealed, if encrypted). */
async function fileChunk (file: FileHandle, segment: Segment, index: number): Promise<Buffer> {
  const stride = segment.file as number
  const plain = Math.min(segment.chunkSize, segment.size - index * segment.chunkSize)
  const length = plain + stride - segment.chunkSize
  const out = Buffer.allocUnsafe(length)
  const { bytesRead } = await file.read(out, 0, length, index * stride)
  return bytesRead === length ? out : out.subarray(0, bytesRead)
}

/** A stored chunk opened (if sealed) and checked for its expected size. */
function plainChunk (segment: Segment, index: number, stored: Buffer, cipher: ObjectCipher | undefined): Buffer {
  const chunk = cipher === undefined ? stored : cipher.openChunk(segment.id, index, stored)
  if (chunk.length !== Math.min(segment.chunkSize, segment.size - index * segment.chunkSize)) throw damaged(segment, index)
  return chunk
}

/** The chunks of bytes [start, end]; a storage failure (the store closing) surfaces as a SpaceboxError. */
async function * readSegments (ctx: Context, segments: Segment[], start: number, end: number, snapshot: AbstractSnapshot, cipher: ObjectCipher | undefined): AsyncGenerator<Buffer> {
  let base = 0
  try {
    for (const segment of segments) {
      const segmentEnd = base + segment.size
      if (segmentEnd > start && base <= end) {
        yield * readSegment(ctx, segment, Math.max(start, base) - base, Math.min(end + 1, segmentEnd) - base, snapshot, cipher)
      }
      base = segmentEnd
      if (base > end) break
    }
  } catch (err) {
    throw fromStorageError(err)
  }
}

/** Bytes [from, to) of one segment, reading only the chunks they fall in. */
async function * readSegment (ctx: Context, segment: Segment, from: number, to: number, snapshot: AbstractSnapshot, cipher: ObjectCipher | undefined): AsyncGenerator<Buffer> {
  const { chunkSize } = segment
  const first = Math.floor(from / chunkSize)
  let index = first
  for await (const stored of storedChunks(ctx, segment, first, Math.floor((to - 1) / chunkSize), snapshot)) {
    const offset = index * chunkSize
    const chunk = plainChunk(segment, index++, stored, cipher)
    const sliceStart = Math.max(from - offset, 0)
    const sliceEnd = Math.min(to - offset, chunk.length)
    yield sliceStart === 0 && sliceEnd === chunk.length ? chunk : chunk.subarray(sliceStart, sliceEnd)
  }
}

/** Chunks `first`..`last` of a segment as stored, in order, from its file or its chunk records. */
async function * storedChunks (ctx: Context, segment: Segment, first: number, last: number, snapshot: AbstractSnapshot): AsyncGenerator<Buffer> {
  if (segment.file !== undefined) {
    // The snapshot's read keeps the file from being unlinked until it closes (storage/files.ts).
    const file = await openSegmentFile(ctx, segment)
    if (file === undefined) throw damaged(segment, first)
    // One chunk read ahead while the last one is consumed.
    let next: Promise<Buffer> | undefined = fileChunk(file, segment, first)
    try {
      for (let index = first; index <= last; index++) {
        const stored = await (next as Promise<Buffer>)
        next = index < last ? fileChunk(file, segment, index + 1) : undefined
        yield stored
      }
    } finally {
      await next?.catch(() => {})
      await file.close()
    }
    return
  }
  // The limit spares the iterator one read past the last chunk.
  const options = { gte: chunkKey(segment.id, first), lte: chunkKey(segment.id, last), limit: last - first + 1, snapshot }
  let index = first
  for await (const [key, stored] of ctx.sub.chunks.iterator(options)) {
    if (key !== chunkKey(segment.id, index)) throw damaged(segment, index)
    index++
    yield stored
  }
  if (index !== last + 1) throw damaged(segment, index)
}

export function damaged (segment: Segment, index: number): SpaceboxError {
  return new SpaceboxError('InternalError', `Stored data is damaged: chunk ${index} of segment ${segment.id} is missing or has the wrong size`)
}
