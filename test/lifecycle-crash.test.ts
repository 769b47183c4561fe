// Crash test of lifecycle passes: a child process (test/fixtures/crash-lifecycle.ts) runs passes on
// an on-disk store where most things are due (test/fixtures/crash-lifecycle-setup.ts) and is killed
// with SIGKILL: by itself right after a seeded LevelDB write, or by this process a seeded number of
// ms after it opened, while an on-demand or a background pass runs. After each kill the store is
// reopened and checked: every version left reads whole (its bytes match its ETag), no chunk, part
// or index entry is left without its record (nor a record without them), and nothing that the same
// rules leave in place when no crash happens is gone. When a pass finally completes, passes run
// until none expires anything, and the store must hold exactly what an uncrashed store holds.
//
//   npx tap --disable-coverage test/lifecycle-crash.test.ts          # 12 kills, ~40 s
//   SPACEBOX_LIFECYCLE_CRASH_SEED=<seed> SPACEBOX_LIFECYCLE_CRASHES=<n>: replay a seed, resize a run
import t from 'tap'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { Spacebox } from '../lib/index.js'
import { DAY_MS, expiryKey, ID_LENGTH, objectKeyName, openSublevels, versionKeyName, type AnyLevel } from '../lib/schema/keys.js'
import { chunkCount, decodeHead, type PartRecord, type Segment } from '../lib/schema/records.js'
import { CHUNK, PLAIN, T0, T1, VERSIONED, populate } from './fixtures/crash-lifecycle-setup.js'
import { Rng } from './fixtures/crash-model.js'
import { segmentFileProblems } from './fixtures/segment-files.js'
import { transpileChild } from './fixtures/transpiled.js'
import { readAll, tempDir } from './helpers.js'

const CRASHES = Number(process.env.SPACEBOX_LIFECYCLE_CRASHES ?? (process.env.SPACEBOX_LONG_TESTS === '1' ? 80 : 12))
const SEED = process.env.SPACEBOX_LIFECYCLE_CRASH_SEED ?? (process.env.SPACEBOX_LONG_TESTS === '1' ? randomBytes(6).toString('hex') : 'lifecycle-crash-1')

interface Run { code: number | null, signal: NodeJS.Signals | null, done: boolean, stderr: string }

/** Run the child; `killAfterMs` from its `ready`, this process kills it. */
async function runChild (script: string, location: string, mode: 'apply' | 'background', killAfterWrites: number, killAfterMs: number | undefined): Promise<Run> {
  const proc = spawn(process.execPath, ['--enable-source-maps', script, location, String(T1), mode, String(killAfterWrites)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  proc.stderr.on('data', (data: Buffer) => { stderr += data.toString() })
  proc.stdout.on('data', (data: Buffer) => {
    stdout += data.toString()
    if (killAfterMs !== undefined && stdout.startsWith('ready\n') && stdout.length === 6) {
      setTimeout(() => proc.kill('SIGKILL'), killAfterMs)
    }
  })
  const { code, signal } = await new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    proc.on('close', (code, signal) => { resolve({ code, signal }) })
  })
  return { code, signal, done: stdout.includes('done\n'), stderr }
}

type State = Record<string, string[]>

/** Each bucket's keys and their versions, newest first (`M` a delete marker, else the ETag), and the uploads left. */
async function stateOf (box: Spacebox): Promise<State> {
  const out: State = {}
  for (const bucket of [PLAIN, VERSIONED]) {
    for await (const v of box.listAllVersions(bucket)) {
      (out[`${bucket}/${v.key}`] ??= []).push(v.deleteMarker === true ? 'M' : v.etag ?? '')
    }
    for (const upload of (await box.listMultipartUploads(bucket)).uploads) (out[`${bucket}/uploads`] ??= []).push(upload.key)
  }
  return out
}

/** Passes until one expires nothing (the order rules run in may leave a lone marker for the next pass). */
async function settle (box: Spacebox): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const r = await box.applyLifecycle()
    if (r.objects.length + r.versions.length + r.deleteMarkers.length + r.uploads.length === 0) return
  }
  throw new Error('lifecycle passes did not settle')
}

