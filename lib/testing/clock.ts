/**
 * A clock that moves only when told: `Spacebox.open({ clock: clock.now })` reads it for every date
 * the store keeps (object and upload dates, noncurrent times, key expiry, rate limits), so a test
 * can make thirty days pass in a call.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g

/**
 * Milliseconds in `by`: a number of ms, or a duration such as `'30d'`, `'12h'`, `'1d12h'`, `'90m'`,
 * `'45s'`, `'500ms'`, `'2w'`. RangeError for anything else, a negative amount included.
 */
export function durationOf (by: number | string): number {
  if (typeof by === 'number') {
    if (!Number.isFinite(by) || by < 0) throw new RangeError('A duration is a number of ms, 0 or more')
    return by
  }
  if (typeof by !== 'string' || !DURATION.test(by)) throw new RangeError(`Not a duration: ${String(by)} (e.g. '30d', '12h', '1d12h', '500ms')`)
  let ms = 0
  for (const [, amount, unit] of by.matchAll(PART)) ms += Number(amount) * (UNITS[unit as string] as number)
  return Math.round(ms)
}

/** A date as `set` takes it: a Date, ms since the epoch, or an ISO 8601 string. RangeError if it names none. */
export function instantOf (to: Date | number | string): number {
  const at = to instanceof Date ? to.getTime() : typeof to === 'number' ? to : Date.parse(to)
  if (!Number.isFinite(at)) throw new RangeError(`Not a date: ${String(to)}`)
  return at
}

/** A clock for `Spacebox.open({ clock })` that stands still until advanced or set. */
export class ManualClock {
  #at: number

  /** Starting at `start` (default: the real time now). */
  constructor (start: Date | number | string = Date.now()) {
    this.#at = instantOf(start)
  }

  /** The clock's time in ms since the epoch; bound, so it can be handed over as `clock: clock.now`. */
  readonly now = (): number => this.#at

  /** Move forward by ms or a duration (`'30d'`); returns the new time. */
  advance (by: number | string): number {
    this.#at += durationOf(by)
    return this.#at
  }

  /** Jump to a date, forward or back; returns the new time. */
  set (to: Date | number | string): number {
    this.#at = instantOf(to)
    return this.#at
  }
}
