import type { AbstractBatchOperation, AbstractBatchOptions, AbstractDelOptions, AbstractPutOptions } from 'abstract-level'
import type { AnyLevel, Sublevels } from './schema/keys.js'
import type { KeyedLock } from './internal/lock.js'
import type { Gate } from './internal/gate.js'
import type { Owner, StoreStats } from './types.js'
import type { KeyProvider } from './crypto/provider.js'
import type { Space } from './storage/space.js'
import type { SegmentFiles } from './storage/files.js'

/** What the engine modules share: the database, its sublevels and the store's settings. */
export interface Context {
  db: AnyLevel
  sub: Sublevels
  locks: KeyedLock
  /** The store's lifecycle: every public entry point asserts it open and runs through it. */
  gate: Gate
  /** The database can read synchronously (abstract-level's getSync). */
  syncReads: boolean
  chunkSize: number
  inlineThreshold: number
  maxObjectSize: number
  minPartSize: number
  region: string
  /** Options of every commit write: classic-level's `sync`, which abstract-level passes through. */
  write: WriteOptions
  /** Signs listing continuation tokens; derived from the keyring key, never stored. */
  tokenKey: Buffer
  /** The owner reported in listings. */
  owner: Owner
  stats: StoreStats
  /** The key provider, counted into `stats`. */
  provider: KeyProvider
  /** Seals access-key secrets (crypto/keyring.ts). */
  keyring: Buffer
  /** Bucket keys live longer than this (ms) are replaced for new objects. */
  bucketKeyTtl: number
  /** The one clock of the engine (the `clock` option): dates, expiries, rate limits. */
  now: () => number
  /** Ids of the buckets whose writes keep the lifecycle index: those with lifecycle rules (lifecycle/build.ts). */
  lifecycleIndexed: Set<string>
  /** Live bytes and disk space: counted as batches commit, given back by compaction. */
  space: Space
  /** Segment files, in a store spacebox opened on disk; elsewhere every segment is chunks. */
  files: SegmentFiles | undefined
}

export type WriteOptions = AbstractBatchOptions<unknown, unknown> & AbstractPutOptions<unknown, unknown> & AbstractDelOptions<unknown>

/** One operation of a LevelDB batch, on any sublevel. */
export type BatchOp = AbstractBatchOperation<AnyLevel, unknown, unknown>
