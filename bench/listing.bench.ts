/**
 * Listing: one listObjectsV2 page of 1000 keys (the first, and one in the middle reached by a
 * continuation token) in buckets of 10,000 and 1,000,000 keys, against raw classic-level reading
 * 1000 entries with an iterator from the same position; and one page rolled up at '/' over 100
 * prefixes of 10,000 keys each, against raw classic-level walking the same keys with a seek past
 * each prefix. The page's cost should follow the page, not the bucket: notes give the records
 * read per page (box.stats()) and, when both buckets ran, the 1M/10k ratio of page rates.
 */
import { join } from 'node:path'
import type { ListObjectsV2Options, Spacebox } from '../lib/index.js'
import { type Check, type Figures, type RunOptions, type Scenario, type Side, Tally, figures, interleave } from './scenario.js'
import { BUCKET, type RawDb, compact, openBox, openRaw, pool } from './stores.js'

const PAGE = 1000
const PREFIXES = 100
const DELIMITER = '/'
const EMPTY = Buffer.alloc(0)

/** Key `i` of a bucket of `n`: 100 prefixes of n/100 keys each, 'p00/0000000' on, as long whatever n. */
function keyOf (i: number, n: number): string {
  return `p${Math.floor(i * PREFIXES / n).toString().padStart(2, '0')}${DELIMITER}${i.toString().padStart(7, '0')}`
}

