import { timingSafeEqual } from 'node:crypto'

/**
 * Compare a presented secret with the real one in time that depends only on the real one's
 * length: a wrong length still costs one full comparison.
 */
export function constantTimeEqual (given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length ? timingSafeEqual(a, b) : !timingSafeEqual(b, b)
}
