import { SpaceboxError } from '../errors.js'
import type { ObjectHead } from '../schema/records.js'
import type { ByteRange, GetObjectOptions } from '../types.js'

const RANGE = /^bytes=(\d*)-(\d*)$/

/**
 * Resolve a requested range against an object's size. Returns undefined for "the whole object":
 * no range, or one S3 ignores (another unit, several ranges, garbage, first > last). A range
 * that selects no byte of the object throws InvalidRange.
 */
export function resolveRange (range: GetObjectOptions['range'], size: number, where: { bucket: string, key: string }): ByteRange | undefined {
  if (range === undefined) return undefined
  let start: number
  let end: number
  if (typeof range === 'string') {
    const m = RANGE.exec(range.trim())
    if (m === null) return undefined
    const [, first = '', last = ''] = m
    if (first === '' && last === '') return undefined
    if (first === '') {
      // Suffix range: the last N bytes.
      const length = Number(last)
      if (length === 0) throw unsatisfiable(size, where)
      start = Math.max(0, size - length)
      end = size - 1
    } else {
      start = Number(first)
      end = last === '' ? Infinity : Number(last)
      if (end < start) return undefined
    }
  } else {
    start = range.start
    end = range.end ?? Infinity
    if (!Number.isSafeInteger(start) || start < 0 || (end !== Infinity && (!Number.isSafeInteger(end) || end < start))) {
      throw new SpaceboxError('InvalidArgument', 'A range needs 0 <= start <= end, as integers', where)
    }
  }
  if (start >= size) throw unsatisfiable(size, where)
  return { start, end: Math.min(end, size - 1) }
}

function unsatisfiable (size: number, where: { bucket: string, key: string }): SpaceboxError {
  return new SpaceboxError('InvalidRange', 'The requested range is not satisfiable', { ...where, detail: { actualObjectSize: size } })
}

/**
 * How many parts a multipart object has: the N of its `-N` ETag, whose parts are its segments in
 * order. Undefined for any other object (a copy of a multipart object is one: its ETag is plain).
 */
export function partsCount (head: ObjectHead): number | undefined {
  const dash = head.etag.lastIndexOf('-')
  if (dash < 0) return undefined
  const count = Number(head.etag.slice(dash + 1))
  return count === head.segments?.length ? count : undefined
}

/**
 * The bytes of part `partNumber`: the N-th part of a multipart object, counted in the order it was
 * completed (as the SDKs' parallel downloaders count, from 1 to the parts count), or the whole of
 * any other object as its part 1. `end < start` for an empty part. InvalidPartNumber past the
 * last part; `partNumber` is known to be 1..10000.
 */
export function partRange (head: ObjectHead, partNumber: number, where: { bucket: string, key: string }): ByteRange {
  const count = partsCount(head)
  if (partNumber > (count ?? 1)) {
    throw new SpaceboxError('InvalidPartNumber', 'The requested partnumber is not satisfiable', {
      ...where, detail: { partNumberRequested: partNumber, actualPartCount: count ?? 1 }
    })
  }
  if (count === undefined) return { start: 0, end: head.size - 1 }
  const segments = head.segments as NonNullable<ObjectHead['segments']>
  let start = 0
  for (let i = 0; i < partNumber - 1; i++) start += segments[i]!.size
  return { start, end: start + segments[partNumber - 1]!.size - 1 }
}