/** Every version reads whole; chunks, parts and index entries match the records exactly. Problems, listed. */
async function problems (location: string): Promise<string[]> {
  const found: string[] = []
  const db = new Level(location) as unknown as AnyLevel
  const sub = openSublevels(db)
  try {
    const segments = new Map<string, Segment>()
    const entries = new Set<string>()
    for await (const [stored, value] of sub.objects.iterator()) {
      const { head } = decodeHead(value)
      for (const s of head.segments ?? []) segments.set(s.id, s)
      if (head.noncurrentSince !== undefined) found.push(`current ${objectKeyName(stored)} has a noncurrent date`)
      entries.add(expiryKey(stored.toString('latin1', 0, ID_LENGTH), head.marker === true ? 'm' : 'c', Math.floor(head.modified / DAY_MS), objectKeyName(stored)).toString('hex'))
    }
    for await (const [stored, value] of sub.versions.iterator()) {
      const { head } = decodeHead(value)
      for (const s of head.segments ?? []) segments.set(s.id, s)
      if (head.noncurrentSince === undefined) found.push(`noncurrent ${versionKeyName(stored)} has no noncurrent date`)
      entries.add(expiryKey(stored.toString('latin1', 0, ID_LENGTH), 'n', Math.floor((head.noncurrentSince ?? 0) / DAY_MS), versionKeyName(stored), head.vid ?? 'null').toString('hex'))
    }
    const uploads = new Set((await sub.uploads.values().all()).map(u => (u as { id: string }).id))
    for await (const [stored, value] of sub.parts.iterator()) {
      const part = value as PartRecord
      if (!uploads.has(stored.slice(0, ID_LENGTH))) found.push(`part ${stored} of no upload`)
      segments.set(part.segment.id, part.segment)
    }
    const chunks = new Map<string, number>()
    for await (const key of sub.chunks.keys()) chunks.set(key.slice(0, ID_LENGTH), (chunks.get(key.slice(0, ID_LENGTH)) ?? 0) + 1)
    for (const [id, count] of chunks) if (!segments.has(id)) found.push(`${count} chunks of segment ${id}, which nothing references`)
    for (const [id, segment] of segments) {
      const expected = segment.file === undefined ? chunkCount(segment) : 0
      if ((chunks.get(id) ?? 0) !== expected) found.push(`segment ${id} has ${chunks.get(id) ?? 0} of ${expected} chunks`)
    }
    found.push(...await segmentFileProblems(location, sub, new Map([...segments].map(([id, segment]) => [id, { segment, owner: `segment ${id}` }]))))
    // A bucket's index is whole once its build is marked complete; before, part of it may be there.
    const complete = new Set((await sub.buckets.values().all()).filter(b => (b as { lifecycleIndexed?: boolean }).lifecycleIndexed === true).map(b => (b as { id: string }).id))
    const indexed = new Set((await sub.expiry.keys().all()).map(k => k.toString('hex')))
    for (const e of entries) if (!indexed.has(e) && complete.has(Buffer.from(e, 'hex').toString('latin1', 0, ID_LENGTH))) found.push(`no index entry ${e}`)
    for (const e of indexed) if (!entries.has(e)) found.push(`index entry ${e} of no version`)
  } finally {
    await db.close()
  }
  if (found.length > 0) return found
  const box = await Spacebox.open({ location, clock: () => T1, chunkSize: CHUNK, lifecycleInterval: 0 })
  try {
    for (const bucket of [PLAIN, VERSIONED]) {
      for await (const v of box.listAllVersions(bucket)) {
        if (v.deleteMarker === true) continue
        const { body } = await box.getObject(bucket, v.key, { versionId: v.versionId })
        const md5 = createHash('md5').update(await readAll(body)).digest('hex')
        if (`"${md5}"` !== v.etag) found.push(`${bucket}/${v.key}@${v.versionId} reads ${md5}, not ${v.etag}`)
      }
    }
  } finally {
    await box.close()
  }
  return found
}

t.test(`lifecycle passes killed ${CRASHES} times lose nothing that was not due and leave nothing half done (seed ${SEED})`, async t => {
  const script = await transpileChild(await tempDir(t), ['crash-lifecycle.ts', 'crash-lifecycle-setup.ts'])
  const rng = new Rng(SEED)

  // What the rules leave in place without crashes.
  let at = T0
  const clean = await Spacebox.open({ memory: true, clock: () => at, chunkSize: CHUNK, lifecycleInterval: 0 })
  await populate(clean)
  const before = await stateOf(clean)
  at = T1
  await settle(clean)
  const after = await stateOf(clean)
  await clean.close()
  const kept = Object.values(after).flat().filter(v => v !== 'M').length
  t.ok(kept < Object.values(before).flat().filter(v => v !== 'M').length - 250, `the rules leave ${kept} of ${Object.values(before).flat().length} versions and uploads`)

  const pristine = await tempDir(t)
  const setup = await Spacebox.open({ location: pristine, clock: () => T0, chunkSize: CHUNK, lifecycleInterval: 0 })
  await populate(setup)
  await setup.close()

  // Each store is a copy of the populated one, killed once or twice in a row, then let finish.
  let kills = 0
  for (let store = 1; kills < CRASHES; store++) {
    const location = join(await tempDir(t), 'store')
    await cp(pristine, location, { recursive: true })
    await cp(`${pristine}.key`, `${location}.key`)
    for (let i = rng.int(1, 2); i > 0; i--) {
      const mode = rng.chance(0.3) ? 'background' : 'apply'
      const byWrites = rng.chance(0.6)
      const run = await runChild(script, location, mode, byWrites ? rng.int(1, 300) : -1, byWrites ? undefined : rng.int(0, 100))
      if (run.signal !== 'SIGKILL') {
        if (run.code !== 0) t.fail(`the child failed: ${run.stderr}`)
        break
      }
      kills++
      t.same(await problems(location), [], `store ${store}, kill ${kills} (${mode}, ${byWrites ? 'after a write' : 'on a timer'}): whole and consistent`)
      const box = await Spacebox.open({ location, clock: () => T1, chunkSize: CHUNK, lifecycleInterval: 0 })
      const now = await stateOf(box)
      await box.close()
      const lost = Object.entries(after).flatMap(([key, versions]) => versions.filter(v => v !== 'M' && !(now[key] ?? []).includes(v)).map(v => `${key} ${v}`))
      t.same(lost, [], `store ${store}, kill ${kills}: nothing that stays without crashes is gone`)
    }
    const finish = await runChild(script, location, 'apply', -1, undefined)
    t.ok(finish.done, `store ${store}: a pass completes after the crashes`)
    const box = await Spacebox.open({ location, clock: () => T1, chunkSize: CHUNK, lifecycleInterval: 0 })
    await settle(box)
    t.same(await stateOf(box), after, `store ${store}: passes leave exactly what they leave without crashes`)
    await box.close()
  }
})
