/**
 * Builders of the whole-object scenarios: put or get of one size, one at a time or with several
 * in flight, against the raw database spacebox runs on (same keys, same bytes), or any other
 * pair of stores (e.g. spacebox encrypted against spacebox in plaintext).
 */
import { rm } from 'node:fs/promises'
import type { StoreStats } from '../lib/index.js'
import { type Figures, type RunOptions, type Scenario, type Side, Tally, figures, interleave } from './scenario.js'
import { type Backend, type Store, baselineName, keyOf, openStore, pattern, pool, storeDir } from './stores.js'

const MiB = 1024 * 1024

/** What a scenario compares: side `a` (measured) against side `b` (the baseline), each its own store. */
export interface Pair {
  /** Heads the scenario's name. */
  label: string
  baselineName: string
  /** Open a side's store in `dir` (created if absent). */
  open: (side: 'a' | 'b', dir: string) => Promise<Store>
  /** Counters of side a's `box.stats()` to report as notes, per 1000 of its operations. */
  counters?: Array<keyof StoreStats>
}

export interface ObjectCase {
  size: number
  inFlight: number
  backend: Backend
  quick: boolean
  minRatio?: number
  /** Default: spacebox against the raw database of `backend`. */
  pair?: Pair
}

function pairOf (c: ObjectCase): Pair {
  return c.pair ?? {
    label: c.backend,
    baselineName: baselineName(c.backend),
    open: async (side, dir) => await openStore(side === 'a' ? 'spacebox' : 'raw', c.backend, dir)
  }
}

function label (c: ObjectCase, op: string): string {
  const size = c.size >= MiB ? `${c.size / MiB} MiB` : `${c.size / 1024} KiB`
  return `${pairOf(c).label}: ${op} ${size}, ${c.inFlight === 1 ? 'sequential' : `${c.inFlight} in flight`}`
}

/** Small objects are counted in operations, larger ones in bytes. */
function unitOf (size: number): { unit: string, perOp: number } {
  return size >= 64 * 1024 ? { unit: 'MiB/s', perOp: size / MiB } : { unit: 'ops/s', perOp: 1 }
}

/** One side of a pair: its Side, its counters (from whichever store it has open), and the end. */
type PairSide = Side & { stats: () => Readonly<Record<string, number>>, close: () => Promise<void> }

const statsOf = (store: Store | undefined): Readonly<Record<string, number>> => ({ ...store?.stats?.() })

async function measure (c: ObjectCase, options: RunOptions, makeSide: (side: 'a' | 'b', open: (dir: string) => Promise<Store>) => Promise<PairSide>): Promise<Figures> {
  const pair = pairOf(c)
  const a = await makeSide('a', async dir => await pair.open('a', dir))
  try {
    const b = await makeSide('b', async dir => await pair.open('b', dir))
    try {
      const { perOp } = unitOf(c.size)
      const tally = new Tally(a.stats)
      const ops = await interleave(tally.wrap(a), b, c.inFlight, options.pace)
      const out = figures(ops.a.map(x => x * perOp), ops.b.map(x => x * perOp), pair.baselineName)
      if (pair.counters === undefined) return out
      return { ...out, notes: Object.fromEntries(pair.counters.map(name => [`${name} per 1000 ops`, tally.per(name, 1000)])) }
    } finally {
      await b.close()
    }
  } finally {
    await a.close()
  }
}

/** A scenario of a case: its name, unit and goal, and how it runs. */
function scenarioOf (c: ObjectCase, op: 'put' | 'get', run: Scenario['run']): Scenario {
  return {
    name: label(c, op),
    unit: unitOf(c.size).unit,
    quick: c.quick,
    ...(c.minRatio === undefined ? {} : { minRatio: c.minRatio }),
    run
  }
}

/**
 * Put of new objects. Each sample starts from an empty store and closes it afterwards (untimed),
 * so every repetition measures the same thing and leaves no compaction running behind it.
 */
export function putScenario (c: ObjectCase): Scenario {
  const value = pattern(c.size)
  return scenarioOf(c, 'put', async options => await measure(c, options, async (side, open) => {
    let store: Store | undefined
    let dir = ''
    let n = 0
    const done = async (): Promise<void> => {
      await store?.close()
      store = undefined
      await rm(dir, { recursive: true, force: true })
    }
    return {
      beforeSample: async () => {
        dir = storeDir(options.tmp, side)
        store = await open(dir)
        n = 0
      },
      op: async () => { await (store as Store).put(keyOf(n++), value) },
      afterSample: done,
      stats: () => statsOf(store),
      close: done
    }
  }))
}

/**
 * Get of whole objects (spacebox's body read to its end) from a store filled beforehand, in a
 * fixed shuffled order that both sides share. A store on disk is closed and opened again after
 * filling, so that the compaction the fill set off is over before anything is measured.
 */
export function getScenario (c: ObjectCase): Scenario {
  const value = pattern(c.size)
  return scenarioOf(c, 'get', async options => {
    // Enough objects that reads are not all served from one hot block: 64 MiB quick, 256 MiB
    // full (small objects count as 16 KiB: 4096 of 1 KiB, 1024 of 64 KiB, 64 of 1 MiB quick).
    const count = Math.floor((options.full ? 256 : 64) * MiB / Math.max(c.size, 16 * 1024))
    const order = shuffled(count)
    return await measure(c, options, async (side, open) => {
      const dir = storeDir(options.tmp, side)
      let store = await open(dir)
      await pool(count, 16, async i => { await store.put(keyOf(i), value) })
      if (c.backend === 'classic') {
        await store.close()
        store = await open(dir)
      }
      let n = 0
      return {
        op: async () => {
          const length = await store.get(keyOf(order[n++ % count] as number))
          if (length !== c.size) throw new Error(`side ${side} returned ${length} bytes, not ${c.size}`)
        },
        stats: () => statsOf(store),
        close: async () => {
          await store.close()
          await rm(dir, { recursive: true, force: true })
        }
      }
    })
  })
}

/** 0..count-1 in a fixed pseudo-random order (Fisher–Yates over a small LCG). */
export function shuffled (count: number): Uint32Array {
  const out = new Uint32Array(count)
  for (let i = 0; i < count; i++) out[i] = i
  let x = 12345
  for (let i = count - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    const j = x % (i + 1)
    const t = out[i] as number
    out[i] = out[j] as number
    out[j] = t
  }
  return out
}
