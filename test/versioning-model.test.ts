// Model-based test of bucket versioning: seeded random sequences of puts, copies (older versions
// onto their own key too), multipart completes (with parts copied from older versions), deletes,
// version deletes, batch deletes and versioning changes, run against a small in-memory model of S3
// versioning. After every step every version the model holds is read back by id (and each key's
// current one), removed ids must stay gone (checked on the keys the step touched, and on all every
// 20 steps), every listing (ListObjectsV2, ListObjects, ListObjectVersions whole and in small pages,
// with and without a delimiter) is compared with the model, and the raw database is checked for
// orphan or missing chunks. At the end every version is removed by id: no record, no chunk is left.
//
//   npx tap --disable-coverage test/versioning-model.test.ts       # 300 steps: 3 seeds in memory, 1 on disk
//   SPACEBOX_LONG_TESTS=1 npx tap -t 0 --disable-coverage test/versioning-model.test.ts   # 2000 steps, 6 new seeds
//   SPACEBOX_VERSIONING_SEED=<seed> SPACEBOX_VERSIONING_STEPS=<n>: replay a seed, resize a run
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { Spacebox, SpaceboxError, type ListObjectVersionsOptions, type ObjectInfo, type VersioningStatus } from '../lib/index.js'
import { ID_LENGTH, openSublevels, SORT_KEY_LENGTH, type AnyLevel, type Sublevels } from '../lib/schema/keys.js'
import { chunkCount, decodeHead, type PartRecord, type Segment } from '../lib/schema/records.js'
import { Rng, multipartEtag } from './fixtures/crash-model.js'
import { bytes, md5hex, readAll, tempDir } from './helpers.js'

const LONG = process.env.SPACEBOX_LONG_TESTS === '1'
const STEPS = Number(process.env.SPACEBOX_VERSIONING_STEPS ?? (LONG ? 2000 : 300))
const GIVEN = process.env.SPACEBOX_VERSIONING_SEED
/** Seeds per store: the disk store runs a sequence of its own, as the memory store's cover the engine's logic. */
const SEEDS = {
  memory: GIVEN !== undefined ? [GIVEN] : LONG ? Array.from({ length: 4 }, () => randomBytes(6).toString('hex')) : ['versioning-1', 'versioning-2', 'versioning-3'],
  disk: GIVEN !== undefined ? [GIVEN] : LONG ? Array.from({ length: 2 }, () => randomBytes(6).toString('hex')) : ['versioning-4']
}

const BUCKET = 'model'
/** `a` sorts before its own versions' keys (`a` 0x00 ...), which sort before `a/1`: the merge of current and noncurrent is exercised. */
const KEYS = ['a', 'a/1', 'a/2', 'a/b/3', 'b', 'é'] as const
/** Small chunks, so that most versions have several, and a small inline threshold. */
const OPEN = { chunkSize: 64, inlineThreshold: 16, minPartSize: 0, masterKey: Buffer.alloc(32, 9) }
const VERSION_ID = /^[0-9a-f]{24}[A-Za-z0-9._]{8}$/
const LISTINGS: ListObjectVersionsOptions[] = [{}, { delimiter: '/' }, { prefix: 'a/' }, { prefix: 'a', delimiter: '/' }, { prefix: 'a/', delimiter: '/' }]
const MALFORMED = ['', 'v1', 'NULL', 'Z'.repeat(32), 'f'.repeat(24) + '-bad-id-', 'f'.repeat(33)]

type Status = 'unversioned' | VersioningStatus

interface Version {
  /** `null` for the null version. */
  id: string
  marker: boolean
  body: Buffer
  /** Unquoted; empty for a marker. */
  etag: string
  metadata: Record<string, string>
}

/** S3 versioning of one bucket: each key's versions, newest (the current one) first. */
class Model {
  status: Status = 'unversioned'
  readonly keys = new Map<string, Version[]>()
  /** Every id the store issued for each key, 'null' included once it existed: removed ones must stay gone. */
  readonly issued = new Map<string, Set<string>>()
  readonly allIds: string[] = []

  versions (key: string): Version[] {
    return this.keys.get(key) ?? []
  }

  current (key: string): Version | undefined {
    return this.versions(key)[0]
  }

  find (key: string, id: string): Version | undefined {
    return this.versions(key).find(v => v.id === id)
  }

  /** The id a response reports for a version: none while the bucket was never versioned. */
  reported (id: string): string | undefined {
    return this.status === 'unversioned' ? undefined : id
  }

  /** A new current version: with versioning Enabled on top of the others; otherwise the null version, replacing any. */
  write (key: string, version: Version): void {
    const list = this.versions(key).filter(v => this.status === 'Enabled' || v.id !== 'null')
    list.unshift(version)
    this.keys.set(key, list)
    let ids = this.issued.get(key)
    if (ids === undefined) this.issued.set(key, ids = new Set())
    if (!ids.has(version.id)) this.allIds.push(version.id)
    ids.add(version.id)
  }

  /** A delete without a version id. */
  deleteCurrent (key: string, markerId: string): void {
    if (this.status === 'unversioned') this.keys.delete(key)
    else this.write(key, { id: markerId, marker: true, body: Buffer.alloc(0), etag: '', metadata: {} })
  }

