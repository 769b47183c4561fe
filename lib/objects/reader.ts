import { Readable } from 'node:stream'
import type { AbstractSnapshot } from 'abstract-level'
import { SpaceboxError } from '../errors.js'
import { chunkKey } from '../schema/keys.js'
import type { Segment } from '../schema/records.js'
import type { Context } from '../context.js'
import type { ByteRange } from '../types.js'
import type { StoredObject } from './heads.js'

/**
 * A Readable of bytes `range` (inclusive) of a stored object. Chunked objects are read through
 * `snapshot`, taken when the record was read, so an overwrite that commits meanwhile cannot tear
 * the stream; the snapshot is released when the stream closes, however it ends.
 */
export function openBody (ctx: Context, stored: StoredObject, range: ByteRange | undefined, snapshot: AbstractSnapshot | undefined): Readable {
  const size = stored.head.size
  const start = range?.start ?? 0
  const end = range?.end ?? size - 1
  const source = stored.inline !== undefined
    ? (size === 0 ? [] : [stored.inline.subarray(start, end + 1)])
    : readSegments(ctx, stored.head.segments ?? [], start, end, snapshot)
  const body = Readable.from(source, { objectMode: false })
  if (snapshot !== undefined) body.once('close', () => { snapshot.close().catch(() => {}) })
  return body
}

async function * readSegments (ctx: Context, segments: Segment[], start: number, end: number, snapshot: AbstractSnapshot | undefined): AsyncGenerator<Buffer> {
  let base = 0
  for (const segment of segments) {
    const segmentEnd = base + segment.size
    if (segmentEnd > start && base <= end) {
      yield * readSegment(ctx, segment, Math.max(start, base) - base, Math.min(end + 1, segmentEnd) - base, snapshot)
    }
    base = segmentEnd
    if (base > end) break
  }
}

/** Bytes [from, to) of one segment, reading only the chunks they fall in. */
async function * readSegment (ctx: Context, segment: Segment, from: number, to: number, snapshot: AbstractSnapshot | undefined): AsyncGenerator<Buffer> {
  const { chunkSize } = segment
  const first = Math.floor(from / chunkSize)
  const last = Math.floor((to - 1) / chunkSize)
  const options = { gte: chunkKey(segment.id, first), lte: chunkKey(segment.id, last), ...(snapshot === undefined ? {} : { snapshot }) }
  let index = first
  for await (const [key, chunk] of ctx.sub.chunks.iterator(options)) {
    const offset = index * chunkSize
    const expected = Math.min(chunkSize, segment.size - offset)
    if (key !== chunkKey(segment.id, index) || chunk.length !== expected) throw damaged(segment, index)
    const sliceStart = Math.max(from - offset, 0)
    const sliceEnd = Math.min(to - offset, chunk.length)
    yield sliceStart === 0 && sliceEnd === chunk.length ? chunk : chunk.subarray(sliceStart, sliceEnd)
    index++
  }
  if (index !== last + 1) throw damaged(segment, index)
}

function damaged (segment: Segment, index: number): SpaceboxError {
  return new SpaceboxError('InternalError', `Stored data is damaged: chunk ${index} of segment ${segment.id} is missing or has the wrong size`)
}
