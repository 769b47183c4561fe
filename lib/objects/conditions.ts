/**
 * Conditional requests, with S3's precedence (RFC 7232 order):
 * If-Match, else If-Unmodified-Since -> PreconditionFailed; then If-None-Match, else
 * If-Modified-Since -> NotModified. Dates compare at whole seconds, as Last-Modified carries
 * no fraction; unparseable dates are ignored.
 */
import { SpaceboxError } from '../errors.js'
import type { ObjectHead } from '../schema/records.js'
import type { CopyObjectOptions, ReadConditions, WriteConditions } from '../types.js'

/** An ETag as clients send it (quoted or not, maybe weak) reduced to its bare value. */
export function bareEtag (etag: string): string {
  let s = etag.trim()
  if (s.startsWith('W/')) s = s.slice(2)
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1)
  return s
}

function etagMatches (condition: string, etag: string): boolean {
  return condition.split(',').some(candidate => {
    const bare = bareEtag(candidate)
    return bare === '*' || bare === etag
  })
}

function seconds (date: Date | string | undefined): number | undefined {
  if (date === undefined) return undefined
  const ms = date instanceof Date ? date.getTime() : Date.parse(date)
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000)
}

/**
 * Throws PreconditionFailed or NotModified when a read's conditions fail. With `copySource`, a
 * failing If-None-Match or If-Modified-Since is a PreconditionFailed too, as S3 answers for
 * the x-amz-copy-source-if-* headers.
 */
export function checkReadConditions (head: ObjectHead, conditions: ReadConditions, where: { bucket: string, key: string }, copySource = false): void {
  const modified = Math.floor(head.modified / 1000)
  const fail = (code: 'PreconditionFailed' | 'NotModified', condition: string): never => {
    throw new SpaceboxError(code, code === 'NotModified' ? 'Not Modified' : 'At least one of the pre-conditions you specified did not hold', {
      ...where, detail: { condition, etag: `"${head.etag}"`, lastModified: head.modified }
    })
  }
  const { ifMatch, ifNoneMatch } = conditions
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, head.etag)) fail('PreconditionFailed', 'If-Match')
  } else {
    const since = seconds(conditions.ifUnmodifiedSince)
    if (since !== undefined && modified > since) fail('PreconditionFailed', 'If-Unmodified-Since')
  }
  const notModified = copySource ? 'PreconditionFailed' : 'NotModified'
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, head.etag)) fail(notModified, 'If-None-Match')
  } else {
    const since = seconds(conditions.ifModifiedSince)
    if (since !== undefined && modified <= since) fail(notModified, 'If-Modified-Since')
  }
}

/** Refuses an If-None-Match other than `*` before any byte is written. */
export function assertWriteConditions (conditions: WriteConditions, where: { bucket: string, key: string }): void {
  if (conditions.ifNoneMatch !== undefined && bareEtag(conditions.ifNoneMatch) !== '*') {
    throw new SpaceboxError('InvalidArgument', 'If-None-Match on a write accepts only *', where)
  }
}

/** Throws when a write's conditions fail against the object it would replace. */
export function checkWriteConditions (current: ObjectHead | undefined, conditions: WriteConditions, where: { bucket: string, key: string }): void {
  if (conditions.ifNoneMatch !== undefined && current !== undefined) {
    throw new SpaceboxError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      ...where, detail: { condition: 'If-None-Match' }
    })
  }
  if (conditions.ifMatch !== undefined) {
    if (current === undefined) throw new SpaceboxError('NoSuchKey', 'The specified key does not exist.', where)
    if (!etagMatches(conditions.ifMatch, current.etag)) {
      throw new SpaceboxError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
        ...where, detail: { condition: 'If-Match' }
      })
    }
  }
}

/** The x-amz-copy-source-if-* conditions of a copy, as read conditions on its source. */
export function copySourceConditions (options: Pick<CopyObjectOptions, 'sourceIfMatch' | 'sourceIfNoneMatch' | 'sourceIfModifiedSince' | 'sourceIfUnmodifiedSince'>): ReadConditions {
  const conditions: ReadConditions = {}
  if (options.sourceIfMatch !== undefined) conditions.ifMatch = options.sourceIfMatch
  if (options.sourceIfNoneMatch !== undefined) conditions.ifNoneMatch = options.sourceIfNoneMatch
  if (options.sourceIfModifiedSince !== undefined) conditions.ifModifiedSince = options.sourceIfModifiedSince
  if (options.sourceIfUnmodifiedSince !== undefined) conditions.ifUnmodifiedSince = options.sourceIfUnmodifiedSince
  return conditions
}
