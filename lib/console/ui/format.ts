// Sizes and dates as people read them; the exact value goes in a title or <time datetime>.
import { h } from './dom.js'

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** 1536 → "1.5 KiB"; 1 → "1 byte". */
export function bytes (n: number): string {
  if (n === 1) return '1 byte'
  let value = n
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit += 1
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1
  return `${value.toFixed(digits)} ${UNITS[unit] ?? ''}`
}

/** 12345 → "12,345" in the reader's locale. */
export function count (n: number): string {
  return n.toLocaleString()
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** An ISO date as a <time> element in the reader's locale and time zone. */
export function date (iso: string | undefined, empty = '—'): HTMLElement | string {
  if (iso === undefined) return empty
  const at = new Date(iso)
  if (Number.isNaN(at.getTime())) return iso
  return h('time', { datetime: at.toISOString(), title: at.toISOString() }, dateFormat.format(at))
}

/** "3 minutes ago", "in 2 days": for last use and expiry. */
export function relative (iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000)
  const steps: Array<[Intl.RelativeTimeFormatUnit, number]> = [['second', 60], ['minute', 60], ['hour', 24], ['day', 30], ['month', 12], ['year', Infinity]]
  let value = seconds
  for (const [unit, size] of steps) {
    if (Math.abs(value) < size) return new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }).format(Math.round(value), unit)
    value /= size
  }
  return iso
}

/** A duration in seconds for the presign choices: 3600 → "1 hour". */
export function duration (seconds: number): string {
  const units: Array<[string, number]> = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]]
  for (const [unit, size] of units) {
    if (seconds % size === 0) {
      const n = seconds / size
      return `${n} ${unit}${n === 1 ? '' : 's'}`
    }
  }
  return `${seconds} seconds`
}
