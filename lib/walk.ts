/* eslint no-labels: off -- one labeled break leaves the page loop and the batch loop at once */
import { compareUtf8 } from './internal/utf8.js'

/** Counters that let tests and benchmarks see what a listing cost. */
export interface WalkStats {
  listRecordsRead: number
  listSeeks: number
}

/** What a walk reads: an abstract-level iterator, or several merged into one order. */
export interface WalkIterator<V> {
  next: () => Promise<[Buffer, V] | undefined>
  nextv: (size: number) => Promise<Array<[Buffer, V]>>
  seek: (target: Buffer) => void
  close: () => Promise<void>
}

export interface WalkOptions<T, V> {
  iterator: WalkIterator<V>
  /** The S3 key a record belongs to. */
  nameOf: (key: Buffer) => string
  /** The first stored key after every record whose name starts with `commonPrefix`. */
  seekPast: (commonPrefix: string) => Buffer
  /** Turn a record into a listed item, or undefined to pass over it. */
  item: (name: string, key: Buffer, value: V) => T | undefined
  /** Records that neither list nor roll up (delete markers in an object listing). */
  hidden?: (value: V) => boolean
  prefix: string
  delimiter: string | undefined
  /** Entries whose name (or rolled-up prefix) sorts at or before this are skipped. */
  after: string | undefined
  limit: number
  stats: WalkStats
}

export interface WalkResult<T> {
  items: T[]
  commonPrefixes: string[]
  truncated: boolean
  /** The last entry of the page: an item's name or a common prefix. */
  last: { name: string, item: T | undefined } | undefined
}

/**
 * One page of a listing with S3's delimiter roll-up. When a key rolls up into a common prefix,
 * the iterator seeks past every key under it, so a prefix holding a million keys costs one read,
 * and a page costs what its entries cost, whatever the size of the bucket.
 */
export async function walk<T, V> (options: WalkOptions<T, V>): Promise<WalkResult<T>> {
  const { iterator, prefix, delimiter, after, limit, stats } = options
  const items: T[] = []
  const commonPrefixes: string[] = []
  let last: WalkResult<T>['last']
  let truncated = false
  try {
    pages: for (;;) {
      // Without a delimiter nothing is skipped: the rest of the page comes in one batch. With one,
      // entries come singly, so that a roll-up seeks before anything under it is read.
      const entries = delimiter === undefined
        ? await iterator.nextv(limit + 1 - items.length)
        : await iterator.next().then(entry => entry === undefined ? [] : [entry])
      if (entries.length === 0) break
      for (const [key, value] of entries) {
        stats.listRecordsRead++
        if (options.hidden?.(value) === true) continue
        const name = options.nameOf(key)
        const at = delimiter === undefined ? -1 : name.indexOf(delimiter, prefix.length)
        if (at >= 0) {
          const commonPrefix = name.slice(0, at + (delimiter as string).length)
          const fresh = after === undefined || compareUtf8(commonPrefix, after) > 0
          if (fresh && items.length + commonPrefixes.length === limit) {
            truncated = true
            break pages
          }
          if (fresh) {
            commonPrefixes.push(commonPrefix)
            last = { name: commonPrefix, item: undefined }
          }
          iterator.seek(options.seekPast(commonPrefix))
          stats.listSeeks++
          continue
        }
        const item = options.item(name, key, value)
        if (item === undefined) continue
        if (items.length + commonPrefixes.length === limit) {
          truncated = true
          break pages
        }
        items.push(item)
        last = { name, item }
      }
    }
  } finally {
    await iterator.close()
  }
  return { items, commonPrefixes, truncated, last }
}
