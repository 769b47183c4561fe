// Crash harness: a writer process (test/fixtures/crash-writer.ts) runs seeded random operations on an
// on-disk store and is killed with SIGKILL at a seeded random moment; the store is reopened and
// checked against a model of every acknowledged operation, kept across cycles on the same store.
// Operations the kill cut short ("in flight") may have happened or not, each one whole. One bucket
// keeps versions (Enabled and Suspended in turn): there every version and delete marker is checked,
// by id, and versions removed for good must stay gone.
//
//   npx tap -t 300 --disable-coverage test/crash.test.ts                       # 60 cycles, ~30 s
//   SPACEBOX_LONG_TESTS=1 npx tap -t 0 --disable-coverage test/crash.test.ts   # 500 cycles, new seed
//   SPACEBOX_CRASH_SEED=<seed> SPACEBOX_CRASH_CYCLES=<n>: replay a seed, resize a run
//   SPACEBOX_CRASH_DEBUG=1: a line per cycle (kill moment, ops in flight, pending segments)
//
// Writers run JavaScript transpiled from lib/ and the fixtures when this file starts (TypeScript's
// transpileModule) rather than under tap's TypeScript loader: the loader costs ~1.7 s of CPU per
// process, a plain writer starts in ~0.1 s, and every cycle is a new process. Each writer is spawned
// while the previous cycle is checked, and waits for its job on stdin.
import t from 'tap'
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { watch } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Readable, Writable } from 'node:stream'
import { Level } from 'level'
import { Spacebox, type ObjectVersion } from '../lib/index.js'
import { completionAgeId, ID_LENGTH, openSublevels, SORT_KEY_LENGTH } from '../lib/schema/keys.js'
import { chunkCount, decodeHead, type PartRecord, type Segment, type UploadRecord } from '../lib/schema/records.js'
import { segmentFileProblems } from './fixtures/segment-files.js'
import { transpileChild } from './fixtures/transpiled.js'
import { readAll, tempDir } from './helpers.js'
import {
  BUCKETS, CHUNK_SIZE, KILL_KINDS, MIN_PART_SIZE, Rng, UNKNOWN_ID, VERSION_ID, VERSIONED, applyOp, contentBytes, contentMd5, currentOf, emptyModel,
  expectedEtag, expectedFailure, isHeavy, md5Hex,
  type ObjectState, type Op, type OpResult, type Report, type SelfKill, type StoreModel, type UploadState, type VersionState, type WriterJob
} from './fixtures/crash-model.js'

const LONG = process.env.SPACEBOX_LONG_TESTS === '1'
const CYCLES = Number(process.env.SPACEBOX_CRASH_CYCLES ?? (LONG ? 500 : 60))
const SEED = process.env.SPACEBOX_CRASH_SEED ?? (LONG ? randomBytes(6).toString('hex') : 'spacebox-crash-1')
const DEBUG = process.env.SPACEBOX_CRASH_DEBUG === '1'
/** At most this many problems are listed per cycle. */
const MAX_PROBLEMS = 25

// ---------------------------------------------------------------------------------------------
// The writer: transpiled once, run as plain JavaScript.

type KillPlan =
  /** When the parent has read `count` acks. */
  | { after: 'acks', count: number }
  /** When the parent has read `count` intents. */
  | { after: 'intents', count: number }
  /** At the count-th intent of a heavy op, `ms` later (0: at once). */
  | { after: 'heavy', count: number, ms: number }
  /** `ms` after the writer said ready. */
  | { after: 'ms', ms: number }
  /** The writer kills itself; should its moment not come, the parent kills it `ms` after ready. */
  | { after: 'self', kill: SelfKill, ms: number }
  /** Only when the caller says so. */
  | { after: 'never' }

interface WriterRun {
  reports: Report[]
  signal: NodeJS.Signals | null
  code: number | null
  stderr: string
  /** Killed as planned, not by the safety timer. */
  planned: boolean
}

/** A writer process, spawned ahead of its job. */
class Writer {
  readonly #proc: ChildProcessByStdio<Writable, Readable, Readable>
  readonly #closed: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  readonly #reports: Report[] = []
  #stderr = ''
  #buffered = ''
  #onReport: (report: Report) => void = () => {}
  #killed = false
  #planned = false

  constructor (script: string) {
    this.#proc = spawn(process.execPath, ['--enable-source-maps', script], { stdio: ['pipe', 'pipe', 'pipe'], env: writerEnv() })
    this.#closed = new Promise(resolve => { this.#proc.on('close', (code, signal) => { resolve({ code, signal }) }) })
    this.#proc.on('error', err => { this.#stderr += `spawn failed: ${String(err)}\n` })
    this.#proc.stdin.on('error', () => {}) // a writer that died early
    this.#proc.stderr.on('data', (data: Buffer) => { this.#stderr += data.toString() })
    this.#proc.stdout.on('data', (data: Buffer) => {
      this.#buffered += data.toString()
      let nl
      while ((nl = this.#buffered.indexOf('\n')) >= 0) {
        const line = this.#buffered.slice(0, nl)
        this.#buffered = this.#buffered.slice(nl + 1)
        let report: Report
        try {
          report = JSON.parse(line) as Report
        } catch {
          this.#stderr += `unparsable line from the writer: ${line}\n`
          continue
        }
        this.#reports.push(report)
        if (!this.#killed) this.#onReport(report)
      }
    })
  }

