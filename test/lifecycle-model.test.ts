// Model-based test of lifecycle rules on a manual clock: seeded random sequences of puts (of
// several sizes and tags), deletes, deletes of versions, tag changes, versioning changes, uploads
// started and aborted, lifecycle configurations replaced or removed, and the clock moved by hours
// or days. After every move of the clock a pass runs and must expire exactly what a small model of
// S3 (versions, delete markers, uploads and the rules applied in order) says, under the rule that
// expires it; then every key's versions (ListObjectVersions), every current version (HEAD, with its
// x-amz-expiration), the uploads in progress and the raw lifecycle index are compared with the model.
//
//   npx tap --disable-coverage test/lifecycle-model.test.ts          # 4 seeds x 250 steps, in memory
//   SPACEBOX_LIFECYCLE_SEED=<seed> SPACEBOX_LIFECYCLE_STEPS=<n>: replay a seed, resize a run
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { MemoryLevel } from 'memory-level'
import { Spacebox, type LifecycleExpired, type LifecycleResult, type LifecycleRule, type VersioningStatus } from '../lib/index.js'
import { expiryKey, openSublevels, type AnyLevel } from '../lib/schema/keys.js'
import { ManualClock } from '../lib/testing/clock.js'
import { Rng } from './fixtures/crash-model.js'

const STEPS = Number(process.env.SPACEBOX_LIFECYCLE_STEPS ?? (process.env.SPACEBOX_LONG_TESTS === '1' ? 2000 : 250))
const GIVEN = process.env.SPACEBOX_LIFECYCLE_SEED
const SEEDS = GIVEN !== undefined ? [GIVEN] : process.env.SPACEBOX_LONG_TESTS === '1' ? Array.from({ length: 6 }, () => randomBytes(6).toString('hex')) : ['lifecycle-1', 'lifecycle-2', 'lifecycle-3', 'lifecycle-4']

const BUCKET = 'model'
const KEYS = ['a/1', 'a/2', 'a/b/3', 'b', 'bc', 'é'] as const
const DAY = 86_400_000
const START = Date.UTC(2030, 5, 1, 9, 15)
const TAGS = [undefined, { t: '1' }, { t: '2' }, { t: '1', u: 'x' }] as const

interface Version {
  id: string
  marker: boolean
  size: number
  tags: Record<string, string> | undefined
  modified: number
  /** Set while noncurrent. */
  since?: number
}

interface Upload { key: string, uploadId: string, initiated: number }

/** S3's versioning and lifecycle, as small as it can be: newest version first for each key. */
class Model {
  versioning: VersioningStatus | undefined
  keys = new Map<string, Version[]>()
  uploads: Upload[] = []
  rules: LifecycleRule[] | undefined

  versionsOf (key: string): Version[] {
    let list = this.keys.get(key)
    if (list === undefined) this.keys.set(key, list = [])
    return list
  }

  /** A new current version, as supersede makes it. */
  write (key: string, version: Version, now: number): void {
    const list = this.versionsOf(key)
    const current = list[0]
    if (current !== undefined) {
      if (this.versioning !== 'Enabled' && current.id === 'null') list.shift()
      else current.since = now
    }
    if (this.versioning === 'Suspended') {
      const at = list.findIndex(v => v.id === 'null')
      if (at !== -1) list.splice(at, 1)
    }
    list.unshift(version)
  }

  /** Remove a version for good; the newest left becomes current. */
  remove (key: string, id: string): void {
    const list = this.versionsOf(key)
    const at = list.findIndex(v => v.id === id)
    if (at === -1) return
    list.splice(at, 1)
    if (at === 0 && list[0] !== undefined) delete list[0].since
    if (list.length === 0) this.keys.delete(key)
  }
}

function matches (rule: LifecycleRule, key: string, v: Version): boolean {
  const filter = rule.filter ?? {}
  const prefix = rule.prefix ?? filter.prefix ?? ''
  if (!key.startsWith(prefix)) return false
  if (filter.objectSizeGreaterThan !== undefined && !(v.size > filter.objectSizeGreaterThan)) return false
  if (filter.objectSizeLessThan !== undefined && !(v.size < filter.objectSizeLessThan)) return false
  return Object.entries(filter.tags ?? {}).every(([k, value]) => v.tags?.[k] === value)
}

