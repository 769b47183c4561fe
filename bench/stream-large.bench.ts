/**
 * Streamed put and get of one large object, each side in a child process of its own so that its
 * peak RSS growth is measured cleanly. The baseline writes the same bytes as sequential 1 MiB
 * values with db.put and reads them back with an iterator.
 */
import { execFile } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { ChildResult } from './stream-child.js'
import { type Check, type Figures, type RunOptions, type Scenario, figures } from './scenario.js'
import { type Subject, storeDir } from './stores.js'

const run = promisify(execFile)
const MiB = 1024 * 1024
const CHILD = fileURLToPath(new URL('./stream-child.js', import.meta.url))
/** The goal: memory stays flat while a large object streams. */
const RSS_LIMIT_MIB = 64

async function child (subject: Subject | 'limit', op: 'put' | 'get', dir: string, mib: number): Promise<ChildResult> {
  const { stdout } = await run(process.execPath, ['--expose-gc', CHILD, subject, op, dir, String(mib)], { timeout: 10 * 60_000 })
  return JSON.parse(stdout.trim().split('\n').pop() as string) as ChildResult
}

const mibPerSecond = (r: ChildResult): number => r.bytes / MiB / (r.ms / 1000)
const rssGrowth = (r: ChildResult): number => (r.rssPeak - r.rssStart) / MiB
const anonGrowth = (r: ChildResult): number => (r.anonPeak - r.anonStart) / MiB
const list = (values: number[]): string => values.map(x => x.toFixed(1)).join(' ')

/**
 * The memory goal is judged on anonymous RSS: LevelDB reads its table files through mmap, so
 * total RSS also counts the (shared, reclaimable) file pages of whatever was read, for the raw
 * baseline as much as for spacebox. Both growths are printed and kept in the notes.
 */
function report (a: ChildResult[], b: ChildResult[], options: RunOptions, baseline = 'classic-level'): Figures {
  const out = figures(a.map(mibPerSecond), b.map(mibPerSecond), baseline)
  const worst = Math.max(...a.map(anonGrowth))
  const check: Check = { goal: `spacebox peak RSS growth < ${RSS_LIMIT_MIB} MiB (anonymous)`, value: `${worst.toFixed(1)} MiB`, met: worst < RSS_LIMIT_MIB }
  options.log(`    peak RSS growth, MiB: anonymous spacebox ${list(a.map(anonGrowth))} | raw ${list(b.map(anonGrowth))}; ` +
    `total spacebox ${list(a.map(rssGrowth))} | raw ${list(b.map(rssGrowth))}`)
  return {
    ...out,
    checks: [check],
    notes: {
      spaceboxAnonRssGrowthMiB: worst,
      rawAnonRssGrowthMiB: Math.max(...b.map(anonGrowth)),
      spaceboxRssGrowthMiB: Math.max(...a.map(rssGrowth)),
      rawRssGrowthMiB: Math.max(...b.map(rssGrowth))
    }
  }
}

const size = (mib: number): string => mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`

/**
 * A streamed put against raw classic-level, or against the limit: the same bytes hashed with MD5
 * and written once to a file (stream-child.ts), what no PUT can beat.
 */
function streamedPut (mib: number, quick: boolean, against: 'raw' | 'limit'): Scenario {
  return {
    name: `classic: streamed put ${size(mib)}${against === 'limit' ? ', against the limit' : ''}`,
    unit: 'MiB/s',
    quick,
    minRatio: against === 'limit' ? 0.7 : 0.6,
    run: async options => {
      const a: ChildResult[] = []
      const b: ChildResult[] = []
      for (let rep = 0; rep < options.pace.longReps; rep++) {
        for (const [subject, results] of [['spacebox', a], [against, b]] as const) {
          const dir = storeDir(options.tmp, subject)
          results.push(await child(subject, 'put', dir, mib))
          await rm(dir, { recursive: true, force: true })
        }
      }
      return report(a, b, options, against === 'limit' ? 'limit (MD5 + file write)' : 'classic-level')
    }
  }
}

function streamedGet (mib: number, quick: boolean): Scenario {
  return {
    name: `classic: streamed get ${size(mib)}`,
    unit: 'MiB/s',
    quick,
    run: async options => {
      const dirs = { spacebox: storeDir(options.tmp, 'spacebox'), raw: storeDir(options.tmp, 'raw') }
      await child('spacebox', 'put', dirs.spacebox, mib)
      await child('raw', 'put', dirs.raw, mib)
      const a: ChildResult[] = []
      const b: ChildResult[] = []
      for (let rep = 0; rep < options.pace.longReps; rep++) {
        a.push(await child('spacebox', 'get', dirs.spacebox, mib))
        b.push(await child('raw', 'get', dirs.raw, mib))
      }
      return report(a, b, options)
    }
  }
}

export const scenarios: Scenario[] = [
  streamedPut(256, true, 'raw'),
  streamedPut(256, true, 'limit'),
  streamedGet(256, true),
  streamedPut(1024, false, 'raw'),
  streamedGet(1024, false)
]
