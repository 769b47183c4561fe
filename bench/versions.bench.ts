/**
 * Versioning. Noncurrent versions live in a sublevel of their own (`versions`), so that:
 *
 * - a ListObjectVersions page costs what its entries cost, however many versions each key has.
 *   Three buckets of one store hold the same 10,000 versions under prefix 'p1/': 10,000 keys of 1
 *   version, 100 keys of 100, or 1 key of 10,000; nine neighbour prefixes hold one key of one
 *   version each. A page of 1000 (the first, and one in the middle reached by key and version-id
 *   markers) and a page rolled up at '/' (ten prefixes, 'p1/' among them) are timed in the buckets
 *   of 100 and 10,000 versions per key against the same page in the bucket of 1 per key. Notes
 *   give the records read and seeks per page (box.stats()) of both sides.
 * - GET of a key's current version does not see its noncurrent ones: a key with 1,000 noncurrent
 *   versions against the same key in an unversioned bucket (each its own store, same bytes), at
 *   1 KiB (inline) and at the chunk size (64 KiB chunks); in the full set also against a versioned
 *   bucket of one version a key, which parts the cost of the noncurrent versions from that of
 *   reading a versioned object at all.
 *
 * `--only versions` runs them all.
 */
import { join } from 'node:path'
import type { ListObjectVersionsOptions, ObjectVersion, OpenOptions, Spacebox } from '../lib/index.js'
import { type Check, type Figures, type RunOptions, type Scenario, type Side, Tally, figures, interleave } from './scenario.js'
import { BUCKET, compact, drain, openBox, pattern, pool, storeDir } from './stores.js'

const KiB = 1024
const PAGE = 1000
/** Versions under the heavy prefix of every listing bucket, whatever the versions per key. */
const TOTAL = 10_000
/** 'p0/' .. 'p9/': 'p1/' holds the versioned keys, each other one key of one version. */
const PREFIXES = 10
const HEAVY = 1
const DELIMITER = '/'
const EMPTY = Buffer.alloc(0)

const thousands = (n: number): string => n.toLocaleString('en-US')
const perKey = (depth: number): string => `${thousands(depth)} version${depth === 1 ? '' : 's'} per key`

/** The listing bucket whose keys under the heavy prefix have `depth` versions each. */
const bucketOf = (depth: number): string => `versions-${depth}`

/** Key `i` of prefix `p`. */
const keyOf = (p: number, i: number): string => `p${p}${DELIMITER}k${i.toString().padStart(7, '0')}`

const populations = new Map<string, Promise<string>>()

/**
 * The store of the listing buckets, filled once a run (in the run's shared directory) and then
 * reopened by every listing scenario: 0-byte objects (inline), a key's versions written one after
 * another, up to 16 keys at a time; then compacted whole, so that no scenario pays for (or is
 * disturbed by) the compaction the filling set off.
 */
async function population (options: RunOptions, depths: number[]): Promise<string> {
  let filled = populations.get(options.shared)
  if (filled === undefined) {
    filled = fill(options, depths)
    populations.set(options.shared, filled)
  }
  return await filled
}