/** Midnight UTC after `days` days from `at`. */
const dueAfter = (at: number, days: number): number => (Math.floor(at / DAY) + days + 1) * DAY

function currentDue (rule: LifecycleRule, modified: number): number | undefined {
  const e = rule.expiration
  if (e?.days !== undefined) return dueAfter(modified, e.days)
  if (e?.date !== undefined) return new Date(e.date).getTime()
  return undefined
}

interface Expected { objects: string[], versions: string[], deleteMarkers: string[], uploads: string[] }

/**
 * What a pass at `now` expires, applied to the model, rule by rule as the engine goes: current
 * versions, then delete markers as old as the rule's days, then lone markers, then noncurrent
 * versions, then uploads. Markers the pass writes get their ids from `markerIds`, by key.
 */
function pass (model: Model, now: number, markerIds: Map<string, string>): Expected {
  const out: Expected = { objects: [], versions: [], deleteMarkers: [], uploads: [] }
  for (const rule of model.rules ?? []) {
    if (rule.status !== 'Enabled') continue
    const id = rule.id as string
    const e = rule.expiration
    if (e?.days !== undefined || (e?.date !== undefined && now >= new Date(e.date).getTime())) {
      for (const [key, list] of [...model.keys]) {
        const current = list[0] as Version
        if (current.marker || !matches(rule, key, current) || (currentDue(rule, current.modified) as number) > now) continue
        out.objects.push(`${key}@${current.id} by ${id}`)
        if (model.versioning === undefined) {
          model.keys.delete(key)
        } else {
          const marker = markerIds.get(key)
          model.write(key, { id: marker ?? '?', marker: true, size: 0, tags: undefined, modified: now }, now)
        }
      }
      for (const [key, list] of [...model.keys]) {
        const current = list[0] as Version
        if (!current.marker || list.length > 1 || !matches(rule, key, current) || (currentDue(rule, current.modified) as number) > now) continue
        out.deleteMarkers.push(`${key}@${current.id} by ${id}`)
        model.remove(key, current.id)
      }
    }
    if (e?.expiredObjectDeleteMarker === true) {
      for (const [key, list] of [...model.keys]) {
        const current = list[0] as Version
        if (!current.marker || list.length > 1 || !matches(rule, key, current)) continue
        out.deleteMarkers.push(`${key}@${current.id} by ${id}`)
        model.remove(key, current.id)
      }
    }
    const nc = rule.noncurrentVersionExpiration
    if (nc !== undefined) {
      for (const [key, list] of [...model.keys]) {
        // Oldest first does not change the outcome (see the engine's expireNoncurrent), but it is the index's order.
        for (const v of [...list.slice(1)].reverse()) {
          const newer = list.indexOf(v) - 1
          if (!matches(rule, key, v) || dueAfter(v.since as number, nc.noncurrentDays) > now) continue
          if (newer < (nc.newerNoncurrentVersions ?? 0)) continue
          out.versions.push(`${key}@${v.id} by ${id}`)
          model.remove(key, v.id)
        }
      }
    }
    const abort = rule.abortIncompleteMultipartUpload
    if (abort !== undefined) {
      for (const upload of [...model.uploads]) {
        if (!matches(rule, upload.key, { id: '', marker: false, size: 0, tags: undefined, modified: 0 }) || dueAfter(upload.initiated, abort.daysAfterInitiation) > now) continue
        out.uploads.push(`${upload.key}@${upload.uploadId} by ${id}`)
        model.uploads.splice(model.uploads.indexOf(upload), 1)
      }
    }
  }
  for (const list of Object.values(out)) list.sort()
  return out
}

function described (result: LifecycleResult): Expected {
  const line = (e: LifecycleExpired, id: string | undefined): string => `${e.key}@${id ?? 'null'} by ${e.ruleId}`
  return {
    objects: result.objects.map(e => line(e, e.versionId)).sort(),
    versions: result.versions.map(e => line(e, e.versionId)).sort(),
    deleteMarkers: result.deleteMarkers.map(e => line(e, e.versionId)).sort(),
    uploads: result.uploads.map(e => line(e, e.uploadId)).sort()
  }
}