  /** A delete of one version: gone for good, the next newest becomes current. */
  remove (key: string, id: string): Version | undefined {
    const list = this.versions(key)
    const at = list.findIndex(v => v.id === id)
    if (at < 0) return undefined
    const [removed] = list.splice(at, 1)
    if (list.length === 0) this.keys.delete(key)
    return removed
  }

  sortedKeys (): string[] {
    return [...this.keys.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  }
}

type Outcome<T> = { ok: true, value: T } | { ok: false, code: string, detail: Record<string, string | number> | undefined }

async function attempt<T> (promise: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await promise }
  } catch (err) {
    if (err instanceof SpaceboxError) return { ok: false, code: err.code, detail: err.detail }
    throw err
  }
}

function show (value: unknown): string {
  const text = JSON.stringify(value)
  return text.length > 600 ? text.slice(0, 600) + '...' : text
}

function same (a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** Where two listings part: the first entry that differs, of each list of the result. */
function difference (actual: Record<string, unknown[]>, expected: Record<string, unknown[]>): string {
  const out: string[] = []
  for (const name of Object.keys(expected)) {
    const a = actual[name] ?? []
    const e = expected[name] ?? []
    let at = 0
    while (at < a.length && at < e.length && same(a[at], e[at])) at++
    if (at < a.length || at < e.length) out.push(`${name} [${at}]: ${at < a.length ? show(a[at]) : 'nothing'}, expected ${at < e.length ? show(e[at]) : 'nothing'} (${a.length} listed, ${e.length} expected)`)
  }
  return out.join('; ')
}

interface Listed { key: string, versionId: string, isLatest: boolean, deleteMarker: boolean, etag?: string | undefined, size?: number | undefined }

/** What ListObjectVersions must list, whole: versions by key in byte order, newest first; keys rolled up at the delimiter. */
function expectedVersions (model: Model, prefix: string, delimiter: string | undefined): { versions: Listed[], commonPrefixes: string[] } {
  const versions: Listed[] = []
  const commonPrefixes: string[] = []
  for (const key of model.sortedKeys()) {
    if (!key.startsWith(prefix)) continue
    const at = delimiter === undefined ? -1 : key.indexOf(delimiter, prefix.length)
    if (at >= 0) {
      const common = key.slice(0, at + (delimiter as string).length)
      if (commonPrefixes[commonPrefixes.length - 1] !== common) commonPrefixes.push(common)
      continue
    }
    model.versions(key).forEach((v, i) => {
      versions.push(v.marker
        ? { key, versionId: v.id, isLatest: i === 0, deleteMarker: true }
        : { key, versionId: v.id, isLatest: i === 0, deleteMarker: false, etag: `"${v.etag}"`, size: v.body.length })
    })
  }
  return { versions, commonPrefixes }
}

/** What ListObjects(V2) must list: keys whose current version is not a delete marker. */
function expectedObjects (model: Model, delimiter: string | undefined): { contents: Array<{ key: string, etag: string, size: number }>, commonPrefixes: string[] } {
  const contents: Array<{ key: string, etag: string, size: number }> = []
  const commonPrefixes: string[] = []
  for (const key of model.sortedKeys()) {
    const current = model.current(key)
    if (current === undefined || current.marker) continue
    const at = delimiter === undefined ? -1 : key.indexOf(delimiter)
    if (at >= 0) {
      const common = key.slice(0, at + (delimiter as string).length)
      if (commonPrefixes[commonPrefixes.length - 1] !== common) commonPrefixes.push(common)
      continue
    }
    contents.push({ key, etag: `"${current.etag}"`, size: current.body.length })
  }
  return { contents, commonPrefixes }
}

/**
 * The raw database between two operations: no pending segment; every chunk belongs to a segment of
 * a record in `objects`, `versions` or `parts`, which has all its chunks; `nullv` indexes exactly the
 * noncurrent null versions; every noncurrent version's key has a current one. Returns the chunk count.
 */
async function rawProblems (sub: Sublevels, problems: string[]): Promise<number> {
  const pending = await sub.pending.keys().all()
  if (pending.length > 0) problems.push(`raw: ${pending.length} pending segments between operations`)
  const owners = new Map<string, { segment: Segment, owner: string }>()
  const own = (segment: Segment, owner: string): void => {
    const other = owners.get(segment.id)
    if (other !== undefined) problems.push(`raw: segment ${segment.id} belongs to both ${other.owner} and ${owner}`)
    owners.set(segment.id, { segment, owner })
  }
  const currentNull = new Set<string>()
  const currents = new Set<string>()
  for await (const [key, value] of sub.objects.iterator()) {
    const { head } = decodeHead(value)
    currents.add(key.toString('hex'))
    if (head.vid === undefined) currentNull.add(key.toString('hex'))
    for (const segment of head.segments ?? []) own(segment, `current ${key.toString('utf8', ID_LENGTH)}`)
  }
  const nullv = new Map<string, { sortKey: string, name: string }>()
  for await (const [key, value] of sub.nullv.iterator()) nullv.set(key.toString('hex'), { sortKey: value, name: key.toString('utf8', ID_LENGTH) })
  const noncurrentNulls = new Set<string>()
  for await (const [key, value] of sub.versions.iterator()) {
    const { head } = decodeHead(value)
    const object = key.subarray(0, key.length - SORT_KEY_LENGTH - 1).toString('hex')
    const name = key.toString('utf8', ID_LENGTH, key.length - SORT_KEY_LENGTH - 1)
    if (!currents.has(object)) problems.push(`raw: noncurrent version of ${name} without a current one`)
    if (head.vid === undefined) {
      if (noncurrentNulls.has(object)) problems.push(`raw: two noncurrent null versions of ${name}`)
      noncurrentNulls.add(object)
      if (nullv.get(object)?.sortKey !== key.toString('latin1', key.length - SORT_KEY_LENGTH)) problems.push(`raw: nullv does not index the null version of ${name}`)
      if (currentNull.has(object)) problems.push(`raw: ${name} has a null version both current and noncurrent`)
    }
    for (const segment of head.segments ?? []) own(segment, `version ${name}`)
  }
  for (const [object, { name }] of nullv) {
    if (!noncurrentNulls.has(object)) problems.push(`raw: nullv entry of ${name} without a noncurrent null version`)
  }
  for await (const [key, value] of sub.parts.iterator()) own((value as PartRecord).segment, `part ${key}`)
  const counts = new Map<string, number>()
  let chunks = 0
  for await (const key of sub.chunks.keys()) {
    chunks++
    const id = key.slice(0, 24)
    const owner = owners.get(id)
    if (owner === undefined || parseInt(key.slice(24), 16) >= chunkCount(owner.segment)) {
      problems.push(`raw: orphan chunk ${key}`)
      continue
    }
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  for (const [id, { segment, owner }] of owners) {
    const count = counts.get(id) ?? 0
    if (count !== chunkCount(segment)) problems.push(`raw: ${owner} has ${count} of the ${chunkCount(segment)} chunks of segment ${id}`)
  }
  return chunks
}

/** One seeded run: the store, its model, and the operations that drive both. */
class Run {
  readonly model = new Model()
  readonly rng: Rng
  readonly problems: string[] = []
  readonly log: string[] = []
  readonly stats = { versions: 0, markers: 0, removed: 0, refused: 0, copiesInPlace: 0, chunksSeen: 0 }
  /** Steps spent in each state the run means to reach, and older versions restored by a copy onto their key. */
  readonly reached = { unversioned: 0, Enabled: 0, Suspended: 0, noncurrentNull: 0, currentMarker: 0, manyVersions: 0, restores: 0 }
  step = 0
  /** Keys the step changed or tried to. */
  readonly touched = new Set<string>()

  constructor (public box: Spacebox, readonly sub: Sublevels, seed: string) {
    this.rng = new Rng(seed)
  }

  problem (what: string): void {
    this.problems.push(what)
  }

  /** The id the store reported for a version it just wrote, checked against the bucket's state. */
  accept (key: string, reported: string | undefined, what: string): string {
    const { model } = this
    if (model.status !== 'Enabled') {
      const expected = model.status === 'Suspended' ? 'null' : undefined
      if (reported !== expected) this.problem(`${what}: reported version ${String(reported)}, expected ${String(expected)}`)
      return 'null'
    }
    if (reported === undefined || !VERSION_ID.test(reported)) {
      this.problem(`${what}: reported version id ${String(reported)} is not a 32-character version id`)
      return `bad-${this.step}`
    }
    if (model.allIds.includes(reported)) this.problem(`${what}: version id ${reported} was issued before`)
    for (const v of model.versions(key)) {
      if (v.id !== 'null' && !(reported.slice(0, 24) < v.id.slice(0, 24))) this.problem(`${what}: new version id ${reported} does not sort before older ${v.id}`)
    }
    return reported
  }

  body (): Buffer {
    const x = this.rng.next()
    const size = x < 0.2 ? this.rng.int(0, 16) : x < 0.8 ? this.rng.int(17, 200) : this.rng.int(200, 400)
    return bytes(size, this.rng.int(1, 2 ** 31 - 1))
  }

  /** A key, most often one the model holds. */
  key (): string {
    const held = [...this.model.keys.keys()]
    const key = held.length > 0 && this.rng.chance(0.8) ? this.rng.pick(held) : this.rng.pick(KEYS)
    this.touched.add(key)
    return key
  }

  /** A version id to address: the current one, another of the key's, `null`, one of another key or removed, unknown, malformed. */
  versionId (key: string): string {
    const versions = this.model.versions(key)
    const x = this.rng.next()
    if (x < 0.25 && versions.length > 0) return (versions[0] as Version).id
    if (x < 0.55 && versions.length > 0) return this.rng.pick(versions).id
    if (x < 0.65) return 'null'
    if (x < 0.8 && this.model.allIds.length > 0) return this.rng.pick(this.model.allIds)
    const live = versions.filter(v => v.id !== 'null')
    if (x < 0.85 && live.length > 0) {
      // A live version's sort key with another random part: the id of no version.
      const id = this.rng.pick(live).id
      return id.slice(0, 24) + (id.slice(24) === 'abcdefgh' ? 'abcdefgi' : 'abcdefgh')
    }
    if (x < 0.95) {
      const hex = Array.from({ length: 24 }, () => this.rng.int(0, 15).toString(16)).join('')
      return hex + Array.from({ length: 8 }, () => this.rng.pick([...'abcXYZ019._'])).join('')
    }
    return this.rng.pick(MALFORMED)
  }

  async run (): Promise<void> {
    // Keep the history small enough to list in pages of one at every step: prune when it grows.
    const total = [...this.model.keys.values()].reduce((sum, list) => sum + list.length, 0)
    if (total > 30 && this.rng.chance(0.35)) return await this.deleteVersion()
    const x = this.rng.int(0, 99)
    if (x < 26) await this.put()
    else if (x < 38) await this.copy()
    else if (x < 44) await this.multipart()
    else if (x < 56) await this.delete()
    else if (x < 78) await this.deleteVersion()
    else if (x < 86) await this.deleteMany()
    else if (x < 91) await this.setVersioning()
    else await this.put()
  }

  async put (): Promise<void> {
    const key = this.key()
    const body = this.body()
    const metadata = { s: String(this.step) }
    this.log.push(`put ${key} (${body.length} bytes)`)
    const result = await this.box.putObject(BUCKET, key, body, { metadata })
    if (result.etag !== `"${md5hex(body)}"`) this.problem(`put ${key}: ETag ${result.etag}`)
    const id = this.accept(key, result.versionId, `put ${key}`)
    this.model.write(key, { id, marker: false, body, etag: md5hex(body), metadata })
    this.stats.versions++
  }

  async copy (): Promise<void> {
    const { model, rng } = this
    const srcKey = this.key()
    const dstKey = rng.chance(0.4) ? srcKey : rng.pick(KEYS)
    this.touched.add(dstKey)
    const sourceVersionId = rng.chance(0.5) ? this.versionId(srcKey) : undefined
    const replace = rng.chance(0.3)
    const metadata = { s: `copy-${this.step}` }
    this.log.push(`copy ${srcKey}${sourceVersionId === undefined ? '' : `?versionId=${sourceVersionId}`} to ${dstKey}${replace ? ' (REPLACE)' : ''}`)
    const source = sourceVersionId === undefined ? model.current(srcKey) : model.find(srcKey, sourceVersionId)
    let expected: string | undefined
    // The source is read first: a self-copy of what is not there is NoSuchKey, and is refused as
    // a copy onto itself only when it exists.
    if (sourceVersionId !== undefined && MALFORMED.includes(sourceVersionId)) expected = 'InvalidArgument'
    else if (sourceVersionId === undefined) expected = source === undefined || source.marker ? 'NoSuchKey' : srcKey === dstKey && !replace ? 'InvalidRequest' : undefined
    else expected = source === undefined ? 'NoSuchVersion' : source.marker ? 'InvalidRequest' : undefined
    const outcome = await attempt(this.box.copyObject(BUCKET, srcKey, BUCKET, dstKey, {
      ...(sourceVersionId === undefined ? {} : { sourceVersionId }),
      ...(replace ? { metadataDirective: 'REPLACE' as const, metadata } : {})
    }))
    if (!outcome.ok || expected !== undefined || source === undefined) {
      if (outcome.ok || outcome.code !== expected) this.problem(`copy: ${outcome.ok ? 'succeeded' : outcome.code}, expected ${String(expected)}`)
      this.stats.refused++
      return
    }
    const result = outcome.value
    if (result.etag !== `"${md5hex(source.body)}"`) this.problem(`copy: ETag ${result.etag}, expected the MD5 of the source's bytes`)
    if (result.copySourceVersionId !== model.reported(source.id)) this.problem(`copy: copySourceVersionId ${String(result.copySourceVersionId)}, expected ${String(model.reported(source.id))}`)
    const restoring = srcKey === dstKey && source !== model.current(srcKey)
    const id = this.accept(dstKey, result.versionId, `copy to ${dstKey}`)
    model.write(dstKey, { id, marker: false, body: source.body, etag: md5hex(source.body), metadata: replace ? metadata : source.metadata })
    this.stats.versions++
    if (srcKey === dstKey) this.stats.copiesInPlace++
    // S3's way to restore an older version: copy it onto its own key.
    if (restoring) this.reached.restores++
  }

  async multipart (): Promise<void> {
    const { model, rng, box } = this
    const key = this.key()
    const metadata = { s: `mp-${this.step}` }
    const count = rng.int(1, 3)
    this.log.push(`multipart ${key} (${count} parts)`)
    const upload = await box.createMultipartUpload(BUCKET, key, { metadata })
    const parts: Array<{ partNumber: number, etag: string }> = []
    const bodies: Buffer[] = []
    for (let partNumber = 1; partNumber <= count; partNumber++) {
      // Now and then a part copied from a version of some key, current or not.
      const srcKey = rng.pick(KEYS)
      const sources = model.versions(srcKey).filter(v => !v.marker && v.body.length > 0)
      if (sources.length > 0 && rng.chance(0.3)) {
        const source = rng.pick(sources)
        const result = await box.uploadPartCopy(BUCKET, key, upload.uploadId, partNumber, BUCKET, srcKey, { sourceVersionId: source.id })
        if (result.copySourceVersionId !== model.reported(source.id)) this.problem(`part copy: copySourceVersionId ${String(result.copySourceVersionId)}`)
        if (result.etag !== `"${md5hex(source.body)}"`) this.problem(`part copy from ${srcKey}?versionId=${source.id}: ETag ${result.etag}`)
        parts.push({ partNumber, etag: result.etag })
        bodies.push(source.body)
      } else {
        const body = bytes(rng.int(1, 150), rng.int(1, 2 ** 31 - 1))
        parts.push({ partNumber, etag: (await box.uploadPart(BUCKET, key, upload.uploadId, partNumber, body)).etag })
        bodies.push(body)
      }
    }
    const result = await box.completeMultipartUpload(BUCKET, key, upload.uploadId, parts)
    const etag = multipartEtag(bodies.map(body => md5hex(body)))
    if (result.etag !== `"${etag}"`) this.problem(`complete ${key}: ETag ${result.etag}, expected "${etag}"`)
    const id = this.accept(key, result.versionId, `complete ${key}`)
    model.write(key, { id, marker: false, body: Buffer.concat(bodies), etag, metadata })
    this.stats.versions++
  }

  async delete (): Promise<void> {
    const key = this.key()
    this.log.push(`delete ${key}`)
    const result = await this.box.deleteObject(BUCKET, key)
    if (this.model.status === 'unversioned') {
      if (!same(result, {})) this.problem(`delete ${key}: ${show(result)} in an unversioned bucket`)
      this.model.deleteCurrent(key, 'null')
      return
    }
    if (result.deleteMarker !== true) this.problem(`delete ${key}: no delete marker reported: ${show(result)}`)
    this.model.deleteCurrent(key, this.accept(key, result.versionId, `delete ${key}`))
    this.stats.markers++
  }

  /** Delete `key`'s version `versionId`, as the model says; `result` is what the store answered. */
  removed (key: string, versionId: string, result: { versionId?: string | undefined, deleteMarker?: boolean | undefined }, what: string): void {
    const gone = this.model.remove(key, versionId)
    const expected = gone?.marker === true ? { versionId, deleteMarker: true } : { versionId }
    if (result.versionId !== expected.versionId || result.deleteMarker !== expected.deleteMarker) this.problem(`${what}: ${show(result)}, expected ${show(expected)}`)
    if (gone !== undefined) this.stats.removed++
  }

  async deleteVersion (): Promise<void> {
    const key = this.key()
    const versionId = this.versionId(key)
    this.log.push(`delete ${key}?versionId=${versionId}`)
    const outcome = await attempt(this.box.deleteObject(BUCKET, key, { versionId }))
    if (MALFORMED.includes(versionId)) {
      if (outcome.ok || outcome.code !== 'InvalidArgument') this.problem(`delete with malformed id ${JSON.stringify(versionId)}: ${outcome.ok ? 'succeeded' : outcome.code}`)
      this.stats.refused++
      return
    }
    if (!outcome.ok) {
      this.problem(`delete ${key}?versionId=${versionId}: ${outcome.code}`)
      return
    }
    this.removed(key, versionId, outcome.value, `delete ${key}?versionId=${versionId}`)
  }

  async deleteMany (): Promise<void> {
    const { model, rng } = this
    const entries = Array.from({ length: rng.int(1, 4) }, () => {
      const key = this.key()
      return rng.chance(0.3) ? key : { key, versionId: this.versionId(key) }
    })
    this.log.push(`deleteObjects ${show(entries)}`)
    const result = await this.box.deleteObjects(BUCKET, entries)
    let deleted = 0
    let errors = 0
    for (const entry of entries) {
      const { key, versionId } = typeof entry === 'string' ? { key: entry, versionId: undefined } : entry
      if (versionId !== undefined && MALFORMED.includes(versionId)) {
        const error = result.errors[errors++]
        if (error?.key !== key || error.versionId !== versionId || error.code !== 'InvalidArgument') this.problem(`deleteObjects: error ${show(error)} for ${show(entry)}`)
        this.stats.refused++
        continue
      }
      const done = result.deleted[deleted++]
      if (done === undefined || done.key !== key) {
        this.problem(`deleteObjects: ${show(done)} for ${show(entry)}`)
        return
      }
      if (versionId !== undefined) {
        if (done.versionId !== versionId) this.problem(`deleteObjects: ${show(done)} for ${show(entry)}`)
        const gone = model.find(key, versionId)
        const marker = gone?.marker === true
        if (done.deleteMarker !== (marker ? true : undefined) || done.deleteMarkerVersionId !== (marker ? versionId : undefined)) {
          this.problem(`deleteObjects: ${show(done)} for ${show(entry)}, which ${marker ? 'is' : 'is not'} a delete marker`)
        }
        this.removed(key, versionId, { versionId: done.versionId, deleteMarker: done.deleteMarker }, `deleteObjects ${key}?versionId=${versionId}`)
      } else if (model.status === 'unversioned') {
        if (!same(done, { key })) this.problem(`deleteObjects: ${show(done)} in an unversioned bucket`)
        model.deleteCurrent(key, 'null')
      } else {
        if (done.deleteMarker !== true || done.versionId !== undefined) this.problem(`deleteObjects: ${show(done)}, expected a delete marker`)
        model.deleteCurrent(key, this.accept(key, done.deleteMarkerVersionId, `deleteObjects ${key}`))
        this.stats.markers++
      }
    }
    if (deleted !== result.deleted.length || errors !== result.errors.length) this.problem(`deleteObjects: ${show(result)}`)
  }

  async setVersioning (): Promise<void> {
    const status: VersioningStatus = this.rng.chance(this.model.status === 'Enabled' ? 0.3 : 0.7) ? 'Enabled' : 'Suspended'
    this.log.push(`versioning ${status}`)
    await this.box.putBucketVersioning(BUCKET, status)
    this.model.status = status
  }

  /** Everything the model knows, read back from the store. */
  async verify (everything = this.step % 20 === 0): Promise<void> {
    const { box, model } = this
    const lists = [...model.keys.values()]
    this.reached[model.status]++
    if (lists.some(list => list.slice(1).some(v => v.id === 'null'))) this.reached.noncurrentNull++
    if (lists.some(list => list[0]?.marker === true)) this.reached.currentMarker++
    if (lists.some(list => list.length >= 5)) this.reached.manyVersions++
    const versioning = await box.getBucketVersioning(BUCKET)
    if (!same(versioning, model.status === 'unversioned' ? {} : { status: model.status })) this.problem(`getBucketVersioning: ${show(versioning)}`)
    for (const key of KEYS) {
      await this.read(key, undefined)
      for (const id of new Set([...model.versions(key).map(v => v.id), 'null', 'f'.repeat(24) + 'unknown0'])) await this.read(key, id)
      // Removed versions stay gone: checked on the keys this step touched, and on every key now and then.
      if (!everything && !this.touched.has(key)) continue
      for (const id of model.issued.get(key) ?? []) if (model.find(key, id) === undefined) await this.read(key, id)
    }
    this.touched.clear()
    await this.verifyObjectListings()
    // Each listing whole at every step; in small pages two of them a step, in turn.
    for (const [i, options] of LISTINGS.entries()) await this.verifyVersionListing(options, (this.step + i) % LISTINGS.length < 2)
    const all: Listed[] = []
    for await (const v of box.listAllVersions(BUCKET)) all.push({ key: v.key, versionId: v.versionId, isLatest: v.isLatest, deleteMarker: v.deleteMarker, etag: v.etag, size: v.size })
    if (!same(all, expectedVersions(model, '', undefined).versions)) this.problem(`listAllVersions: ${difference({ versions: all }, { versions: expectedVersions(model, '', undefined).versions })}`)
    this.stats.chunksSeen = Math.max(this.stats.chunksSeen, await rawProblems(this.sub, this.problems))
  }

  /**
   * GET of a key's current version (and HEAD, which must agree), or of one version. A version the
   * model does not hold (removed, never issued) is asked for with HEAD alone: the same lookup,
   * without a body to stream.
   */
  async read (key: string, versionId: string | undefined): Promise<void> {
    const { box, model } = this
    const what = `GET ${key}${versionId === undefined ? '' : `?versionId=${versionId}`}`
    const version = versionId === undefined ? model.current(key) : model.find(key, versionId)
    const options = versionId === undefined ? {} : { versionId }
    const head = version === undefined || versionId === undefined ? await attempt(box.headObject(BUCKET, key, options)) : undefined
    let got: Outcome<{ info: ObjectInfo, data: Buffer | undefined }>
    if (version === undefined && versionId !== undefined && head !== undefined) {
      got = head.ok ? { ok: true, value: { info: head.value, data: undefined } } : head
    } else {
      const outcome = await attempt(box.getObject(BUCKET, key, options))
      got = outcome.ok ? { ok: true, value: { info: outcome.value.info, data: await readAll(outcome.value.body) } } : outcome
      if (head !== undefined && (got.ok !== head.ok || (!got.ok && !head.ok && got.code !== head.code))) this.problem(`${what}: GET and HEAD disagree`)
    }
    if (version === undefined || (version.marker && versionId === undefined)) {
      const code = versionId === undefined ? 'NoSuchKey' : 'NoSuchVersion'
      if (got.ok) this.problem(`${what}: found, expected ${code}`)
      else if (got.code !== code) this.problem(`${what}: ${got.code}, expected ${code}`)
      else if (version !== undefined && (got.detail?.deleteMarker !== 'true' || got.detail.versionId !== version.id)) {
        this.problem(`${what}: NoSuchKey without the current delete marker's detail: ${show(got.detail)}`)
      }
      return
    }
    if (version.marker) {
      if (got.ok) this.problem(`${what}: a delete marker read as an object`)
      else if (got.code !== 'MethodNotAllowed' || got.detail?.deleteMarker !== 'true' || got.detail.versionId !== version.id) {
        this.problem(`${what}: ${got.code} ${show(got.detail)}, expected MethodNotAllowed for a delete marker`)
      }
      return
    }
    if (!got.ok) {
      this.problem(`${what}: ${got.code}, expected version ${version.id}`)
      return
    }
    const { info, data } = got.value
    if (data === undefined || !data.equals(version.body)) this.problem(`${what}: ${String(data?.length)} bytes that are not version ${version.id}'s ${version.body.length}`)
    if (info.etag !== `"${version.etag}"` || info.versionId !== model.reported(version.id) || !same(info.metadata, version.metadata)) {
      this.problem(`${what}: etag ${info.etag} version ${String(info.versionId)} metadata ${show(info.metadata)}, expected "${version.etag}" ${String(model.reported(version.id))} ${show(version.metadata)}`)
    }
    if (head?.ok === true && (head.value.etag !== info.etag || head.value.versionId !== info.versionId || head.value.size !== version.body.length)) this.problem(`${what}: HEAD says ${show(head.value)}`)
  }

  async verifyObjectListings (): Promise<void> {
    const { box, model } = this
    for (const delimiter of [undefined, '/']) {
      const expected = expectedObjects(model, delimiter)
      const options = delimiter === undefined ? {} : { delimiter }
      const v2 = await box.listObjectsV2(BUCKET, options)
      const v2seen = { contents: v2.contents.map(o => ({ key: o.key, etag: o.etag, size: o.size })), commonPrefixes: v2.commonPrefixes }
      if (!same(v2seen, expected) || v2.isTruncated) this.problem(`listObjectsV2 ${show(options)}: ${difference(v2seen, expected)}`)
      const v1 = await box.listObjects(BUCKET, options)
      const v1seen = { contents: v1.contents.map(o => ({ key: o.key, etag: o.etag, size: o.size })), commonPrefixes: v1.commonPrefixes }
      if (!same(v1seen, expected) || v1.isTruncated) this.problem(`listObjects ${show(options)}: ${difference(v1seen, expected)}`)
      // In pages of one or two: delete markers passed over never end a page early nor late.
      const maxKeys = this.rng.int(1, 2)
      const pages = { contents: [] as string[], commonPrefixes: [] as string[] }
      let continuationToken: string | undefined
      for (let page = 0; page < 20; page++) {
        const result = await box.listObjectsV2(BUCKET, { ...options, maxKeys, ...(continuationToken === undefined ? {} : { continuationToken }) })
        pages.contents.push(...result.contents.map(o => o.key))
        pages.commonPrefixes.push(...result.commonPrefixes)
        if (result.isTruncated && result.keyCount !== maxKeys) this.problem(`listObjectsV2 page of ${maxKeys}: truncated after ${result.keyCount}`)
        if (!result.isTruncated) break
        continuationToken = result.nextContinuationToken
      }
      const keys = { contents: expected.contents.map(o => o.key), commonPrefixes: expected.commonPrefixes }
      if (!same(pages, keys)) this.problem(`listObjectsV2 ${show(options)} in pages of ${maxKeys}: ${difference(pages, keys)}`)
      const v1pages = { contents: [] as string[], commonPrefixes: [] as string[] }
      let marker: string | undefined
      for (let page = 0; page < 20; page++) {
        const result = await box.listObjects(BUCKET, { ...options, maxKeys, ...(marker === undefined ? {} : { marker }) })
        v1pages.contents.push(...result.contents.map(o => o.key))
        v1pages.commonPrefixes.push(...result.commonPrefixes)
        if (!result.isTruncated) break
        marker = result.nextMarker ?? result.contents[result.contents.length - 1]?.key
      }
      if (!same(v1pages, keys)) this.problem(`listObjects ${show(options)} in pages of ${maxKeys}: ${difference(v1pages, keys)}`)
    }
  }

  async verifyVersionListing (options: ListObjectVersionsOptions, paged: boolean): Promise<void> {
    const expected = expectedVersions(this.model, options.prefix ?? '', options.delimiter)
    const listed = (versions: Array<Listed & { etag?: string, size?: number }>): Listed[] =>
      versions.map(v => ({ key: v.key, versionId: v.versionId, isLatest: v.isLatest, deleteMarker: v.deleteMarker, etag: v.etag, size: v.size }))
    const whole = await this.box.listObjectVersions(BUCKET, options)
    const seen = { versions: listed(whole.versions), commonPrefixes: whole.commonPrefixes }
    if (!same(seen, expected) || whole.isTruncated) this.problem(`listObjectVersions ${show(options)}: ${difference(seen, expected)}`)
    if (!paged) return
    // In small pages, each resumed at the last page's key and version id markers.
    const maxKeys = this.rng.int(1, 3)
    const pages = { versions: [] as Listed[], commonPrefixes: [] as string[] }
    let markers: { keyMarker?: string, versionIdMarker?: string } = {}
    for (let page = 0; ; page++) {
      if (page > expected.versions.length + expected.commonPrefixes.length + 1) {
        this.problem(`listObjectVersions ${show(options)} in pages of ${maxKeys}: does not end`)
        return
      }
      const result = await this.box.listObjectVersions(BUCKET, { ...options, ...markers, maxKeys })
      const count = result.versions.length + result.commonPrefixes.length
      if (count > maxKeys || (result.isTruncated && count !== maxKeys)) this.problem(`listObjectVersions page of ${maxKeys}: ${count} entries, truncated ${String(result.isTruncated)}`)
      pages.versions.push(...listed(result.versions))
      pages.commonPrefixes.push(...result.commonPrefixes)
      if (!result.isTruncated) break
      if (result.nextKeyMarker === undefined) {
        this.problem(`listObjectVersions page of ${maxKeys}: truncated without a next key marker`)
        return
      }
      // A page ends with a version (both markers name it) or with a common prefix (the key marker alone).
      const last = result.versions[result.versions.length - 1]
      const endsRight = result.nextVersionIdMarker === undefined
        ? result.commonPrefixes[result.commonPrefixes.length - 1] === result.nextKeyMarker
        : last?.key === result.nextKeyMarker && last.versionId === result.nextVersionIdMarker
      if (!endsRight) this.problem(`listObjectVersions page of ${maxKeys}: next markers ${String(result.nextKeyMarker)} ${String(result.nextVersionIdMarker)} are not its last entry`)
      markers = { keyMarker: result.nextKeyMarker, ...(result.nextVersionIdMarker === undefined ? {} : { versionIdMarker: result.nextVersionIdMarker }) }
    }
    if (!same(pages, expected)) this.problem(`listObjectVersions ${show(options)} in pages of ${maxKeys}: ${difference(pages, expected)}`)
  }

  /** Remove every version and delete marker by id; afterwards nothing is left of the bucket's data. */
  async removeAll (): Promise<void> {
    const all = []
    for await (const v of this.box.listAllVersions(BUCKET)) all.push(v)
    for (const v of all) {
      const result = await this.box.deleteObject(BUCKET, v.key, { versionId: v.versionId })
      this.removed(v.key, v.versionId, result, `delete ${v.key}?versionId=${v.versionId}`)
    }
  }
}

async function countKeys (sub: Sublevels): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const name of ['objects', 'versions', 'nullv', 'chunks', 'pending', 'uploads', 'parts'] as const) {
    out[name] = (await (sub[name] as unknown as { keys: () => { all: () => Promise<unknown[]> } }).keys().all()).length
  }
  return out
}

