/**
 * The two things compared, behind one small interface: spacebox, and the raw LevelDB (or
 * memory-level) database it is built on, storing the same bytes under the same keys.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import type { AbstractLevel } from 'abstract-level'
import type { ClassicLevel } from 'classic-level'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { type OpenOptions, type PutObjectOptions, Spacebox, type StoreStats } from '../lib/index.js'

export type Backend = 'classic' | 'memory'
export type Subject = 'spacebox' | 'raw'

/** S3 rules: 3+ lowercase characters. */
export const BUCKET = 'bench'

export function baselineName (backend: Backend): string {
  return backend === 'classic' ? 'classic-level' : 'memory-level'
}

/** A store holding whole values under string keys; `get` resolves to the number of bytes read. */
export interface Store {
  put: (key: string, value: Buffer) => Promise<void>
  get: (key: string) => Promise<number>
  close: () => Promise<void>
  /** spacebox's counters since open (`box.stats()`); absent for a raw database. */
  stats?: () => StoreStats
}

/** Read a body to its end without keeping it; resolves to its length. */
export async function drain (body: Readable): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    let length = 0
    body.on('data', (chunk: Buffer) => { length += chunk.length })
    body.once('end', () => { resolve(length) })
    body.once('error', reject)
  })
}

/** spacebox on disk in `dir` (created if absent) or in memory, with the bench bucket in it. */
export async function openBox (backend: Backend, dir: string, options: Omit<OpenOptions, 'location' | 'memory' | 'db'> = {}): Promise<Spacebox> {
  if (backend === 'classic') await mkdir(dir, { recursive: true })
  const box = await Spacebox.open(backend === 'classic' ? { ...options, location: dir } : { ...options, memory: true })
  if (!(await box.listBuckets()).some(b => b.name === BUCKET)) await box.createBucket(BUCKET)
  return box
}

/** The raw database of a backend, with string keys and Buffer values. */
export type RawDb = AbstractLevel<string | Buffer | Uint8Array, string, Buffer>

/** The raw database spacebox runs on, opened: on disk in `dir` (created if absent) or in memory. */
export async function openRaw (backend: Backend, dir: string): Promise<RawDb> {
  if (backend === 'classic') await mkdir(dir, { recursive: true })
  const db = backend === 'classic'
    ? new Level<string, Buffer>(dir, { valueEncoding: 'buffer' })
    : new MemoryLevel<string, Buffer>({ valueEncoding: 'buffer' })
  await db.open()
  return db
}

/** What classic-level adds to LevelDB on disk; `level` is classic-level on Node, but its types leave these out. */
export type LevelDb = Pick<ClassicLevel, 'compactRange' | 'getProperty'>

export function leveldb (db: AbstractLevel<any, any, any>): LevelDb {
  return db as unknown as ClassicLevel
}

/**
 * Compact the whole of a closed on-disk store (spacebox's or a raw one), so that what is measured
 * next neither waits for nor competes with the compaction that filling it set off.
 */
export async function compact (dir: string): Promise<void> {
  const db = new Level(dir)
  await db.open()
  try {
    await leveldb(db).compactRange(Buffer.from([0]), Buffer.alloc(64, 0xff), { keyEncoding: 'buffer' })
  } finally {
    await db.close()
  }
}

/**
 * Open a store: on disk in `dir` (created if absent), or in memory. Closing leaves `dir` in place.
 * spacebox passes `putOptions` (e.g. encryption) to every putObject.
 */
export async function openStore (subject: Subject, backend: Backend, dir: string, putOptions: PutObjectOptions = {}): Promise<Store> {
  if (subject === 'spacebox') {
    const box = await openBox(backend, dir)
    return {
      put: async (key, value) => { await box.putObject(BUCKET, key, value, putOptions) },
      get: async key => await drain((await box.getObject(BUCKET, key)).body),
      close: async () => { await box.close() },
      stats: () => box.stats()
    }
  }
  const db = await openRaw(backend, dir)
  return {
    put: async (key, value) => { await db.put(key, value) },
    get: async key => {
      const value = await db.get(key)
      if (value === undefined) throw new Error(`baseline lost ${key}`)
      return value.length
    },
    close: async () => { await db.close() }
  }
}

let dirs = 0
/** A fresh directory name under `tmp` for one store (`name` says whose). */
export function storeDir (tmp: string, name: string): string {
  return join(tmp, `${name}-${++dirs}`)
}

/** Object key number `n`: the same string on both sides, ascending with n. */
export function keyOf (n: number): string {
  return `obj/${n.toString().padStart(9, '0')}`
}

/**
 * Deterministic bytes (xorshift32): incompressible, so LevelDB's Snappy gains nothing, and the
 * same on both sides and in every process.
 */
export function pattern (size: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil(size / 4) * 4)
  let x = seed >>> 0
  for (let i = 0; i < out.length; i += 4) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    out.writeUInt32LE(x, i)
  }
  return out.subarray(0, size)
}

/** Run `fn(0..count-1)` with at most `limit` calls in flight. */
export async function pool (count: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) await fn(next++)
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker))
}
