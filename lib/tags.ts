/**
 * S3's rules for object and bucket tags, checked whole before anything is stored: how many, how
 * long (in UTF-16 code units, as S3 counts them), which characters, no key twice, none in the
 * reserved `aws:` namespace. Pure functions.
 */
import { SpaceboxError } from './errors.js'
import type { Tags } from './types.js'

export const MAX_OBJECT_TAGS = 10
export const MAX_BUCKET_TAGS = 50
const MAX_KEY_LENGTH = 128
const MAX_VALUE_LENGTH = 256

// The pattern of S3's Tag type (API reference, API_control_Tag): letters, numbers and spaces of any
// script, and _ . : / = + - @. S3 holds object and bucket tags to it alike.
const ALLOWED = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u
const RESERVED = /^aws:/i

/** Tags as a version's or a bucket's record keeps them: in the order given; absent when none. */
export type StoredTags = Array<[string, string]>

type Where = { bucket: string, key?: string }

/** An object's tags, checked: at most 10. BadRequest, InvalidTag. */
export function checkObjectTags (tags: unknown, where: Where): StoredTags | undefined {
  return checkTags(tags, MAX_OBJECT_TAGS, 'Object tags cannot be greater than 10', where)
}

/** The tags a write gives its version, checked, as a record field: none when it has none. */
export function tagsField (tags: unknown, where: Where): { tags?: StoredTags } {
  const checked = checkObjectTags(tags, where)
  return checked === undefined ? {} : { tags: checked }
}

/** A bucket's tags, checked: at most 50. BadRequest, InvalidTag. */
export function checkBucketTags (tags: unknown, bucket: string): StoredTags | undefined {
  return checkTags(tags, MAX_BUCKET_TAGS, 'Bucket tag count cannot be greater than 50', { bucket })
}

/**
 * The count first, then each tag in order, as S3 answers: the error names the tag at fault
 * (`detail.tagKey`, and `detail.tagValue` for a bad value). An empty set is no tags.
 */
function checkTags (tags: unknown, limit: number, tooMany: string, where: Where): StoredTags | undefined {
  if (tags === undefined) return undefined
  const pairs = pairsOf(tags)
  if (pairs.length > limit) throw new SpaceboxError('BadRequest', tooMany, where)
  const seen = new Set<string>()
  for (const [key, value] of pairs) {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH || !ALLOWED.test(key)) throw invalidTag('The TagKey you have provided is invalid', where, key)
    if (RESERVED.test(key)) throw invalidTag('Your TagKey cannot be prefixed with aws:', where, key)
    if (value.length > MAX_VALUE_LENGTH || !ALLOWED.test(value)) throw invalidTag('The TagValue you have provided is invalid', where, key, value)
    if (seen.has(key)) throw invalidTag('Cannot provide multiple Tags with the same key', where, key)
    seen.add(key)
  }
  return pairs.length === 0 ? undefined : pairs
}

/** A record's entries, or pairs as given (which may repeat a key: S3's TagSet can). TypeError for anything else. */
function pairsOf (tags: unknown): StoredTags {
  if (Array.isArray(tags)) {
    return tags.map(pair => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw new TypeError('tags must be an object of string values, or an array of [key, value] string pairs')
      }
      return [pair[0], pair[1]]
    })
  }
  if (tags === null || typeof tags !== 'object') throw new TypeError('tags must be an object of string values, or an array of [key, value] string pairs')
  const pairs = Object.entries(tags)
  for (const [key, value] of pairs) {
    if (typeof value !== 'string') throw new TypeError(`tags.${key} must be a string`)
  }
  return pairs as StoredTags
}

function invalidTag (message: string, where: Where, key: string, value?: string): SpaceboxError {
  return new SpaceboxError('InvalidTag', message, { ...where, detail: value === undefined ? { tagKey: key } : { tagKey: key, tagValue: value } })
}

/** Stored tags as the API returns them; `fromEntries` keeps a key such as `__proto__` as data. */
export function tagsOf (stored: StoredTags | undefined): Tags {
  return Object.fromEntries(stored ?? [])
}