function randomRules (rng: Rng): LifecycleRule[] {
  const rules: LifecycleRule[] = []
  for (let i = rng.int(1, 3); i > 0; i--) {
    const prefix = rng.pick(['', '', 'a/', 'b'])
    const tagged = rng.chance(0.25)
    const sized = !tagged && rng.chance(0.2)
    const filter = {
      ...(prefix === '' && rng.chance(0.5) ? {} : { prefix }),
      ...(tagged ? { tags: rng.pick([{ t: '1' }, { t: '1', u: 'x' }]) } : {}),
      ...(sized ? (rng.chance(0.5) ? { objectSizeGreaterThan: 10 } : { objectSizeLessThan: 20 }) : {})
    }
    const rule: LifecycleRule = { id: `r${rules.length}-${rng.int(0, 999)}`, status: rng.chance(0.9) ? 'Enabled' : 'Disabled' }
    if (rng.chance(0.2)) rule.prefix = prefix
    else rule.filter = filter
    const kind = rng.int(0, 3)
    if (kind === 0 || rng.chance(0.3)) {
      rule.expiration = rng.chance(0.75) ? { days: rng.int(1, 4) } : { date: new Date((Math.floor(START / DAY) + rng.int(1, 6)) * DAY).toISOString() }
    } else if (kind === 1 && !tagged) {
      rule.expiration = { expiredObjectDeleteMarker: true }
    }
    if (kind === 2 || rng.chance(0.3)) rule.noncurrentVersionExpiration = { noncurrentDays: rng.int(1, 3), ...(rng.chance(0.4) ? { newerNoncurrentVersions: rng.int(1, 2) } : {}) }
    if ((kind === 3 || rng.chance(0.2)) && !tagged && !sized && rule.prefix === undefined) rule.abortIncompleteMultipartUpload = { daysAfterInitiation: rng.int(1, 3) }
    if (rule.expiration === undefined && rule.noncurrentVersionExpiration === undefined && rule.abortIncompleteMultipartUpload === undefined) rule.expiration = { days: 2 }
    rules.push(rule)
  }
  return rules
}