const databases: Array<{ name: keyof typeof SEEDS, make: (t: Tap) => Promise<AnyLevel> }> = [
  { name: 'memory', make: async () => new MemoryLevel() },
  { name: 'disk', make: async t => new Level(await tempDir(t)) as AnyLevel }
]
type Tap = Parameters<typeof tempDir>[0]

for (const { name, make } of databases) {
  for (const seed of SEEDS[name]) {
    t.test(`${name} store, seed ${seed}: every version, marker and listing matches S3's versioning model, step after step`, async t => {
      const started = Date.now()
      // A database we hold, to inspect raw between steps; the store leaves a caller's database open.
      const db = await make(t)
      await db.open()
      t.teardown(async () => { await db.close() })
      const sub = openSublevels(db)
      let box = await Spacebox.open({ ...OPEN, db })
      t.teardown(async () => { await box.close() })
      await box.createBucket(BUCKET)
      const run = new Run(box, sub, seed)
      const replay = `replay with SPACEBOX_VERSIONING_SEED=${seed}`
      const fail = (what: string): void => {
        t.fail(`seed ${seed}, ${what} (${replay})`, { problems: run.problems.slice(0, 20), lastOps: run.log.slice(-10), status: run.model.status })
      }
      for (run.step = 1; run.step <= STEPS; run.step++) {
        await run.run()
        await run.verify()
        if (run.problems.length > 0) break
      }
      if (run.problems.length > 0) return fail(`step ${run.step}: the store departs from the model`)
      t.pass(`${STEPS} steps: ${show(run.stats)}`)
      t.ok(Object.values(run.reached).every(steps => steps > 0), `the run reached every state it means to test (steps in each: ${show(run.reached)})`)

      // Reopened, the store holds every version still.
      await box.close()
      box = await Spacebox.open({ ...OPEN, db })
      run.box = box
      await run.verify(true)
      if (run.problems.length > 0) return fail('after reopening')
      t.pass('after reopening, every version and marker is still there')

      if (run.model.keys.size > 0) await t.rejects(box.deleteBucket(BUCKET), { code: 'BucketNotEmpty' }, 'a bucket with versions left is not empty')
      await run.removeAll()
      await run.verify(true)
      if (run.problems.length > 0) return fail('removing every version')
      t.same(await countKeys(sub), { objects: 0, versions: 0, nullv: 0, chunks: 0, pending: 0, uploads: 0, parts: 0 }, 'with every version removed, no record and no chunk is left')
      await box.deleteBucket(BUCKET)
      t.comment(`${name} ${seed}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
    })
  }
}
