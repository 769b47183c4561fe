import { randomBytes } from 'node:crypto'
import { SpaceboxError } from '../errors.js'
import { FORMAT_KEY, FORMAT_VERSION, IDENTITY_KEY, segmentRange, type Sublevels } from './keys.js'
import type { FormatRecord, IdentityRecord } from './records.js'
import type { SegmentFiles } from '../storage/files.js'

/**
 * Check the on-disk format at open: `isNew` for a new store (no format record yet), `older` for a
 * store of an earlier format, which this one reads as is; a store written by a newer spacebox is
 * refused rather than misread.
 */
export async function readFormat (sub: Sublevels): Promise<{ isNew: boolean, older: boolean }> {
  const record = await sub.meta.get(FORMAT_KEY) as FormatRecord | undefined
  if (record !== undefined && (typeof record.v !== 'number' || record.v > FORMAT_VERSION)) {
    throw new SpaceboxError('UnsupportedFormat', `The store has format version ${String(record.v)}; this spacebox reads up to ${FORMAT_VERSION}`)
  }
  return { isNew: record === undefined, older: record !== undefined && record.v < FORMAT_VERSION }
}

/**
 * Mark a store with the current format, once everything else it needs exists; an older store is
 * marked too, so that a spacebox too old to know delete markers refuses it instead of misreading it.
 */
export async function writeFormat (sub: Sublevels): Promise<void> {
  const record = await sub.meta.get(FORMAT_KEY) as FormatRecord | undefined
  await sub.meta.put(FORMAT_KEY, { v: FORMAT_VERSION, created: record?.created ?? Date.now() } satisfies FormatRecord)
}

/** The store's identity, made on first open: the owner id its listings report. */
export async function loadIdentity (sub: Sublevels): Promise<{ ownerId: string }> {
  let record = await sub.meta.get(IDENTITY_KEY) as IdentityRecord | undefined
  if (record === undefined) {
    record = { v: 1, ownerId: randomBytes(32).toString('hex') }
    await sub.meta.put(IDENTITY_KEY, record)
  }
  return { ownerId: record.ownerId }
}

/**
 * Remove what a crash left behind: segments still marked pending were never committed to an
 * object record, so nothing can reference their chunks or file; segments marked dead lost their
 * last record in a batch whose file was not unlinked yet. Returns how many were swept.
 */
export async function sweep (sub: Sublevels, files: SegmentFiles | undefined): Promise<number> {
  let swept = 0
  for await (const id of sub.pending.keys()) {
    await sub.chunks.clear(segmentRange(id))
    await files?.remove(id)
    await sub.pending.del(id)
    swept++
  }
  for await (const id of sub.dead.keys()) {
    await files?.remove(id)
    await sub.dead.del(id)
    swept++
  }
  return swept
}
