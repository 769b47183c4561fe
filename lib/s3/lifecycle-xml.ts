/**
 * The LifecycleConfiguration document of Put/GetBucketLifecycleConfiguration, and the
 * `x-amz-expiration` header. The parser checks the document's shape (what S3 answers MalformedXML
 * for); what the values may be (Days, Date at midnight, ID length and uniqueness) is the engine's
 * `checkLifecycleRules`, which answers with S3's codes and messages.
 */
import type { LifecycleExpiration, LifecycleFilter, LifecycleRule, ObjectExpiration } from '../index.js'
import { S3Error } from './errors.js'
import { fields as anyFields, leafText as text, malformedXml as malformed, parseXml, renderXml } from './xml.js'

type Node = Record<string, unknown>

const REPEATED = ['Rule', 'Tag', 'Transition', 'NoncurrentVersionTransition']
const MAX_RULES = 1000
const INTEGER = /^\s*-?\d{1,16}\s*$/

/** Only Rule, Tag and the transitions may repeat. */
function fields (node: unknown, known: readonly string[]): Node {
  return anyFields(node, known, REPEATED)
}

/**
 * The rules of a PutBucketLifecycleConfiguration body (or of the older PutBucketLifecycle, whose
 * rules name a prefix instead of a filter). Throws S3Error MalformedXML (not well-formed, another
 * root, an unknown or repeated element, no rule or over 1000, a Status other than Enabled or
 * Disabled, a Filter with two predicates outside And, both or neither of Filter and Prefix, an
 * Expiration without exactly one of Days, Date and ExpiredObjectDeleteMarker, a number or date
 * that is not one), InvalidRequest (a tag key twice in And), NotImplemented (transitions: storage
 * classes mean nothing here; in the `spaces` profile tag filters too, which Spaces does not have).
 */
export function parseLifecycleConfiguration (xml: string, profile: 'aws' | 'spaces' = 'aws'): LifecycleRule[] {
  const doc = fields(parseXml(xml, 'LifecycleConfiguration', REPEATED), ['Rule'])
  const rules = doc.Rule ?? []
  if (!Array.isArray(rules) || rules.length === 0 || rules.length > MAX_RULES) throw malformed()
  return rules.map(node => parseRule(node, profile))
}

function parseRule (node: unknown, profile: 'aws' | 'spaces'): LifecycleRule {
  const rule = fields(node, ['ID', 'Status', 'Filter', 'Prefix', 'Expiration', 'NoncurrentVersionExpiration', 'AbortIncompleteMultipartUpload',
    'Transition', 'NoncurrentVersionTransition'])
  if (rule.Transition !== undefined || rule.NoncurrentVersionTransition !== undefined) {
    throw notImplemented(rule.Transition !== undefined ? 'Transition' : 'NoncurrentVersionTransition')
  }
  const status = text(rule.Status)
  if (status !== 'Enabled' && status !== 'Disabled') throw malformed()
  const out: LifecycleRule = { status }
  const id = text(rule.ID)
  if (id !== undefined) out.id = id
  if ((rule.Filter === undefined) === (rule.Prefix === undefined)) throw malformed()
  if (rule.Prefix !== undefined) out.prefix = text(rule.Prefix) ?? ''
  else out.filter = parseFilter(rule.Filter, profile)
  if (rule.Expiration !== undefined) out.expiration = parseExpiration(rule.Expiration)
  if (rule.NoncurrentVersionExpiration !== undefined) {
    const given = fields(rule.NoncurrentVersionExpiration, ['NoncurrentDays', 'NewerNoncurrentVersions'])
    // A missing NoncurrentDays reaches the engine, which answers as S3 does (InvalidArgument).
    out.noncurrentVersionExpiration = { noncurrentDays: integer(given.NoncurrentDays) ?? 0 }
    const newer = integer(given.NewerNoncurrentVersions)
    if (newer !== undefined) out.noncurrentVersionExpiration.newerNoncurrentVersions = newer
  }
  if (rule.AbortIncompleteMultipartUpload !== undefined) {
    const given = fields(rule.AbortIncompleteMultipartUpload, ['DaysAfterInitiation'])
    out.abortIncompleteMultipartUpload = { daysAfterInitiation: integer(given.DaysAfterInitiation) ?? 0 }
  }
  return out
}

