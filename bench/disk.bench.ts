/**
 * Disk space given back (README "Disk space"): write a store full of 1 MiB objects, delete 90% of
 * them (every object but each tenth, so that what is left is spread over the whole key range, the
 * hard case for range compaction), then compare the bytes on disk (the directory's size) with the
 * live bytes: right after the deletes, once the background compaction, left alone with its
 * defaults, has worked (and how long after the deletes it took to get within 1.5x), and after
 * `compact()`. Bodies are pseudo-random, so LevelDB's Snappy compression cannot flatter the figures.
 *
 * The "baseline" is the live data itself: ratio = live bytes / bytes on disk after compact()
 * (higher is better, 1 at best; the goal, within 1.5x, is a ratio of at least 0.67). Right after the
 * deletes is what a store without compaction keeps: LevelDB does not compact an idle store.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Spacebox } from '../lib/index.js'
import type { Check, Figures, RunOptions, Scenario } from './scenario.js'
import { BUCKET, drain, keyOf, pattern, pool, storeDir } from './stores.js'

const MiB = 1024 * 1024
/** The goals: within this factor of the live bytes, after compact() and after idle background compaction. */
const GOAL = 1.5
const IDLE_LIMIT_MS = 60_000
/** How long the bench waits for the background path before giving up on it. */
const WAIT_MS = 120_000

async function measure (mib: number, options: RunOptions): Promise<Figures> {
  const dir = storeDir(options.tmp, 'disk')
  // Chunks in LevelDB: what compaction gives back (a 1 MiB body is otherwise a segment file, whose
  // space comes back at its delete, with nothing to measure).
  const box = await Spacebox.open({ location: dir, segmentFiles: false })
  try {
    await box.createBucket(BUCKET)
    const body = pattern(MiB)
    let t0 = performance.now()
    await pool(mib, 4, async i => { await box.putObject(BUCKET, keyOf(i), body) })
    const writeSeconds = (performance.now() - t0) / 1000
    const written = box.stats().bytesOnDisk as number

    const doomed = Array.from({ length: mib }, (_, i) => i).filter(i => i % 10 !== 0).map(keyOf)
    t0 = performance.now()
    for (let i = 0; i < doomed.length; i += 1000) await box.deleteObjects(BUCKET, doomed.slice(i, i + 1000))
    const deleteSeconds = (performance.now() - t0) / 1000
    const deletedAt = performance.now()
    const live = box.stats().liveBytes as number
    const rightAfter = box.stats().bytesOnDisk as number
    options.log(`    wrote ${mib} MiB in ${writeSeconds.toFixed(1)} s (${(written / MiB).toFixed(0)} MiB on disk); deleted ${doomed.length} in ${deleteSeconds.toFixed(1)} s: ` +
      `${(rightAfter / MiB).toFixed(0)} MiB on disk for ${(live / MiB).toFixed(0)} MiB live`)

    // Left alone: poll (stats() is no call, so the store stays idle) until the background path is done.
    let reachedSeconds: number | undefined
    let auto = rightAfter
    while (performance.now() - deletedAt < WAIT_MS) {
      await sleep(250)
      auto = box.stats().bytesOnDisk as number
      if (reachedSeconds === undefined && auto <= GOAL * live) reachedSeconds = (performance.now() - deletedAt) / 1000
      if (box.stats().reclaimableBytes === 0 && reachedSeconds !== undefined) break
    }
    const backgroundRanges = box.stats().compactions
    const autoSeconds = (performance.now() - deletedAt) / 1000
    options.log(`    background compaction: ${(auto / MiB).toFixed(0)} MiB on disk after ${autoSeconds.toFixed(1)} s in ${backgroundRanges} ranges ` +
      `(within ${GOAL}x after ${reachedSeconds === undefined ? 'never' : `${reachedSeconds.toFixed(1)} s`})`)

    t0 = performance.now()
    const result = await box.compact()
    const compactSeconds = (performance.now() - t0) / 1000
    const compacted = result.bytesOnDiskAfter as number
    options.log(`    compact(): ${(compacted / MiB).toFixed(0)} MiB on disk in ${compactSeconds.toFixed(1)} s (${result.ranges} ranges)`)
    for (const i of [0, 10 * Math.floor(mib / 20), 10 * Math.floor((mib - 1) / 10)]) {
      if (await drain((await box.getObject(BUCKET, keyOf(i))).body) !== MiB) throw new Error(`${keyOf(i)} lost bytes`)
    }

    const checks: Check[] = [
      { goal: `on disk within ${GOAL}x of live after compact()`, value: `${(compacted / live).toFixed(2)}x`, met: compacted <= GOAL * live },
      {
        goal: `background compaction within ${GOAL}x of live within ${IDLE_LIMIT_MS / 1000} s of idle`,
        value: reachedSeconds === undefined ? `not in ${WAIT_MS / 1000} s (${(auto / live).toFixed(2)}x)` : `${reachedSeconds.toFixed(1)} s (${(auto / live).toFixed(2)}x)`,
        met: reachedSeconds !== undefined && reachedSeconds * 1000 <= IDLE_LIMIT_MS
      }
    ]
    return {
      spacebox: compacted / MiB,
      baseline: live / MiB,
      baselineName: 'live data',
      ratio: live / compacted,
      ratios: [live / compacted],
      checks,
      notes: {
        'on disk / live, right after deletes': rightAfter / live,
        'on disk / live, after background compaction': auto / live,
        's to within 1.5x in the background': reachedSeconds ?? -1,
        'background ranges': backgroundRanges,
        'compact() s': compactSeconds,
        'write MiB/s': mib / writeSeconds
      }
    }
  } finally {
    await box.close()
  }
}

function scenario (mib: number, quick: boolean): Scenario {
  return {
    name: `disk: ${mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`} in 1 MiB objects, 90% deleted, bytes on disk after compact()`,
    unit: 'MiB',
    quick,
    minRatio: 0.67,
    run: async options => await measure(mib, options)
  }
}

export const scenarios: Scenario[] = [
  scenario(256, true),
  scenario(1024, false)
]