async function fill (options: RunOptions, depths: number[]): Promise<string> {
  const dir = join(options.shared, 'versions-listing')
  const box = await openBox('classic', dir)
  const times: string[] = []
  try {
    for (const depth of depths) {
      const started = performance.now()
      const bucket = bucketOf(depth)
      await box.createBucket(bucket)
      await box.putBucketVersioning(bucket, 'Enabled')
      for (let p = 0; p < PREFIXES; p++) if (p !== HEAVY) await box.putObject(bucket, keyOf(p, 0), EMPTY)
      await pool(TOTAL / depth, 16, async i => {
        for (let v = 0; v < depth; v++) await box.putObject(bucket, keyOf(HEAVY, i), EMPTY)
      })
      times.push(`${perKey(depth)} ${((performance.now() - started) / 1000).toFixed(1)} s`)
    }
  } finally {
    await box.close()
  }
  const started = performance.now()
  await compact(dir)
  options.log(`    filled ${depths.length} buckets of ${thousands(TOTAL)} versions: ${times.join(', ')}; compacted in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return dir
}

/** Which page is listed. */
interface Page {
  what: string
  /** Versions and common prefixes the page holds. */
  size: number
  /** Untimed: the options of the page in `bucket`. */
  locate: (box: Spacebox, bucket: string) => Promise<ListObjectVersionsOptions>
  /** The most records a page may read (box.stats().listRecordsRead) whatever the versions per key. */
  maxRecords: number
}

const firstPage: Page = {
  what: `first page of ${PAGE}`,
  size: PAGE,
  locate: async () => ({ maxKeys: PAGE }),
  // The walk reads one entry past a full page, to know it is truncated.
  maxRecords: PAGE + 1
}

/** The sixth page: entry 5000 on, reached by the markers the fifth one returned. */
const middlePage: Page = {
  ...firstPage,
  what: `middle page of ${PAGE} (key and version-id markers)`,
  locate: async (box, bucket) => {
    let list: ListObjectVersionsOptions = { maxKeys: PAGE }
    for (let page = 0; page < 5; page++) {
      const found = await box.listObjectVersions(bucket, list)
      if (!found.isTruncated || found.nextKeyMarker === undefined || found.nextVersionIdMarker === undefined) throw new Error(`page ${page} of ${bucket} is not truncated`)
      list = { maxKeys: PAGE, keyMarker: found.nextKeyMarker, versionIdMarker: found.nextVersionIdMarker }
    }
    return list
  }
}

const rolledUp: Page = {
  what: `delimiter '${DELIMITER}', ${PREFIXES} prefixes rolled up`,
  size: PREFIXES,
  locate: async () => ({ delimiter: DELIMITER }),
  // One record a prefix, then a seek past it.
  maxRecords: PREFIXES
}

const BASE_DEPTH = 1

function listing (page: Page, depth: number, depths: number[], quick: boolean): Scenario {
  return {
    name: `versions: list ${page.what}, ${perKey(depth)}`,
    unit: 'pages/s',
    quick,
    run: async options => {
      const dir = await population(options, depths)
      const box = await openBox('classic', dir)
      try {
        const side = async (bucket: string): Promise<{ side: Side, tally: Tally }> => {
          const list = await page.locate(box, bucket)
          const tally = new Tally(() => ({ ...box.stats() }))
          const op = async (): Promise<void> => {
            const found = await box.listObjectVersions(bucket, list)
            const got = found.versions.length + found.commonPrefixes.length
            if (got !== page.size) throw new Error(`${bucket} listed ${got} entries, not ${page.size}`)
          }
          return { side: tally.wrap({ op }), tally }
        }
        const a = await side(bucketOf(depth))
        const b = await side(bucketOf(BASE_DEPTH))
        const ops = await interleave(a.side, b.side, 1, options.pace)
        const out: Figures = figures(ops.a, ops.b, `same page, ${perKey(BASE_DEPTH)}`)
        const notes: Record<string, number> = {
          'records read per page': a.tally.per('listRecordsRead'),
          'seeks per page': a.tally.per('listSeeks'),
          [`records read per page, ${perKey(BASE_DEPTH)}`]: b.tally.per('listRecordsRead'),
          [`seeks per page, ${perKey(BASE_DEPTH)}`]: b.tally.per('listSeeks')
        }
        const records = notes['records read per page'] as number
        const checks: Check[] = [{ goal: `records read per page ≤ ${page.maxRecords}`, value: records.toFixed(1), met: records <= page.maxRecords }]
        return { ...out, notes, checks }
      } finally {
        await box.close()
      }
    }
  }
}

/** What a GET scenario reads: objects of `size` bytes, in a store opened with `open`. */
interface GetCase {
  size: number
  /** Keys read in turn; each has NONCURRENT versions under its current one on the versioned side. */
  keys: number
  what: string
  open: Omit<OpenOptions, 'location' | 'memory' | 'db'>
  /**
   * The baseline's bucket: unversioned, or versioning Enabled with one version a key, which
   * tells the cost of the noncurrent versions from that of reading a versioned object at all.
   */
  baseline: 'unversioned' | 'versioned'
  quick: boolean
  minRatio?: number
}

const NONCURRENT = 1000

/**
 * GET of a key's current version (no versionId), the body read to its end, in a versioned bucket
 * where the key has 1,000 noncurrent versions of the same size, against the same GET of a key
 * with one version (in an unversioned bucket, or a versioned one). Each side is its own store,
 * filled, compacted and opened again before anything is measured.
 */
function getLatest (c: GetCase): Scenario {
  const value = pattern(c.size)
  const key = (i: number): string => `obj/${i.toString().padStart(4, '0')}`
  return {
    name: `versions: get ${c.what} latest of ${thousands(NONCURRENT)} noncurrent${c.baseline === 'versioned' ? ' vs versioned bucket' : ''}, sequential`,
    unit: c.size >= 64 * KiB ? 'MiB/s' : 'ops/s',
    quick: c.quick,
    ...(c.minRatio === undefined ? {} : { minRatio: c.minRatio }),
    run: async options => {
      const perOp = c.size >= 64 * KiB ? c.size / (1024 * KiB) : 1
      const open = async (noncurrent: number, versioned: boolean): Promise<{ box: Spacebox, side: Side, seconds: number }> => {
        const dir = storeDir(options.tmp, versioned ? 'versioned' : 'unversioned')
        const started = performance.now()
        let box = await openBox('classic', dir, c.open)
        try {
          if (versioned) await box.putBucketVersioning(BUCKET, 'Enabled')
          await pool(c.keys, 16, async i => {
            for (let v = 0; v <= noncurrent; v++) await box.putObject(BUCKET, key(i), value)
          })
        } finally {
          await box.close()
        }
        await compact(dir)
        box = await openBox('classic', dir, c.open)
        const seconds = (performance.now() - started) / 1000
        if (versioned) {
          // Untimed: the key really has its versions, and a GET reads the latest.
          const listed: ObjectVersion[] = []
          for await (const version of box.listAllVersions(BUCKET, { prefix: key(0) })) listed.push(version)
          const latest = listed[0]
          if (listed.length !== noncurrent + 1 || latest?.isLatest !== true) throw new Error(`${key(0)} has ${listed.length} versions, not ${noncurrent + 1}`)
          const got = await box.getObject(BUCKET, key(0))
          await drain(got.body)
          if (got.info.versionId !== latest.versionId) throw new Error(`GET read version ${String(got.info.versionId)}, not the latest ${latest.versionId}`)
        }
        let n = 0
        return {
          box,
          seconds,
          side: {
            op: async () => {
              const length = await drain((await box.getObject(BUCKET, key(n++ % c.keys))).body)
              if (length !== c.size) throw new Error(`read ${length} bytes, not ${c.size}`)
            }
          }
        }
      }
      const a = await open(NONCURRENT, true)
      try {
        const b = await open(0, c.baseline === 'versioned')
        try {
          options.log(`    filled: ${c.keys} keys × ${thousands(NONCURRENT + 1)} versions in ${a.seconds.toFixed(1)} s, ${c.baseline} × 1 in ${b.seconds.toFixed(1)} s (both compacted)`)
          const ops = await interleave(a.side, b.side, 1, options.pace)
          const baselineName = c.baseline === 'versioned' ? 'same GET, versioned bucket, 1 version a key' : 'same GET, unversioned bucket'
          return figures(ops.a.map(x => x * perOp), ops.b.map(x => x * perOp), baselineName)
        } finally {
          await b.box.close()
        }
      } finally {
        await a.box.close()
      }
    }
  }
}

const DEPTHS = [BASE_DEPTH, 100, 10_000]

export const scenarios: Scenario[] = [
  listing(firstPage, 10_000, DEPTHS, true),
  listing(rolledUp, 10_000, DEPTHS, true),
  listing(firstPage, 100, DEPTHS, false),
  listing(middlePage, 100, DEPTHS, false),
  listing(middlePage, 10_000, DEPTHS, false),
  listing(rolledUp, 100, DEPTHS, false),
  getLatest({ size: KiB, keys: 16, what: '1 KiB (inline)', open: {}, baseline: 'unversioned', quick: true, minRatio: 0.9 }),
  // At the chunk size, as one chunk: 64 KiB chunks, so that 1,000 noncurrent versions stay 64 MiB a key (128 MiB for the two keys).
  getLatest({ size: 64 * KiB, keys: 2, what: '64 KiB (one chunk of 64 KiB)', open: { chunkSize: 64 * KiB }, baseline: 'unversioned', quick: true, minRatio: 0.9 }),
  getLatest({ size: KiB, keys: 16, what: '1 KiB (inline)', open: {}, baseline: 'versioned', quick: false, minRatio: 0.9 })
]