async function run (t: Test, seed: string): Promise<void> {
  const rng = new Rng(seed)
  const clock = new ManualClock(START)
  const db = new MemoryLevel() as unknown as AnyLevel
  const box = await Spacebox.open({ db, clock: clock.now, lifecycleInterval: 0, masterKey: Buffer.alloc(32, 7) })
  t.teardown(async () => { await box.close(); await db.close() })
  await box.createBucket(BUCKET)
  const bucketId = (await openSublevels(db).buckets.get(BUCKET) as { id: string }).id
  const model = new Model()
  let passes = 0
  let expired = 0

  /** `indexBuilt`: a pass just ran, so any index build the rules started is complete. */
  const check = async (step: number, indexBuilt: boolean): Promise<void> => {
    const listed = (await box.listObjectVersions(BUCKET)).versions.map(v => `${v.key}@${v.versionId}${v.deleteMarker === true ? ' marker' : ''}`)
    const modelled = [...model.keys].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))).flatMap(([key, list]) => list.map(v => `${key}@${v.id}${v.marker ? ' marker' : ''}`))
    t.same(listed, modelled, `step ${step}: every version`)
    for (const key of KEYS) {
      const current = model.keys.get(key)?.[0]
      const head = await box.headObject(BUCKET, key).catch((err: { code: string }) => err.code)
      if (current === undefined || current.marker) {
        t.equal(head, 'NoSuchKey', `step ${step}: ${key} reads as missing`)
        continue
      }
      if (typeof head === 'string') {
        t.fail(`step ${step}: ${key} should read, got ${head}`)
        continue
      }
      let want: { date: Date, ruleId: string } | undefined
      for (const rule of model.rules ?? []) {
        const due = rule.status === 'Enabled' && matches(rule, key, current) ? currentDue(rule, current.modified) : undefined
        if (due !== undefined && (want === undefined || due < want.date.getTime())) want = { date: new Date(due), ruleId: rule.id as string }
      }
      t.same(head.expiration, want, `step ${step}: ${key}: x-amz-expiration`)
    }
    const uploads = (await box.listMultipartUploads(BUCKET)).uploads.map(u => u.uploadId).sort()
    t.same(uploads, model.uploads.map(u => u.uploadId).sort(), `step ${step}: uploads`)
    // The index holds one entry per version, dated as the model dates it: nothing more, nothing less;
    // none while the bucket has no rules.
    if (model.rules !== undefined && !indexBuilt) return
    const entries = (await openSublevels(db).expiry.keys().all()).map(k => k.toString('hex')).sort()
    const indexed = model.rules === undefined ? [] : [...model.keys]
    const wanted = indexed.flatMap(([key, list]) => list.map((v, i) => {
      const kind = i > 0 ? 'n' : v.marker ? 'm' : 'c'
      return expiryKey(bucketId, kind, Math.floor((i > 0 ? v.since as number : v.modified) / DAY), key, i > 0 ? v.id : undefined).toString('hex')
    })).sort()
    t.same(entries, wanted, `step ${step}: the lifecycle index`)
  }

  /** A pass, compared with the model's; then everything. False if they differ. */
  const passStep = async (step: number): Promise<boolean> => {
    const result = await box.applyLifecycle()
    passes++
    // The markers the pass wrote have ids the model cannot guess: taken from the result.
    const markerIds = new Map(result.objects.filter(o => o.deleteMarkerVersionId !== undefined).map(o => [o.key, o.deleteMarkerVersionId as string]))
    const want = pass(model, clock.now(), markerIds)
    const got = described(result)
    expired += got.objects.length + got.versions.length + got.deleteMarkers.length + got.uploads.length
    if (!t.same(got, want, `step ${step}: the pass at ${new Date(clock.now()).toISOString()} expired what the model says`)) {
      t.comment(JSON.stringify(model.rules))
      return false
    }
    await check(step, true)
    return true
  }

  for (let step = 1; step <= STEPS; step++) {
    const now = clock.now()
    const roll = rng.next()
    const key = rng.pick(KEYS)
    if (roll < 0.32) {
      const size = rng.pick([0, 5, 15, 30])
      const tags = rng.pick(TAGS)
      const result = await box.putObject(BUCKET, key, 'x'.repeat(size), tags === undefined ? {} : { tags: { ...tags } })
      model.write(key, { id: result.versionId ?? 'null', marker: false, size, tags: tags === undefined ? undefined : { ...tags }, modified: now }, now)
    } else if (roll < 0.42) {
      const result = await box.deleteObject(BUCKET, key)
      if (model.versioning === undefined) model.keys.delete(key)
      else model.write(key, { id: result.versionId as string, marker: true, size: 0, tags: undefined, modified: now }, now)
    } else if (roll < 0.47) {
      const list = model.keys.get(key)
      if (list !== undefined) {
        const victim = rng.pick(list)
        await box.deleteObject(BUCKET, key, { versionId: victim.id })
        model.remove(key, victim.id)
      }
    } else if (roll < 0.51) {
      const current = model.keys.get(key)?.[0]
      if (current !== undefined && !current.marker) {
        const tags = rng.pick(TAGS)
        await box.putObjectTagging(BUCKET, key, tags === undefined ? {} : { ...tags })
        current.tags = tags === undefined ? undefined : { ...tags }
      }
    } else if (roll < 0.53) {
      const status = model.versioning === 'Enabled' ? 'Suspended' : 'Enabled'
      await box.putBucketVersioning(BUCKET, status)
      model.versioning = status
    } else if (roll < 0.58) {
      if (model.uploads.length < 4) {
        const upload = await box.createMultipartUpload(BUCKET, key)
        model.uploads.push({ key, uploadId: upload.uploadId, initiated: now })
      }
    } else if (roll < 0.6) {
      const upload = model.uploads.length === 0 ? undefined : rng.pick(model.uploads)
      if (upload !== undefined) {
        await box.abortMultipartUpload(BUCKET, upload.key, upload.uploadId)
        model.uploads.splice(model.uploads.indexOf(upload), 1)
      }
    } else if (roll < 0.66) {
      if (rng.chance(0.15)) {
        await box.deleteBucketLifecycle(BUCKET)
        model.rules = undefined
      } else {
        const rules = randomRules(rng)
        await box.putBucketLifecycleConfiguration(BUCKET, rules)
        model.rules = rules
      }
    } else if (roll < 0.86) {
      clock.advance(rng.pick(['1h', '7h', '13h', '1d', '1d', '2d', '3d']))
      if (!await passStep(step)) break
    }
    if (step % 50 === 0) await check(step, false)
  }
  await passStep(STEPS)
  t.ok(passes > 20, `${passes} passes`)
  t.ok(expired > 20, `${expired} things expired`)
}

for (const seed of SEEDS) {
  t.test(`seed ${seed}: ${STEPS} steps against the model`, async t => { await run(t, seed) })
}