const count = (n: number): string => n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`

/** Where a filled bucket of `n` keys lives, for spacebox and for the raw database. */
interface Population { box: string, raw: string }

const populations = new Map<string, Promise<Population>>()

/**
 * The bucket of `n` keys, filled once a run (in the run's shared directory) and then reopened by
 * every scenario that lists it: spacebox with 0-byte objects (inline), 16 puts in flight; the raw
 * database with the same keys and empty values, in batches of 1000. Both are then compacted whole,
 * so that no scenario pays for (or is disturbed by) the compaction the filling set off.
 */
async function population (options: RunOptions, n: number): Promise<Population> {
  const id = `${options.shared}\0${n}`
  let filled = populations.get(id)
  if (filled === undefined) {
    filled = fill(options, n)
    populations.set(id, filled)
  }
  return await filled
}

async function fill (options: RunOptions, n: number): Promise<Population> {
  const dirs = { box: join(options.shared, `listing-${n}-spacebox`), raw: join(options.shared, `listing-${n}-raw`) }
  const started = performance.now()
  const box = await openBox('classic', dirs.box)
  try {
    await pool(n, 16, async i => { await box.putObject(BUCKET, keyOf(i, n), EMPTY) })
  } finally {
    await box.close()
  }
  const filledBox = performance.now()
  const db = await openRaw('classic', dirs.raw)
  try {
    for (let from = 0; from < n; from += PAGE) {
      await db.batch(Array.from({ length: Math.min(PAGE, n - from) }, (_, j) => ({ type: 'put' as const, key: keyOf(from + j, n), value: EMPTY })))
    }
  } finally {
    await db.close()
  }
  const filledRaw = performance.now()
  await compact(dirs.box)
  await compact(dirs.raw)
  const seconds = (ms: number): string => (ms / 1000).toFixed(1)
  options.log(`    filled ${count(n)} keys: spacebox ${seconds(filledBox - started)} s (16 puts in flight), raw ${seconds(filledRaw - filledBox)} s ` +
    `(batches of ${PAGE}); both compacted in ${seconds(performance.now() - filledRaw)} s`)
  return dirs
}

/** Raw classic-level: up to `limit` entries after `after` (from the start if undefined). */
async function rawPage (db: RawDb, after: string | undefined, limit: number): Promise<number> {
  return (await db.iterator(after === undefined ? { limit } : { gt: after, limit }).all()).length
}

/** Raw classic-level: every key rolled up at the delimiter, with one seek past each prefix, as spacebox's walk does. */
async function rawRollUp (db: RawDb): Promise<number> {
  const past = String.fromCharCode(DELIMITER.charCodeAt(0) + 1)
  const iterator = db.iterator()
  let prefixes = 0
  try {
    for (let entry = await iterator.next(); entry !== undefined; entry = await iterator.next()) {
      const at = entry[0].indexOf(DELIMITER)
      if (at < 0) continue
      prefixes++
      iterator.seek(entry[0].slice(0, at) + past)
    }
  } finally {
    await iterator.close()
  }
  return prefixes
}

/** Which page is listed. */
interface Page {
  /** In the scenario's name, and the key of its rate for the 10k/1M comparison. */
  what: string
  baselineName: string
  /** Entries (objects or common prefixes) the page holds. */
  size: number
  /** Untimed: the options of spacebox's page, and the raw key the page starts after. */
  locate: (box: Spacebox, n: number) => Promise<{ list: ListObjectsV2Options, after: string | undefined }>
  raw: (db: RawDb, after: string | undefined) => Promise<number>
}

const firstPage: Page = {
  what: `first page of ${PAGE}`,
  baselineName: `classic-level iterator, ${PAGE} entries`,
  size: PAGE,
  locate: async () => ({ list: {}, after: undefined }),
  raw: async (db, after) => await rawPage(db, after, PAGE)
}

/** The page after the one that starts halfway (startAfter), reached by its continuation token. */
const middlePage: Page = {
  ...firstPage,
  what: `middle page of ${PAGE} (continuation token)`,
  locate: async (box, n) => {
    const from = await box.listObjectsV2(BUCKET, { startAfter: keyOf(n / 2 - 1, n) })
    const last = from.contents.at(-1)
    if (from.nextContinuationToken === undefined || last === undefined) throw new Error('the page halfway is not truncated')
    return { list: { continuationToken: from.nextContinuationToken }, after: last.key }
  }
}

const rolledUp: Page = {
  what: `delimiter '${DELIMITER}', ${PREFIXES} prefixes rolled up`,
  baselineName: 'classic-level, a seek per prefix',
  size: PREFIXES,
  locate: async () => ({ list: { delimiter: DELIMITER }, after: undefined }),
  raw: async db => await rawRollUp(db)
}

/** Pages per second of each page kind in the 10k bucket, for the 1M bucket's notes. */
const smallBucketRates = new Map<string, number>()
const SMALL = 10_000

function listing (page: Page, n: number, quick: boolean): Scenario {
  const checks = (perPage: number): Check[] => page !== rolledUp
    ? []
    : [{ goal: `records read per page ≈ ${PREFIXES + 1} (≤ ${PREFIXES + 2})`, value: perPage.toFixed(1), met: perPage <= PREFIXES + 2 }]
  return {
    name: `listing: ${page.what}, ${count(n)} keys`,
    unit: 'pages/s',
    quick,
    run: async options => {
      const dirs = await population(options, n)
      const box = await openBox('classic', dirs.box)
      try {
        const db = await openRaw('classic', dirs.raw)
        try {
          const { list, after } = await page.locate(box, n)
          const expect = (side: string, got: number): void => {
            if (got !== page.size) throw new Error(`${side} listed ${got} entries, not ${page.size}`)
          }
          const tally = new Tally(() => ({ ...box.stats() }))
          const a: Side = {
            op: async () => {
              const found = await box.listObjectsV2(BUCKET, list)
              expect('spacebox', found.contents.length + found.commonPrefixes.length)
            }
          }
          const b: Side = { op: async () => { expect('classic-level', await page.raw(db, after)) } }
          const ops = await interleave(tally.wrap(a), b, 1, options.pace)
          const out: Figures = figures(ops.a, ops.b, page.baselineName)
          const notes: Record<string, number> = {
            'records read per page': tally.per('listRecordsRead'),
            'seeks per page': tally.per('listSeeks')
          }
          if (n === SMALL) smallBucketRates.set(page.what, out.spacebox)
          const small = smallBucketRates.get(page.what)
          if (n !== SMALL && small !== undefined) notes[`pages/s vs ${count(SMALL)} keys`] = out.spacebox / small
          const own = checks(notes['records read per page'] as number)
          return { ...out, notes, ...(own.length === 0 ? {} : { checks: own }) }
        } finally {
          await db.close()
        }
      } finally {
        await box.close()
      }
    }
  }
}

export const scenarios: Scenario[] = [
  listing(firstPage, SMALL, true),
  listing(middlePage, SMALL, true),
  listing(firstPage, 1_000_000, false),
  listing(middlePage, 1_000_000, false),
  listing(rolledUp, 1_000_000, false)
]
