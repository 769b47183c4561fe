/**
 * completeMultipartUpload of 100 parts: with parts of 1 MiB against the same with parts of 64 KiB.
 * Completion writes one record pointing at the parts' chunks, so it should cost the same whatever
 * the parts hold (ratio ~1). Only the complete calls are timed: every upload is made first, in one
 * store (untimed), LevelDB is left to finish the compaction the uploads set off, and then the
 * completes alternate, one with big parts and one with small parts, each pair a repetition.
 */
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { Level } from 'level'
import { type CompletedPart, Spacebox } from '../lib/index.js'
import { type Scenario, figures, median } from './scenario.js'
import { BUCKET, leveldb, pattern, pool, storeDir } from './stores.js'

const KiB = 1024
const MiB = 1024 * KiB
const PARTS = 100

interface Upload { key: string, uploadId: string, parts: CompletedPart[] }

async function upload (box: Spacebox, key: string, part: Buffer): Promise<Upload> {
  const { uploadId } = await box.createMultipartUpload(BUCKET, key)
  const parts: CompletedPart[] = new Array(PARTS)
  await pool(PARTS, 4, async i => {
    parts[i] = { partNumber: i + 1, etag: (await box.uploadPart(BUCKET, key, uploadId, i + 1, part)).etag }
  })
  return { key, uploadId, parts }
}

/** Completes per second of one complete call. */
async function completeRate (box: Spacebox, { key, uploadId, parts }: Upload): Promise<number> {
  const started = performance.now()
  await box.completeMultipartUpload(BUCKET, key, uploadId, parts)
  return 1000 / (performance.now() - started)
}

/**
 * Wait (at most `limitMs`) until LevelDB has no level-0 compaction left to do, so that it neither
 * competes for the CPU with what is timed next nor slows its writes down. Resolves to the ms waited.
 */
async function settle (db: Level, limitMs = 30_000): Promise<number> {
  const started = performance.now()
  // LevelDB compacts level 0 from 4 files on, and slows writes down from 8.
  while (Number(leveldb(db).getProperty('leveldb.num-files-at-level0')) >= 4 && performance.now() - started < limitMs) await sleep(50)
  return performance.now() - started
}

const sizeText = (bytes: number): string => bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`

function complete (big: number, small: number): Scenario {
  return {
    name: `classic: complete multipart upload of ${PARTS} x ${sizeText(big)} parts`,
    unit: 'completes/s',
    quick: true,
    run: async options => {
      const dir = storeDir(options.tmp, 'multipart')
      await mkdir(dir, { recursive: true })
      // spacebox on a database of our own, to ask LevelDB whether its compaction is over.
      const db = new Level(dir)
      await db.open()
      try {
        const box = await Spacebox.open({ db, masterKey: randomBytes(32), minPartSize: 0 })
        try {
          await box.createBucket(BUCKET)
          // A pair a repetition, and one pair first, not kept, as interleave() does. One complete
          // takes about a millisecond and varies: the full set has twice the repetitions.
          const pairs = (options.full ? 2 : 1) * options.pace.reps + 1
          const started = performance.now()
          const uploads = { a: [] as Upload[], b: [] as Upload[] }
          const parts = { a: pattern(big), b: pattern(small) }
          for (let i = 0; i < pairs; i++) {
            for (const side of ['a', 'b'] as const) uploads[side].push(await upload(box, `${side}/${i}`, parts[side]))
          }
          const waited = await settle(db)
          options.log(`    uploaded ${pairs} x ${PARTS} parts of each size in ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
            `of which ${(waited / 1000).toFixed(1)} s waiting for compaction`)
          const rates = { a: [] as number[], b: [] as number[] }
          for (let i = 0; i < pairs; i++) {
            for (const side of ['a', 'b'] as const) rates[side].push(await completeRate(box, uploads[side][i] as Upload))
          }
          const out = figures(rates.a.slice(1), rates.b.slice(1), `complete of ${PARTS} x ${sizeText(small)} parts`)
          return { ...out, notes: { 'ms per complete, big parts': 1000 / median(rates.a.slice(1)), 'ms per complete, small parts': 1000 / median(rates.b.slice(1)) } }
        } finally {
          await box.close()
        }
      } finally {
        await db.close()
      }
    }
  }
}

export const scenarios: Scenario[] = [complete(MiB, 64 * KiB)]