  /** SIGKILL now; `planned` when this is the moment the plan chose. */
  kill (planned = true): void {
    if (this.#killed) return
    this.#killed = true
    this.#planned = planned
    this.#proc.kill('SIGKILL')
  }

  /** Give the writer its job; resolves once it is gone, killed as the plan says. */
  async run (job: WriterJob, plan: KillPlan): Promise<WriterRun> {
    let acks = 0
    let intents = 0
    let heavy = 0
    const later = (ms: number): void => { setTimeout(() => { this.kill() }, ms) }
    this.#onReport = report => {
      if (report.t === 'ack' && plan.after === 'acks' && ++acks >= plan.count) this.kill()
      if (report.t === 'intent' && plan.after === 'intents' && ++intents >= plan.count) this.kill()
      if (report.t === 'intent' && plan.after === 'heavy' && isHeavy(report.op) && ++heavy === plan.count) {
        if (plan.ms === 0) this.kill()
        else later(plan.ms)
      }
      if (report.t === 'ready' && (plan.after === 'ms' || plan.after === 'self')) later(plan.ms)
    }
    const safety = setTimeout(() => { this.kill(false) }, 30_000)
    this.#proc.stdin.end(JSON.stringify(job) + '\n')
    const { code, signal } = await this.#closed
    clearTimeout(safety)
    // A SIGKILL the writer sent itself is the plan's too. A last line without its newline was cut
    // by the kill and does not count.
    const planned = this.#planned || (signal === 'SIGKILL' && !this.#killed)
    return { reports: this.#reports, signal, code, stderr: this.#stderr, planned }
  }
}

/** The writer's environment: tap's process-info hook (NODE_OPTIONS) would triple its start-up time. */
function writerEnv (): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  return env
}

// ---------------------------------------------------------------------------------------------
// Checking a reopened store against the model.

type Problems = string[]

