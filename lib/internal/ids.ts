import { randomBytes } from 'node:crypto'

/**
 * Fixed-width (24 character), time-ordered ids for buckets, segments and uploads: 12 hex digits of
 * milliseconds, a 4-digit sequence that keeps ids from one process strictly increasing within a
 * millisecond, then 8 random hex digits so that ids stay unique across restarts and clock steps.
 * Time order matters for segments: their chunks then reach LevelDB in key order.
 */
let lastTime = 0
let sequence = 0

export function newId (): string {
  let now = Date.now()
  if (now <= lastTime) {
    now = lastTime
    if (++sequence > 0xffff) {
      now = ++lastTime
      sequence = 0
    }
  } else {
    lastTime = now
    sequence = 0
  }
  return now.toString(16).padStart(12, '0') + sequence.toString(16).padStart(4, '0') + randomBytes(4).toString('hex')
}
