/**
 * Lifecycle passes read the expiry index (schema/keys.ts), not the bucket, so that:
 *
 * - a pass costs what is due, not what the bucket holds. A bucket of N objects of which 1% are due
 *   (quick set: N = 100,000; full set: 1,000,000) is passed against a bucket of N/10 objects with
 *   the same number due (10% of it): expiries per second of the pass, on disk (classic-level). The
 *   due objects are spread over the key space (every 100th, resp. 10th key), and written again
 *   between repetitions, untimed. A ratio near 1 means the 99% not due cost the pass nothing.
 * - a pass does not hurt foreground reads. Eight readers GET objects that are not due from the big
 *   bucket while a pass expires the due 1%, against the same readers for as long with no pass:
 *   p99 latency (µs) with the pass (spacebox column) and without (baseline); ratio = without / with,
 *   1 meaning no harm.
 *
 * `--only lifecycle` runs both.
 */
import type { Spacebox } from '../lib/index.js'
import { type Figures, type RunOptions, type Scenario, median } from './scenario.js'
import { BUCKET, compact, openBox, pool, storeDir } from './stores.js'

const DAY = 86_400_000
const T0 = Date.UTC(2030, 0, 1)
/** Not-due objects are written here; a pass runs at PASS, when only those written at T0 are due. */
const LATER = T0 + 10 * DAY
const PASS = T0 + 12 * DAY
const RULE = [{ id: 'old', status: 'Enabled' as const, filter: { prefix: 'obj/' }, expiration: { days: 5 } }]
const READERS = 8

const keyOf = (n: number): string => `obj/${n.toString().padStart(9, '0')}`

interface Bucket {
  box: Spacebox
  /** The store's clock, moved by the scenario. */
  clock: { at: number }
  due: string[]
  notDue: string[]
}

const populations = new Map<string, Promise<string>>()

/** A store of `count` empty objects, every `every`-th of them written at T0 (due at PASS), filled once a run. */
async function population (options: RunOptions, count: number, every: number): Promise<string> {
  const name = `lifecycle-${count}-${every}`
  let filled = populations.get(`${options.shared}/${name}`)
  if (filled === undefined) {
    filled = (async () => {
      const dir = storeDir(options.shared, name)
      const clock = { at: LATER }
      const box = await openBox('classic', dir, { clock: () => clock.at, lifecycleInterval: 0 })
      // Rules first: every write keeps the index, as in a bucket that had its rules all along.
      await box.putBucketLifecycleConfiguration(BUCKET, RULE)
      const started = performance.now()
      await pool(count, 16, async i => {
        if (i % every === 0) return
        await box.putObject(BUCKET, keyOf(i), '')
      })
      clock.at = T0
      await pool(Math.ceil(count / every), 16, async i => { await box.putObject(BUCKET, keyOf(i * every), '') })
      await box.close()
      await compact(dir)
      options.log(`    filled ${count.toLocaleString('en-US')} objects, 1 in ${every} due, in ${((performance.now() - started) / 1000).toFixed(1)} s`)
      return dir
    })()
    populations.set(`${options.shared}/${name}`, filled)
  }
  return await filled
}

async function open (options: RunOptions, count: number, every: number): Promise<Bucket> {
  const clock = { at: PASS }
  const box = await openBox('classic', await population(options, count, every), { clock: () => clock.at, lifecycleInterval: 0 })
  const due: string[] = []
  const notDue: string[] = []
  for (let i = 0; i < count; i++) (i % every === 0 ? due : notDue).push(keyOf(i))
  return { box, clock, due, notDue }
}

/** Write the due objects again (at T0): what a pass expired is due again. Untimed. */
async function rearm (bucket: Bucket): Promise<void> {
  bucket.clock.at = T0
  await pool(bucket.due.length, 16, async i => { await bucket.box.putObject(BUCKET, bucket.due[i] as string, '') })
  bucket.clock.at = PASS
}