function same (a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

function describeObject (state: ObjectState | null): string {
  return state === null ? 'absent' : `v=${state.metadata.v ?? '?'} size=${state.size} etag=${state.etag}`
}

interface Actual {
  size: number
  etag: string
  contentType: string
  metadata: Record<string, string>
  bytes: Buffer
}

async function readObject (box: Spacebox, bucket: string, key: string, problems: Problems, versionId?: string): Promise<Actual | null> {
  try {
    const { info, body } = await box.getObject(bucket, key, versionId === undefined ? {} : { versionId })
    const bytes = await readAll(body)
    return { size: info.size, etag: info.etag, contentType: info.contentType, metadata: info.metadata, bytes }
  } catch (err) {
    if ((err as { code?: string }).code === (versionId === undefined ? 'NoSuchKey' : 'NoSuchVersion')) return null
    problems.push(`${bucket}/${key}${versionId === undefined ? '' : `?versionId=${versionId}`}: getObject failed: ${(err as { code?: string }).code ?? ''} ${String(err)}`)
    return null
  }
}

function matches (expected: ObjectState | null, actual: Actual | null): boolean {
  if (expected === null || actual === null) return expected === actual
  return actual.size === expected.size && actual.bytes.length === expected.size && actual.etag === `"${expected.etag}"` &&
    actual.contentType === expected.contentType && same(actual.metadata, expected.metadata) && md5Hex(actual.bytes) === contentMd5(expected.content)
}

/** Why `actual` is not `expected`, for the report. */
function difference (expected: ObjectState | null, actual: Actual | null): string {
  if (expected === null || actual === null) return `${describeObject(expected)} expected, ${actual === null ? 'absent' : 'present'} found`
  const out: string[] = []
  if (actual.size !== expected.size) out.push(`size ${actual.size}`)
  if (actual.bytes.length !== expected.size) out.push(`${actual.bytes.length} bytes read`)
  if (actual.etag !== `"${expected.etag}"`) out.push(`etag ${actual.etag}`)
  if (actual.contentType !== expected.contentType) out.push(`content type ${actual.contentType}`)
  if (!same(actual.metadata, expected.metadata)) out.push(`metadata ${JSON.stringify(actual.metadata)}`)
  const bytes = contentBytes(expected.content)
  if (!bytes.equals(actual.bytes)) {
    let at = 0
    while (at < bytes.length && at < actual.bytes.length && bytes[at] === actual.bytes[at]) at++
    out.push(`bytes differ from offset ${at}`)
  }
  return `${describeObject(expected)}: ${out.join(', ')}`
}

function tryAuth (box: Spacebox, accessKeyId: string, secretAccessKey: string): string {
  try {
    box.withCredentials({ accessKeyId, secretAccessKey })
    return 'ok'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

function partsOf (upload: UploadState): Record<string, { etag: string, size: number }> {
  return Object.fromEntries(Object.entries(upload.parts).sort(([a], [b]) => Number(a) - Number(b)).map(([n, p]) => [n, { etag: `"${p.etag}"`, size: p.size }]))
}

/** A key's versions in short, for reports: `id` (or `id:marker`), newest first. */
function describeVersions (versions: VersionState[] | ObjectVersion[]): string {
  return versions.length === 0
    ? 'none'
    : versions.map(v => 'versionId' in v ? `${v.versionId}${v.deleteMarker ? ':marker' : ''}` : `${v.id}${v.marker ? ':marker' : ` v=${v.object?.metadata.v ?? '?'}`}`).join(', ')
}

/**
 * The versioned bucket: its versioning status, and every key's versions and markers as
 * ListObjectVersions lists them, each version read back by id, against the model with the in-flight
 * ops applied or not (each key one or the other, whole). A version the kill kept from being
 * acknowledged has an id the model does not know: any fresh one will do. Versions removed for good
 * must stay gone. Returns what the store holds; keys that took an in-flight op's outcome go in `tookNew`.
 */
async function verifyVersions (box: Spacebox, model: StoreModel, after: StoreModel, problems: Problems, tookNew: Set<string>): Promise<Pick<StoreModel, 'versions' | 'versioning' | 'gone'>> {
  const status = (await box.getBucketVersioning(VERSIONED)).status
  let versioning = model.versioning
  if (status === after.versioning) versioning = status
  else if (status !== model.versioning) problems.push(`${VERSIONED}: versioning ${String(status)}, expected ${model.versioning}`)

  const listed = new Map<string, ObjectVersion[]>()
  let previous: Buffer | undefined
  for await (const v of box.listAllVersions(VERSIONED)) {
    const name = Buffer.from(v.key)
    if (previous !== undefined && Buffer.compare(previous, name) > 0) problems.push(`${VERSIONED}: version listing out of order at ${v.key}`)
    previous = name
    listed.set(v.key, [...listed.get(v.key) ?? [], v])
  }
  const known = new Set([...Object.values(model.versions).flatMap(list => list.map(v => v.id)), ...model.gone.map(g => g.id)])
  const reads = new Map<string, Actual | null>()
  const read = async (key: string, versionId: string): Promise<Actual | null> => {
    const at = `${key}\0${versionId}`
    if (!reads.has(at)) reads.set(at, await readObject(box, VERSIONED, key, problems, versionId))
    return reads.get(at) ?? null
  }
  /** `expected` with the store's ids for unknown ones, if the store holds exactly those versions; else why not. */
  const fit = async (key: string, expected: VersionState[], actual: ObjectVersion[]): Promise<VersionState[] | string> => {
    if (expected.length !== actual.length) return `${actual.length} versions listed for ${expected.length}`
    const out: VersionState[] = []
    for (const [i, e] of expected.entries()) {
      const a = actual[i] as ObjectVersion
      const fresh = e.id === UNKNOWN_ID && e.marker === a.deleteMarker && (versioning === 'Enabled' || after.versioning === 'Enabled') &&
        VERSION_ID.test(a.versionId) && !known.has(a.versionId)
      if ((a.versionId !== e.id && !fresh) || a.deleteMarker !== e.marker || a.isLatest !== (i === 0)) return `entry ${i} is ${a.versionId}${a.deleteMarker ? ' (marker)' : ''}${a.isLatest ? ' (latest)' : ''}`
      if (e.object !== undefined) {
        const bytes = await read(key, a.versionId)
        if (!matches(e.object, bytes)) return `version ${a.versionId}: ${difference(e.object, bytes)}`
      }
      out.push({ ...e, id: a.versionId })
    }
    return out
  }

  const versions: Record<string, VersionState[]> = {}
  const keys = new Set([...Object.keys(model.versions), ...Object.keys(after.versions), ...listed.keys()])
  for (const key of [...keys].sort()) {
    const actual = listed.get(key) ?? []
    const old = model.versions[key] ?? []
    const next = after.versions[key] ?? []
    const asBefore = await fit(key, old, actual)
    const asAfter = same(old, next) ? asBefore : await fit(key, next, actual)
    let found: VersionState[]
    if (typeof asBefore !== 'string') found = asBefore
    else if (typeof asAfter !== 'string') {
      found = asAfter
      tookNew.add(`${VERSIONED}/${key}`)
    } else {
      problems.push(`${VERSIONED}/${key}: versions ${describeVersions(actual)}; ` + (same(old, next)
        ? `acknowledged: ${describeVersions(old)} (${asBefore})`
        : `neither the old ones, ${describeVersions(old)} (${asBefore}), nor the new ones of an in-flight op, ${describeVersions(next)} (${asAfter})`))
      found = old
    }
    if (found.length > 0) versions[key] = found
  }
  for (const { key, id } of model.gone) {
    if (listed.get(key)?.some(v => v.versionId === id) === true) problems.push(`${VERSIONED}/${key}: version ${id}, removed for good, is listed again`)
    try {
      await box.headObject(VERSIONED, key, { versionId: id })
      problems.push(`${VERSIONED}/${key}: version ${id}, removed for good, reads again`)
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code !== 'NoSuchVersion') problems.push(`${VERSIONED}/${key}: version ${id}, removed for good, gives ${String(code)}, not NoSuchVersion`)
    }
  }
  return { versions, versioning, gone: model.gone }
}

/** What the store reported of a version an acknowledged op made or removed, checked against the model before the op. */
function versionReport (model: StoreModel, op: Op, res: OpResult): string | undefined {
  const known = new Set([...Object.values(model.versions).flatMap(list => list.map(v => v.id)), ...model.gone.map(g => g.id)])
  const versioned = 'bucket' in op && op.bucket === VERSIONED
  const made = (id: string | null | undefined): boolean => versioned
    ? (model.versioning === 'Enabled' ? typeof id === 'string' && VERSION_ID.test(id) && !known.has(id) : id === 'null')
    : id === undefined || id === null
  switch (op.kind) {
    case 'put': case 'copy': case 'complete':
      return made(res.versionId) ? undefined : `version id ${String(res.versionId)}`
    case 'delete':
      if (!versioned) return res.versionId === undefined ? undefined : `version id ${res.versionId} for an unversioned delete`
      return made(res.versionId) ? undefined : `delete marker id ${String(res.versionId)}`
    case 'deleteMany':
    {
      const ids = (res.markers ?? []).filter(id => id !== null && id !== 'null')
      return (res.markers ?? []).length === op.keys.length && (res.markers ?? []).every(made) && new Set(ids).size === ids.length ? undefined : `delete marker ids ${JSON.stringify(res.markers)}`
    }
    case 'deleteVersion': {
      const marker = model.versions[op.key]?.find(v => v.id === op.versionId)?.marker === true
      return res.versionId === op.versionId && res.deleteMarker === (marker ? true : undefined) ? undefined : `reported ${JSON.stringify(res)}`
    }
    default:
      return undefined
  }
}

/**
 * Check every object, upload and access key of the reopened store against the model with the
 * in-flight ops applied or not, and return the model of what the store holds.
 */
async function verifyStore (box: Spacebox, model: StoreModel, inflight: Op[], problems: Problems): Promise<StoreModel> {
  const after = structuredClone(model)
  for (const op of inflight) {
    if (op.kind !== 'create' && op.kind !== 'keyCreate' && op.kind !== 'keyRegen') applyOp(after, op)
  }
  /** Objects that took the in-flight op's outcome. */
  const tookNew = new Set<string>()
  const resolved: StoreModel = { objects: {}, ...await verifyVersions(box, model, after, problems, tookNew), uploads: [], keys: [], deletedKeys: [] }
  // The versioned bucket's current objects follow from its versions, as resolved.
  const currents = Object.fromEntries(Object.entries(resolved.versions).flatMap(([key, list]) => {
    const current = currentOf(list)
    return current === undefined ? [] : [[key, current]]
  }))

  // Objects: the listing, each object's bytes, ETag and headers.
  for (const bucket of BUCKETS) {
    const resolvedObjects: Record<string, ObjectState> = {}
    resolved.objects[bucket] = resolvedObjects
    const listed = new Map<string, { size: number, etag: string }>()
    let previous: Buffer | undefined
    for await (const summary of box.listAll(bucket)) {
      const name = Buffer.from(summary.key)
      if (previous !== undefined && Buffer.compare(previous, name) >= 0) problems.push(`${bucket}: listing out of order at ${summary.key}`)
      previous = name
      listed.set(summary.key, { size: summary.size, etag: summary.etag })
    }
    const before = bucket === VERSIONED ? currents : model.objects[bucket] ?? {}
    const later = bucket === VERSIONED ? currents : after.objects[bucket] ?? {}
    const keys = new Set([...Object.keys(before), ...Object.keys(later), ...listed.keys()])
    for (const key of [...keys].sort()) {
      const old = before[key] ?? null
      const next = later[key] ?? null
      const actual = await readObject(box, bucket, key, problems)
      const entry = listed.get(key)
      if ((entry === undefined) !== (actual === null)) {
        problems.push(`${bucket}/${key}: the listing ${entry === undefined ? 'lacks' : 'shows'} it, getObject ${actual === null ? 'does not find it' : 'finds it'}`)
      } else if (entry !== undefined && actual !== null && (entry.size !== actual.size || entry.etag !== actual.etag)) {
        problems.push(`${bucket}/${key}: the listing says size ${entry.size} etag ${entry.etag}, getObject size ${actual.size} etag ${actual.etag}`)
      }
      let found: ObjectState | null
      if (matches(old, actual)) found = old
      else if (matches(next, actual)) {
        found = next
        tookNew.add(`${bucket}/${key}`)
      } else {
        const what = same(old, next)
          ? `acknowledged state ${difference(old, actual)}`
          : `neither the old state (${difference(old, actual)}) nor the new one (${difference(next, actual)}) of an in-flight op`
        problems.push(`${bucket}/${key}: ${what}`)
        continue
      }
      if (found !== null) resolvedObjects[key] = found
    }
  }

  // Uploads in progress and their parts.
  const actualUploads = new Map<string, { bucket: string, key: string, parts: Record<string, { etag: string, size: number }> }>()
  for (const bucket of BUCKETS) {
    const { uploads, isTruncated } = await box.listMultipartUploads(bucket)
    if (isTruncated) problems.push(`${bucket}: more uploads than one page`)
    for (const upload of uploads) {
      const { parts } = await box.listParts(bucket, upload.key, upload.uploadId)
      actualUploads.set(upload.uploadId, {
        bucket, key: upload.key, parts: Object.fromEntries(parts.map(p => [String(p.partNumber), { etag: p.etag, size: p.size }]))
      })
    }
  }
  const creates = inflight.filter((op): op is Extract<Op, { kind: 'create' }> => op.kind === 'create')
  const ids = new Set([...model.uploads.map(u => u.uploadId), ...after.uploads.map(u => u.uploadId), ...actualUploads.keys()])
  for (const id of ids) {
    const old = model.uploads.find(u => u.uploadId === id) ?? null
    const next = after.uploads.find(u => u.uploadId === id) ?? null
    const actual = actualUploads.get(id) ?? null
    if (old === null && next === null) {
      // Only an in-flight create can explain an upload the model does not know, and it has no part.
      const index = creates.findIndex(op => op.bucket === actual?.bucket && op.key === actual.key)
      const create = creates[index]
      if (actual === null || create === undefined || Object.keys(actual.parts).length > 0) {
        problems.push(`upload ${id} of ${actual?.bucket ?? '?'}/${actual?.key ?? '?'} is not in the model (${Object.keys(actual?.parts ?? {}).length} parts)`)
        continue
      }
      creates.splice(index, 1)
      resolved.uploads.push({ bucket: create.bucket, key: create.key, uploadId: id, contentType: create.contentType, metadata: { v: create.ver }, parts: {} })
      continue
    }
    const view = (u: UploadState | null): unknown => u === null ? null : { bucket: u.bucket, key: u.key, parts: partsOf(u) }
    const seen = actual === null ? null : { bucket: actual.bucket, key: actual.key, parts: actual.parts }
    if (same(view(old), seen)) {
      if (old !== null) resolved.uploads.push(old)
    } else if (same(view(next), seen)) {
      if (next !== null) resolved.uploads.push(next)
    } else {
      problems.push(`upload ${id} of ${old?.bucket ?? next?.bucket ?? ''}/${old?.key ?? next?.key ?? ''}: found ${JSON.stringify(seen)}, expected ${JSON.stringify(view(old))}` +
        (same(view(old), view(next)) ? '' : ` or ${JSON.stringify(view(next))}`))
    }
  }
  // A complete cut by the kill happened whole or not at all: the object is new exactly when the upload is gone.
  for (const op of inflight) {
    if (op.kind !== 'complete') continue
    const objectNew = tookNew.has(`${op.bucket}/${op.key}`)
    const uploadGone = !actualUploads.has(op.uploadId)
    if (objectNew !== uploadGone) {
      problems.push(`complete of ${op.bucket}/${op.key} (upload ${op.uploadId}) torn: object ${objectNew ? 'completed' : 'not completed'}, upload ${uploadGone ? 'gone' : 'still there'}`)
    }
  }

  // Access keys.
  const listedKeys = new Set(box.keys.list().map(k => k.accessKeyId))
  const keyOps = new Map<string, Op>()
  for (const op of inflight) if (op.kind === 'keyRegen' || op.kind === 'keyDelete') keyOps.set(op.id, op)
  const keyCreates = inflight.filter((op): op is Extract<Op, { kind: 'keyCreate' }> => op.kind === 'keyCreate')
  resolved.deletedKeys = [...model.deletedKeys]
  for (const key of model.keys) {
    const op = keyOps.get(key.id)
    if (!listedKeys.has(key.id)) {
      if (op?.kind !== 'keyDelete') {
        problems.push(`access key ${key.id} (${key.name}) is gone`)
        continue
      }
      resolved.deletedKeys.push({ id: key.id, name: key.name, secrets: [...key.oldSecrets, ...(key.secret === undefined ? [] : [key.secret])] })
      continue
    }
    const state = structuredClone(key)
    if (box.keys.get(key.id).name !== key.name) problems.push(`access key ${key.id} has name ${box.keys.get(key.id).name}, not ${key.name}`)
    if (state.secret !== undefined) {
      const result = tryAuth(box, key.id, state.secret)
      if (op?.kind === 'keyRegen' && result === 'SignatureDoesNotMatch') {
        // The regenerate committed before the kill; its secret never reached us.
        state.oldSecrets.push(state.secret)
        state.secret = undefined
      } else if (result !== 'ok') {
        problems.push(`access key ${key.id}: its ${op?.kind === 'keyRegen' ? 'old (regenerate in flight)' : 'acknowledged'} secret gives ${result}`)
      }
    }
    for (const old of state.oldSecrets) {
      const result = tryAuth(box, key.id, old)
      if (result !== 'SignatureDoesNotMatch') problems.push(`access key ${key.id}: a replaced secret gives ${result}, not SignatureDoesNotMatch`)
    }
    resolved.keys.push(state)
  }
  for (const gone of resolved.deletedKeys) {
    if (listedKeys.has(gone.id)) problems.push(`deleted access key ${gone.id} is listed`)
    const result = tryAuth(box, gone.id, gone.secrets[gone.secrets.length - 1] ?? 'x'.repeat(40))
    if (result !== 'InvalidAccessKeyId') problems.push(`deleted access key ${gone.id}: its secret gives ${result}, not InvalidAccessKeyId`)
  }
  const known = new Set([...model.keys.map(k => k.id), ...model.deletedKeys.map(k => k.id)])
  for (const id of listedKeys) {
    if (known.has(id)) continue
    const name = box.keys.get(id).name
    const index = keyCreates.findIndex(op => op.name === name)
    if (index < 0) {
      problems.push(`access key ${id} (${name}) is not in the model`)
      continue
    }
    keyCreates.splice(index, 1)
    resolved.keys.push({ id, name, secret: undefined, oldSecrets: [] })
  }
  return resolved
}

/**
 * The raw LevelDB of a closed store: no pending marker, no chunk, part or segment without an owner
 * (a current or noncurrent version, or a part); every noncurrent version under a key that has a
 * current one, and `nullv` indexing exactly the noncurrent null versions.
 */
async function verifyRaw (location: string, problems: Problems): Promise<void> {
  const db = new Level(location)
  try {
    const sub = openSublevels(db)
    const pending = await sub.pending.keys().all()
    if (pending.length > 0) problems.push(`raw: ${pending.length} pending markers survived the sweep: ${pending.slice(0, 3).join(', ')}`)
    // A completion's answer and its age entry are written, and swept, together.
    const done = await sub.done.keys().all()
    const answers = done.filter(k => k.startsWith('u')).map(k => k.slice(1)).sort().join()
    const aged = done.filter(k => k.startsWith('t')).map(completionAgeId).sort().join()
    if (answers !== aged) problems.push(`raw: completion answers [${answers}] and age entries [${aged}] differ`)
    const owners = new Map<string, { segment: Segment, owner: string }>()
    const own = (segment: Segment, owner: string): void => {
      const other = owners.get(segment.id)
      if (other !== undefined) problems.push(`raw: segment ${segment.id} belongs to both ${other.owner} and ${owner}`)
      owners.set(segment.id, { segment, owner })
    }
    const currents = new Set<string>()
    for await (const [key, value] of sub.objects.iterator()) {
      const { head } = decodeHead(value)
      currents.add(key.toString('latin1'))
      for (const segment of head.segments ?? []) own(segment, `object ${key.toString('utf8', 24)}`)
    }
    const nullv = new Map<string, string>()
    for await (const [key, value] of sub.nullv.iterator()) nullv.set(key.toString('latin1'), value)
    for await (const [key, value] of sub.versions.iterator()) {
      const { head } = decodeHead(value)
      const object = key.subarray(0, key.length - SORT_KEY_LENGTH - 1)
      const name = `version ${object.toString('utf8', ID_LENGTH)}@${head.vid ?? 'null'}`
      if (!currents.has(object.toString('latin1'))) problems.push(`raw: ${name} has no current version`)
      if (head.vid === undefined) {
        if (nullv.get(object.toString('latin1')) !== key.toString('latin1', key.length - SORT_KEY_LENGTH)) problems.push(`raw: nullv does not index ${name}`)
        nullv.delete(object.toString('latin1'))
      }
      for (const segment of head.segments ?? []) own(segment, name)
    }
    for (const object of nullv.keys()) problems.push(`raw: nullv entry of ${Buffer.from(object, 'latin1').toString('utf8', ID_LENGTH)} without a noncurrent null version`)
    const uploads = new Set<string>()
    for await (const value of sub.uploads.values()) uploads.add((value as UploadRecord).id)
    for await (const [key, value] of sub.parts.iterator()) {
      const part = value as PartRecord
      const uploadId = key.slice(0, 24)
      if (!uploads.has(uploadId)) problems.push(`raw: part ${key} of an upload that does not exist`)
      own(part.segment, `part ${key}`)
    }
    const counts = new Map<string, number>()
    let orphans = 0
    for await (const key of sub.chunks.keys()) {
      const id = key.slice(0, 24)
      const index = parseInt(key.slice(24), 16)
      const owner = owners.get(id)
      if (owner === undefined || index >= chunkCount(owner.segment)) {
        if (++orphans <= 3) problems.push(`raw: orphan chunk ${key}`)
        continue
      }
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    if (orphans > 3) problems.push(`raw: ${orphans} orphan chunks in all`)
    for (const [id, { segment, owner }] of owners) {
      const count = counts.get(id) ?? 0
      const expected = segment.file === undefined ? chunkCount(segment) : 0
      if (count !== expected) problems.push(`raw: ${owner} has ${count} of the ${expected} chunks of segment ${id}`)
    }
    problems.push(...await segmentFileProblems(location, sub, owners))
  } finally {
    await db.close()
  }
}

async function pendingMarkers (location: string): Promise<number> {
  const db = new Level(location)
  try {
    return (await openSublevels(db).pending.keys().all()).length
  } finally {
    await db.close()
  }
}

// ---------------------------------------------------------------------------------------------

function describeOp (op: Op): string {
  const { kind, ...rest } = op
  return `${kind} ${JSON.stringify(rest)}`
}

function killPlan (rng: Rng): KillPlan {
  const x = rng.next()
  // Mostly right after one LevelDB write of an op of a random kind: each gap between two writes
  // of an op is a moment where a crash must leave either the old state or the new one.
  if (x < 0.5) {
    const y = rng.next()
    const writes = y < 0.4 ? 1 : y < 0.7 ? 2 : y < 0.9 ? 3 : rng.int(4, 6)
    return { after: 'self', kill: { at: 'write', kind: rng.pick(KILL_KINDS), nth: rng.int(1, 2), writes }, ms: 400 }
  }
  // The instant an op is acknowledged: whatever the store has not yet written by then is lost.
  if (x < 0.62) return { after: 'self', kill: { at: 'ack', kind: rng.pick(KILL_KINDS), nth: rng.int(1, 3) }, ms: 400 }
  if (x < 0.75) return { after: 'self', kill: { at: 'turns', heavy: rng.int(1, 3), turns: rng.logInt(1, 400) }, ms: 400 }
  if (x < 0.83) return { after: 'acks', count: rng.int(1, 30) }
  if (x < 0.88) return { after: 'intents', count: rng.int(1, 30) }
  if (x < 0.93) return { after: 'heavy', count: rng.int(1, 3), ms: rng.chance(0.7) ? 0 : rng.int(1, 3) }
  return { after: 'ms', ms: rng.logInt(0, 250) }
}

function describePlan (plan: KillPlan): string {
  switch (plan.after) {
    case 'acks': return `after ${plan.count} acks`
    case 'intents': return `at intent ${plan.count}`
    case 'heavy': return `${plan.ms} ms after the intent of heavy op ${plan.count}`
    case 'ms': return `${plan.ms} ms after ready`
    case 'never': return 'never'
    case 'self': {
      const kill = plan.kill
      switch (kill.at) {
        case 'write': return `by itself after write ${kill.writes} from ${kill.kind} op ${kill.nth}`
        case 'turns': return `by itself ${kill.turns} event-loop turns into heavy op ${kill.heavy}`
        case 'ack': return `by itself at the ack of ${kill.kind} op ${kill.nth}`
        case 'open': return `by itself ${kill.turns} event-loop turns into opening the store`
        case 'openWrite': return `by itself after write ${kill.writes} of opening the store`
        case 'none': return 'never'
      }
    }
  }
}

// One transpiled writer for every test of this file.
const script = await transpileChild(join(await tempDir(t), 'build'), ['crash-writer.ts', 'crash-model.ts'])

t.test('kill -9 at random moments never loses an acknowledged write nor leaves a torn one', async t => {
  const started = Date.now()
  const location = join(await tempDir(t), 'store')
  t.comment(`seed ${SEED}, ${CYCLES} cycles (replay with SPACEBOX_CRASH_SEED=${SEED})`)

  const setup = await Spacebox.open({ location, chunkSize: CHUNK_SIZE, minPartSize: MIN_PART_SIZE })
  for (const bucket of BUCKETS) await setup.createBucket(bucket)
  await setup.putBucketVersioning(VERSIONED, 'Enabled')
  await setup.close()

  let model = emptyModel()
  const stats = { acked: 0, refused: 0, inflight: 0, versionedInFlight: 0, cyclesInFlight: 0, cyclesPending: 0, openKills: 0, openKillsMidOpen: 0, sweepsCut: 0, byKind: {} as Record<string, number> }
  let spare = new Writer(script)
  t.teardown(() => { spare.kill(false) })
  const nextWriter = (): Writer => {
    const writer = spare
    spare = new Writer(script)
    return writer
  }

  let cycles = 0
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    cycles = cycle
    const rng = new Rng(`${SEED}:${cycle}`)
    const plan = killPlan(rng)
    const problems: Problems = []
    const kill: SelfKill = plan.after === 'self' ? plan.kill : { at: 'none' }
    const run = await nextWriter().run({ mode: 'ops', location, seed: `${SEED}:${cycle}:writer`, cycle, kill, model }, plan)
    if (run.signal !== 'SIGKILL' || !run.planned) {
      problems.push(`the writer ${run.signal === 'SIGKILL' ? 'was killed by the safety timer' : `exited by itself (code ${String(run.code)})`}: ${run.stderr.slice(-2000)}`)
    }

    // Replay what the writer reported: acks in the order they came, checked against the model.
    const intents = new Map<number, Op>()
    const settled = new Set<number>()
    let lastOps: string[] = []
    for (const report of run.reports) {
      if (report.t === 'intent') {
        intents.set(report.n, report.op)
        lastOps = [...lastOps.slice(-5), `#${report.n} ${describeOp(report.op)}`]
      } else if (report.t === 'ack' || report.t === 'fail') {
        const op = intents.get(report.n)
        settled.add(report.n)
        if (op === undefined) {
          problems.push(`the writer settled op #${report.n} it never announced`)
          continue
        }
        const refusal = expectedFailure(op)
        if (report.t === 'fail') {
          if (report.code !== refusal) problems.push(`op #${report.n} ${describeOp(op)} failed: ${report.code} ${report.message}`)
          else stats.refused++
          continue
        }
        if (refusal !== undefined) {
          problems.push(`op #${report.n} ${describeOp(op)} was accepted; expected ${refusal}`)
          continue
        }
        const res: OpResult = report.res
        const etag = expectedEtag(model, op)
        if (etag !== undefined && res.etag !== etag) problems.push(`op #${report.n} ${describeOp(op)} reported ETag ${String(res.etag)}, expected ${etag}`)
        if (op.kind === 'deleteMany' && (res.errors !== 0 || !same(res.deleted, op.keys))) problems.push(`op #${report.n} ${describeOp(op)} reported ${JSON.stringify(res)}`)
        const wrongVersion = versionReport(model, op, res)
        if (wrongVersion !== undefined) problems.push(`op #${report.n} ${describeOp(op)} reported ${wrongVersion}`)
        applyOp(model, op, res)
        stats.acked++
        stats.byKind[op.kind] = (stats.byKind[op.kind] ?? 0) + 1
      }
    }
    const inflight = [...intents].filter(([n]) => !settled.has(n)).map(([, op]) => op)
    stats.inflight += inflight.length
    stats.versionedInFlight += inflight.filter(op => 'bucket' in op && op.bucket === VERSIONED).length
    if (inflight.length > 0) stats.cyclesInFlight++
    const pending = await pendingMarkers(location)
    if (pending > 0) stats.cyclesPending++
    if (DEBUG) t.comment(`cycle ${cycle}: ${describePlan(plan)}; ${run.reports.filter(r => r.t === 'ack').length} acks; in flight: ${inflight.map(op => op.kind).join(' ') || '-'}; ${pending} pending`)

    // Now and then kill a second writer while it opens the store, mostly when there is a sweep to
    // cut: during LevelDB's open and recovery, or right after a write of the sweep.
    if (rng.chance(pending > 0 ? 0.5 : 0.1)) {
      const kill: SelfKill = pending > 0 && rng.chance(0.6) ? { at: 'openWrite', writes: rng.int(1, 2 * pending) } : { at: 'open', turns: rng.logInt(1, 80) }
      const again = await nextWriter().run({ mode: 'open', location, seed: '', cycle, kill, model }, { after: 'self', kill, ms: 5000 })
      if (again.signal !== 'SIGKILL' && again.code !== 0) problems.push(`the opening writer failed (code ${String(again.code)}): ${again.stderr.slice(-2000)}`)
      stats.openKills++
      if (again.signal === 'SIGKILL' && !again.reports.some(r => r.t === 'ready')) stats[kill.at === 'open' ? 'openKillsMidOpen' : 'sweepsCut']++
    }

    let box: Spacebox | undefined
    try {
      box = await Spacebox.open({ location })
    } catch (err) {
      problems.push(`the store does not open: ${(err as { code?: string }).code ?? ''} ${String(err)}`)
    }
    if (box !== undefined) {
      try {
        model = await verifyStore(box, model, inflight, problems)
      } finally {
        await box.close()
      }
      await verifyRaw(location, problems)
    }

    if (problems.length > 0) {
      t.fail(`cycle ${cycle}: the store after a kill ${describePlan(plan)} does not match the acknowledged operations`, {
        seed: SEED,
        problems: problems.slice(0, MAX_PROBLEMS),
        inFlight: inflight.map(describeOp),
        lastOps
      })
      // The model is no longer trustworthy: later cycles would only repeat this failure.
      break
    }
  }
  t.ok(stats.acked > CYCLES, `${stats.acked} acknowledged ops checked (${stats.refused} refused as expected)`)
  t.ok(stats.cyclesInFlight > 0, `${stats.cyclesInFlight} kills cut ops in flight (${stats.inflight} ops in all)`)
  t.ok((stats.byKind.deleteVersion ?? 0) > 0 && (stats.byKind.versioning ?? 0) > 0, 'version deletes and versioning changes were acknowledged and checked')
  t.ok(stats.versionedInFlight > 0, `${stats.versionedInFlight} ops on the versioned bucket were in flight at a kill`)
  t.comment(`${stats.cyclesPending} kills left pending segments for the sweep; ${stats.openKills} writers killed as they opened the store: ${stats.openKillsMidOpen} before the open finished, ${stats.sweepsCut} in the middle of the sweep`)
  t.comment(`acknowledged by kind: ${JSON.stringify(stats.byKind)}`)
  t.comment(`${cycles} cycles in ${((Date.now() - started) / 1000).toFixed(1)} s`)
})

// The key file used to be created, then written: a kill in between left it empty and the store unopenable.
t.test('a process killed while it creates a new store leaves a store that opens', async t => {
  // The writer creates a store with its event loop kept busy (as a loaded application's would be);
  // the kill comes the instant the key file appears beside the store, before its content may be written.
  const dir = await tempDir(t)
  const attempts = 3
  let emptyKeyFiles = 0
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const name = `fresh-${attempt}`
    const location = join(dir, name)
    const writer = new Writer(script)
    const watcher = watch(dir)
    watcher.on('change', (_event, file) => { if (file === `${name}.key`) writer.kill() })
    const run = await writer.run({ mode: 'create', location, seed: '', cycle: 0, kill: { at: 'none' }, model: emptyModel() }, { after: 'never' })
    watcher.close()
    t.equal(run.signal, 'SIGKILL', 'the writer was killed while it created the store')
    const keyFile = await stat(`${location}.key`).catch(() => undefined)
    if (keyFile?.size === 0) emptyKeyFiles++
    try {
      const box = await Spacebox.open({ location })
      await box.close()
      t.pass(`attempt ${attempt}: the store opens (key file of ${keyFile?.size ?? 'no'} bytes)`)
    } catch (err) {
      t.fail(`attempt ${attempt}: the store does not open after a kill while it was created: ${(err as { code?: string }).code ?? ''} ${String(err)}`, { keyFileSize: keyFile?.size })
    }
  }
  t.comment(`${emptyKeyFiles} of ${attempts} kills left an empty key file`)
})