function parseFilter (node: unknown, profile: 'aws' | 'spaces'): LifecycleFilter {
  const filter = fields(node, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'And'])
  if (Object.keys(filter).length > 1) throw malformed()
  const predicates = filter.And === undefined ? filter : fields(filter.And, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'])
  const out: LifecycleFilter = {}
  const prefix = text(predicates.Prefix)
  if (prefix !== undefined) out.prefix = prefix
  const tags = predicates.Tag as unknown[] | undefined
  if (tags !== undefined) {
    if (profile === 'spaces') throw notImplemented('Tag filters')
    if (filter.And === undefined && tags.length !== 1) throw malformed()
    out.tags = {}
    for (const tag of tags) {
      const { Key, Value } = fields(tag, ['Key', 'Value'])
      const key = text(Key)
      if (key === undefined) throw malformed()
      if (Object.hasOwn(out.tags, key)) throw new S3Error('InvalidRequest', 'Duplicate Tag Keys are not allowed.')
      out.tags[key] = text(Value) ?? ''
    }
  }
  const greater = integer(predicates.ObjectSizeGreaterThan)
  if (greater !== undefined) out.objectSizeGreaterThan = greater
  const less = integer(predicates.ObjectSizeLessThan)
  if (less !== undefined) out.objectSizeLessThan = less
  return out
}

function parseExpiration (node: unknown): LifecycleExpiration {
  const expiration = fields(node, ['Days', 'Date', 'ExpiredObjectDeleteMarker'])
  if (Object.keys(expiration).length !== 1) throw malformed()
  const days = integer(expiration.Days)
  if (days !== undefined) return { days }
  const date = text(expiration.Date)
  if (date !== undefined) {
    if (Number.isNaN(Date.parse(date.trim()))) throw malformed()
    return { date: date.trim() }
  }
  const marker = text(expiration.ExpiredObjectDeleteMarker)?.trim()
  if (marker !== 'true' && marker !== 'false') throw malformed()
  return { expiredObjectDeleteMarker: marker === 'true' }
}

/**
 * The GetBucketLifecycleConfiguration body: rules in the order stored, each as S3 shows one.
 * One filter predicate stands alone, several go inside And. Throws nothing.
 */
export function lifecycleConfigurationXml (rules: readonly LifecycleRule[]): string {
  return renderXml('LifecycleConfiguration', {
    Rule: rules.map(rule => ({
      ID: rule.id,
      Prefix: rule.prefix,
      Filter: rule.filter === undefined ? undefined : filterXml(rule.filter),
      Status: rule.status,
      Expiration: rule.expiration === undefined ? undefined : expirationXml(rule.expiration),
      NoncurrentVersionExpiration: rule.noncurrentVersionExpiration === undefined
        ? undefined
        : { NoncurrentDays: rule.noncurrentVersionExpiration.noncurrentDays, NewerNoncurrentVersions: rule.noncurrentVersionExpiration.newerNoncurrentVersions },
      AbortIncompleteMultipartUpload: rule.abortIncompleteMultipartUpload === undefined
        ? undefined
        : { DaysAfterInitiation: rule.abortIncompleteMultipartUpload.daysAfterInitiation }
    }))
  })
}

function expirationXml (expiration: LifecycleExpiration): Node {
  if (expiration.days !== undefined) return { Days: expiration.days }
  if (expiration.date !== undefined) return { Date: new Date(expiration.date).toISOString() }
  return { ExpiredObjectDeleteMarker: String(expiration.expiredObjectDeleteMarker === true) }
}

function filterXml (filter: LifecycleFilter): Node | null {
  const tags = Object.entries(filter.tags ?? {}).map(([Key, Value]) => ({ Key, Value }))
  const predicates = {
    Prefix: filter.prefix,
    Tag: tags.length === 0 ? undefined : tags,
    ObjectSizeGreaterThan: filter.objectSizeGreaterThan,
    ObjectSizeLessThan: filter.objectSizeLessThan
  }
  const count = (filter.prefix === undefined ? 0 : 1) + tags.length + (filter.objectSizeGreaterThan === undefined ? 0 : 1) + (filter.objectSizeLessThan === undefined ? 0 : 1)
  if (count === 0) return null
  return count === 1 ? predicates : { And: predicates }
}

/**
 * `x-amz-expiration: expiry-date="<RFC 1123>", rule-id="<id>"`. The id is the client's own text;
 * what no header can carry (and the quote that would end it) is percent-encoded as UTF-8.
 */
export function expirationHeader (expiration: ObjectExpiration): string {
  const id = expiration.ruleId.replace(/[^\x20-\x7e]|"/gu, c => [...Buffer.from(c)].map(b => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''))
  return `expiry-date="${expiration.date.toUTCString()}", rule-id="${id}"`
}

function notImplemented (what: string): S3Error {
  return new S3Error('NotImplemented', `A header or query you provided requested a function that is not implemented: ${what}.`)
}

/** A whole number; MalformedXML for anything else. */
function integer (node: unknown): number | undefined {
  const value = text(node)
  if (value === undefined) return undefined
  if (!INTEGER.test(value)) throw malformed()
  return Number(value)
}
