import { SpaceboxError } from '../errors.js'
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