/** One pass; expiries per second. */
async function timedPass (bucket: Bucket): Promise<number> {
  const started = performance.now()
  const result = await bucket.box.applyLifecycle()
  const seconds = (performance.now() - started) / 1000
  if (result.objects.length !== bucket.due.length) throw new Error(`the pass expired ${result.objects.length}, not ${bucket.due.length}`)
  return result.objects.length / seconds
}

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number
}

/** GET latencies (µs) of `READERS` readers of not-due objects, until `done()`; at least one round each. */
async function readers (bucket: Bucket, done: () => boolean): Promise<number[]> {
  const latencies: number[] = []
  let n = 0
  await Promise.all(Array.from({ length: READERS }, async (_, r) => {
    do {
      const key = bucket.notDue[(n++ * 7919 + r) % bucket.notDue.length] as string
      const started = performance.now()
      const { body } = await bucket.box.getObject(BUCKET, key)
      body.resume()
      latencies.push((performance.now() - started) * 1000)
      // A request arrives through I/O: a GET of an inline record resolves without any, and readers
      // looping on microtasks alone would starve everything else (the pass included) in any case.
      await new Promise(resolve => setImmediate(resolve))
    } while (!done())
  }))
  return latencies
}

async function passCost (options: RunOptions): Promise<Figures> {
  const count = options.full ? 1_000_000 : 100_000
  const big = await open(options, count, 100)
  const small = await open(options, count / 10, 10)
  const a: number[] = []
  const b: number[] = []
  try {
    // One pair first, not kept (the objects are due from the fill: no rearm).
    await timedPass(big)
    await timedPass(small)
    for (let rep = 0; rep < options.pace.reps; rep++) {
      await rearm(big)
      a.push(await timedPass(big))
      await rearm(small)
      b.push(await timedPass(small))
    }
  } finally {
    await big.box.close()
    await small.box.close()
  }
  const ratios = a.map((x, i) => x / (b[i] as number))
  return {
    spacebox: median(a),
    baseline: median(b),
    baselineName: `${(count / 10).toLocaleString('en-US')} objects`,
    ratio: median(ratios),
    ratios,
    notes: { objects: count, due: count / 100, 'pass ms': count / 100 / median(a) * 1000, 'small pass ms': count / 100 / median(b) * 1000 }
  }
}

async function foreground (options: RunOptions): Promise<Figures> {
  const count = options.full ? 1_000_000 : 100_000
  const bucket = await open(options, count, 100)
  const withPass: number[] = []
  const idle: number[] = []
  const p50: number[][] = [[], []]
  let passMs = 0
  try {
    await bucket.box.applyLifecycle()
    await readers(bucket, (() => { const end = performance.now() + 300; return () => performance.now() > end })())
    for (let rep = 0; rep < options.pace.reps; rep++) {
      await rearm(bucket)
      const started = performance.now()
      let finished = false
      const pass = bucket.box.applyLifecycle().then(() => { finished = true })
      const during = await readers(bucket, () => finished)
      await pass
      const ms = performance.now() - started
      passMs += ms
      const end = performance.now() + ms
      const quiet = await readers(bucket, () => performance.now() > end)
      withPass.push(percentile(during, 0.99))
      idle.push(percentile(quiet, 0.99))
      p50[0]?.push(percentile(during, 0.5))
      p50[1]?.push(percentile(quiet, 0.5))
    }
  } finally {
    await bucket.box.close()
  }
  const ratios = withPass.map((x, i) => (idle[i] as number) / x)
  return {
    spacebox: median(withPass),
    baseline: median(idle),
    baselineName: 'no pass',
    ratio: median(ratios),
    ratios,
    notes: { 'p50 µs with pass': median(p50[0] ?? []), 'p50 µs no pass': median(p50[1] ?? []), 'pass ms': passMs / options.pace.reps, due: count / 100 }
  }
}

export const scenarios: Scenario[] = [
  { name: 'lifecycle pass, 1% of a bucket due vs a 10x smaller bucket, same due', unit: 'due/s', quick: true, minRatio: 0.5, run: passCost },
  { name: 'lifecycle GET p99 during a pass vs none (ratio none/during)', unit: 'µs', quick: true, minRatio: 0.5, run: foreground }
]
