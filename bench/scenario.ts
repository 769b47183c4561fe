/**
 * The contract between the runner and the scenario files, and the interleaved sampler they share.
 *
 * A scenario file is `bench/<name>.bench.ts` and exports `scenarios: Scenario[]`. The runner finds
 * every such file, keeps the scenarios of the chosen set and calls `run()` on each in turn. To add
 * one (listing, multipart, encryption...), write a new file: build `Side`s for spacebox and for its
 * baseline and hand them to `interleave()`, or time whole operations yourself (see
 * stream-large.bench.ts) and return `figures()` of the paired results.
 *
 * Set BENCH_DEBUG=1 to print every side's per-repetition figures as well.
 */
import { Bench } from 'tinybench'

/** How long and how often to measure; the runner picks it from the set (quick or full). */
export interface Pace {
  /** Interleaved pairs (spacebox, then baseline) per scenario; figures are their medians. */
  reps: number
  /** Measured time of one side in one pair, in ms. */
  sampleMs: number
  /** Warm-up before each sample, in ms (not measured). */
  warmupMs: number
  /** Repetitions of scenarios that time one long operation per side (streaming). */
  longReps: number
}

export interface RunOptions {
  /** The full set is running (bigger populations, longer samples, more repetitions). */
  full: boolean
  pace: Pace
  /** A fresh directory under os.tmpdir() for this scenario; the runner removes it afterwards. */
  tmp: string
  /**
   * A directory kept for the whole run (removed at its end), for populations that several
   * scenarios share because they are slow to build (e.g. a bucket of a million keys).
   */
  shared: string
  /** Print a line of progress. */
  log: (line: string) => void
}

/** A goal beyond the ratio, checked by the scenario itself (e.g. peak RSS growth). */
export interface Check {
  goal: string
  value: string
  met: boolean
}

export interface Figures {
  /** spacebox's median figure, in the scenario's unit. */
  spacebox: number
  /** The baseline's median figure, in the same unit, measured in the same run on the same bytes. */
  baseline: number
  baselineName: string
  /**
   * spacebox / baseline (higher is better): the median of the per-repetition ratios of the
   * interleaved pairs, so it can differ a little from the quotient of the two medians.
   */
  ratio: number
  /** Every per-repetition ratio, in run order. */
  ratios: number[]
  checks?: Check[]
  /**
   * HTTP scenarios: the server process's CPU time (user + system) per operation (`µs/op`), or per
   * MiB moved (`µs/MiB`), over every sample of each side; ratio = spacebox / baseline, lower is better.
   */
  serverCpu?: { unit: string, spacebox: number, baseline: number, ratio: number }
  /** Extra figures worth printing, by name. */
  notes?: Record<string, number>
}

export interface Scenario {
  /** Unique; shown in the table. */
  name: string
  /** Unit of `spacebox` and `baseline`, a throughput: `ops/s`, `MiB/s`. */
  unit: string
  /** Part of the quick set (`npm run bench`); every scenario is part of the full set. */
  quick: boolean
  /** The ratio this scenario should reach, if it has a goal. */
  minRatio?: number
  run: (options: RunOptions) => Promise<Figures>
}

/** What one side of a pair does: one operation per call, on its own store. */
export interface Side {
  op: () => Promise<void>
  /** Untimed, before each of this side's samples (e.g. start again from an empty store). */
  beforeSample?: () => Promise<void>
  /**
   * Untimed, after each of this side's samples: e.g. close the store it wrote to, which waits for
   * LevelDB's background compaction, so that its work does not spill into the other side's sample.
   */
  afterSample?: () => Promise<void>
}

export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Figures from paired measurements, `a` being spacebox and `b` the baseline. */
export function figures (a: number[], b: number[], baselineName: string): Figures {
  const ratios = a.map((value, i) => value / (b[i] as number))
  if (process.env.BENCH_DEBUG !== undefined) console.log('    a', a.map(x => x.toFixed(0)).join(' '), '| b', b.map(x => x.toFixed(0)).join(' '))
  return { spacebox: median(a), baseline: median(b), baselineName, ratio: median(ratios), ratios }
}

/**
 * Operations per second of one side: tinybench drives `side.op` for `pace.sampleMs`, one at a
 * time or with `inFlight` kept in flight (its task-concurrency pump). Throughput is completed
 * operations over the wall time of the measured phase, so queueing and stalls count.
 */
export async function sample (side: Side, inFlight: number, pace: Pace): Promise<number> {
  const concurrent = inFlight > 1
  const bench = new Bench({
    time: pace.sampleMs,
    warmupTime: pace.warmupMs,
    throws: true,
    // Sequential: a minimum count; task-concurrent: 0 lifts the cap, so time alone ends a phase.
    iterations: concurrent ? 0 : 5,
    warmupIterations: concurrent ? 0 : 2,
    ...(concurrent ? { concurrency: 'task' as const, threshold: inFlight } : {})
  })
  let done = 0
  let started = 0
  let elapsed = 0
  bench.add('op', async () => {
    await side.op()
    done++
  }, {
    async: true,
    beforeAll (mode) {
      done = 0
      started = performance.now()
      if (mode === 'run') elapsed = 0
    },
    afterAll (mode) {
      if (mode === 'run') elapsed = performance.now() - started
    }
  })
  await side.beforeSample?.()
  await bench.run()
  await side.afterSample?.()
  if (!(elapsed > 0) || done === 0) throw new Error('tinybench recorded no measured operation')
  return done / (elapsed / 1000)
}

type Counters = Readonly<Record<string, number>>

/**
 * Counters of a side (e.g. `box.stats()`, or a server process's CPU time) summed over its samples,
 * with the operations that moved them: each sample's delta is taken from after its `beforeSample`
 * to before its `afterSample`, so opening and closing a store is not counted, only the operations
 * (warm-up included, which costs the same per operation).
 */
export class Tally {
  readonly #read: () => Counters | Promise<Counters>
  readonly #totals = new Map<string, number>()
  #start: Counters = {}
  #ops = 0

  constructor (read: () => Counters | Promise<Counters>) {
    this.#read = read
  }

  /** `side`, counted. */
  wrap (side: Side): Side {
    return {
      op: async () => {
        await side.op()
        this.#ops++
      },
      beforeSample: async () => {
        await side.beforeSample?.()
        this.#start = await this.#read()
      },
      afterSample: async () => {
        const end = await this.#read()
        for (const [name, value] of Object.entries(end)) {
          this.#totals.set(name, (this.#totals.get(name) ?? 0) + value - (this.#start[name] ?? 0))
        }
        await side.afterSample?.()
      }
    }
  }

  /** Counter `name` per `ops` operations, over every sample so far. */
  per (name: string, ops = 1): number {
    return (this.#totals.get(name) ?? 0) / this.#ops * ops
  }
}

/**
 * Measure two sides in alternation, A B A B ..., `pace.reps` times after one pair that is not
 * kept, and return each side's operations per second in run order, so that drift of a noisy
 * machine hits both alike.
 */
export async function interleave (a: Side, b: Side, inFlight: number, pace: Pace): Promise<{ a: number[], b: number[] }> {
  // One pair first, not kept: JIT tiers, caches and background work left by filling settle.
  await sample(a, inFlight, pace)
  await sample(b, inFlight, pace)
  const out = { a: [] as number[], b: [] as number[] }
  for (let rep = 0; rep < pace.reps; rep++) {
    out.a.push(await sample(a, inFlight, pace))
    out.b.push(await sample(b, inFlight, pace))
  }
  return out
}
