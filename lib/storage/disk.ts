/**
 * What compaction needs from the database and the disk, feature-detected: classic-level has
 * `compactRange` and `approximateSize` (both over encoded keys); memory-level and other
 * abstract-level databases have neither, and compaction does nothing there.
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { AnyLevel } from '../schema/keys.js'

const BUFFER_KEYS = { keyEncoding: 'buffer' } as const

/** The methods of classic-level used here, over fully qualified (root) keys. */
export interface LevelDb {
  compactRange: (start: Buffer, end: Buffer) => Promise<void>
  /** Bytes LevelDB's files hold in a range (its memtable not counted); undefined where the database cannot say. */
  approximateSize: ((start: Buffer, end: Buffer) => Promise<number>) | undefined
  /** The first (or, `last`, the last) key in [start, end), if any. */
  edgeKey: (start: Buffer, end: Buffer, last: boolean) => Promise<Buffer | undefined>
}

type Native = AnyLevel & {
  compactRange?: (start: Buffer, end: Buffer, options: typeof BUFFER_KEYS) => Promise<void>
  approximateSize?: (start: Buffer, end: Buffer, options: typeof BUFFER_KEYS) => Promise<number>
}

/** `root` as a LevelDb, or undefined when it cannot compact. */
export function leveldbOf (root: AnyLevel): LevelDb | undefined {
  const db = root as Native
  const { compactRange, approximateSize } = db
  if (typeof compactRange !== 'function') return undefined
  return {
    compactRange: async (start, end) => { await compactRange.call(db, start, end, BUFFER_KEYS) },
    approximateSize: typeof approximateSize === 'function' ? async (start, end) => await approximateSize.call(db, start, end, BUFFER_KEYS) : undefined,
    edgeKey: async (gte, lt, last) => {
      const [key] = await db.keys({ gte, lt, limit: 1, reverse: last, keyEncoding: 'buffer' }).all()
      return key as Buffer | undefined
    }
  }
}

/** The bounds of every key of a sublevel whose fully qualified prefix is `prefix` (e.g. `!chunks!`). */
export function prefixBounds (prefix: string): [Buffer, Buffer] {
  const start = Buffer.from(prefix)
  const end = Buffer.from(start)
  // Sublevel prefixes end with the separator `!`, below every character a name may hold.
  end[end.length - 1] = (end[end.length - 1] as number) + 1
  return [start, end]
}

/** The smallest key after `key`. */
export function successor (key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.from([0])])
}

/**
 * A key strictly between `a` and `b` (a < b), splitting the byte strings' span in half as if they
 * were fractions; undefined when none lies between at this length.
 */
export function midpoint (a: Buffer, b: Buffer): Buffer | undefined {
  const length = Math.max(a.length, b.length) + 1
  const number = (key: Buffer): bigint => BigInt('0x' + Buffer.concat([key, Buffer.alloc(length - key.length)]).toString('hex'))
  const low = number(a)
  const mid = (low + number(b)) >> 1n
  if (mid <= low) return undefined
  return Buffer.from(mid.toString(16).padStart(length * 2, '0'), 'hex')
}

/**
 * Bytes in a directory's files, read now: a readdir and a stat per file. A LevelDB directory is
 * flat, with about one table file per 2 MiB of data, so a 1 GiB store costs about 500 stats.
 */
export function directorySize (dir: string): number {
  let total = 0
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return 0
  }
  for (const name of names) {
    try {
      total += statSync(join(dir, name)).size
    } catch {
      // Removed between the listing and the stat: a compaction retired it.
    }
  }
  return total
}
