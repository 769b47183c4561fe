import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { Spacebox, type OpenOptions } from '../lib/index.js'

type Tap = { teardown: (fn: () => unknown) => void }

/** A fresh temporary directory, removed when the test ends (with the key file a store there puts beside it). */
export async function tempDir (t: Tap): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spacebox-test-'))
  t.teardown(async () => {
    await rm(dir, { recursive: true, force: true })
    await rm(`${dir}.key`, { force: true })
  })
  return dir
}

export type Backend = {
  name: 'memory' | 'disk'
  /** Open a new, empty store of this kind, closed when the test ends. */
  open: (t: Tap, options?: Omit<OpenOptions, 'location' | 'memory' | 'db'>) => Promise<Spacebox>
}

/** The behaviour suites run on both stores: memory-level and classic-level in a temp dir. */
export const backends: Backend[] = [
  {
    name: 'memory',
    async open (t, options = {}) {
      const box = await Spacebox.open({ ...options, memory: true })
      t.teardown(async () => { await box.close() })
      return box
    }
  },
  {
    name: 'disk',
    async open (t, options = {}) {
      const box = await Spacebox.open({ ...options, location: await tempDir(t) })
      t.teardown(async () => { await box.close() })
      return box
    }
  }
]

export async function readAll (body: Readable): Promise<Buffer> {
  const pieces: Buffer[] = []
  for await (const piece of body) pieces.push(piece as Buffer)
  return Buffer.concat(pieces)
}

export function md5hex (data: Uint8Array | string): string {
  return createHash('md5').update(data).digest('hex')
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function bytes (length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

/** An async iterable yielding `total` bytes from `source` in pieces of `piece` bytes. */
export async function * pieces (source: Buffer, piece: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < source.length; i += piece) yield source.subarray(i, i + piece)
}

/**
 * The process's own memory: on Linux the anonymous RSS (RssAnon), without the file pages LevelDB
 * maps to read its tables, which are the page cache's (a 256 MiB read of uncompressed tables maps
 * 256 MiB of them); elsewhere the RSS.
 */
function ownMemory (): number {
  if (process.platform !== 'linux') return process.memoryUsage.rss()
  const match = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return match === null ? process.memoryUsage.rss() : Number(match[1]) * 1024
}

/**
 * Peak growth of the process's own memory over a baseline. sample() runs a full GC every 16th call
 * (with --expose-gc, set in the tap config), so the figure is memory the code holds, not garbage a
 * busy machine has not collected yet.
 */
export function rssWatch (): { sample: () => void, growthMiB: () => number } {
  globalThis.gc?.()
  const baseline = ownMemory()
  let peak = baseline
  let samples = 0
  return {
    sample () {
      if (++samples % 16 === 0) globalThis.gc?.()
      peak = Math.max(peak, ownMemory())
    },
    growthMiB: () => (peak - baseline) / (1024 * 1024)
  }
}
