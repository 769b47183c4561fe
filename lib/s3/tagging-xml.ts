/**
 * The two forms tags travel in: the Tagging document of the `?tagging` calls, and the URL-query
 * form of the `x-amz-tagging` header of writes. The parsers check the form (MalformedXML,
 * InvalidArgument) and keep tags in the order sent, repeats included; what keys and values may be
 * is the engine's check. Pure: no store, no HTTP.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Tagging.html
 */
import type { Tags } from '../index.js'
import { S3Error } from './errors.js'
import { malformedXml, parseXml, renderXml } from './xml.js'

/**
 * A Tagging body is refused past this before it is parsed. 50 tags at their longest, every
 * character written as a numeric reference, stay under it.
 */
export const MAX_TAGGING_BYTES = 256 * 1024

type Node = Record<string, unknown>

/**
 * The tags of a PutObjectTagging / PutBucketTagging body (or a POST form's `tagging` field).
 * MalformedXML for anything unreadable, another root, no TagSet, an unknown or repeated element,
 * or a Tag without its Key or Value.
 */
export function parseTagging (xml: string): Array<[string, string]> {
  const doc = fields(parseXml(xml, 'Tagging', ['Tag']), ['TagSet'])
  if (doc.TagSet === undefined) throw malformedXml()
  const tags = fields(doc.TagSet, ['Tag']).Tag ?? []
  if (!Array.isArray(tags)) throw malformedXml()
  return tags.map((node: unknown): [string, string] => {
    const tag = fields(node, ['Key', 'Value'])
    if (typeof tag.Key !== 'string' || typeof tag.Value !== 'string') throw malformedXml()
    return [tag.Key, tag.Value]
  })
}

/** The GetObjectTagging / GetBucketTagging body: an empty `<TagSet/>` when there are none. */
export function taggingXml (tags: Tags): string {
  const entries = Object.entries(tags)
  return renderXml('Tagging', { TagSet: entries.length === 0 ? null : { Tag: entries.map(([Key, Value]) => ({ Key, Value })) } })
}

/** An element's children, each known; whitespace between them is layout, and an empty element has none. */
function fields (node: unknown, known: readonly string[]): Node {
  if (node === '') return {}
  if (typeof node !== 'object' || node === null || Array.isArray(node)) throw malformedXml()
  const out: Node = {}
  for (const [name, value] of Object.entries(node as Node)) {
    if (name === '#text' && typeof value === 'string' && value.trim() === '') continue
    if (!known.includes(name) || (Array.isArray(value) && name !== 'Tag')) throw malformedXml()
    out[name] = value
  }
  return out
}

/**
 * The tags of an `x-amz-tagging` header, `k1=v1&k2=v%20x` as a URL query encodes it ('+' is a
 * space). As S3 reads it: empty pairs are skipped and a name without `=` has an empty value, but
 * an empty name before `=`, a bad escape, bytes that are not UTF-8, raw non-ASCII, or a name given
 * twice is InvalidArgument naming the header.
 */
export function parseTaggingHeader (value: string): Array<[string, string]> {
  const invalid = (): S3Error => new S3Error('InvalidArgument',
    'The header \'x-amz-tagging\' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.',
    { ArgumentName: 'x-amz-tagging', ArgumentValue: value })
  if (/[^\x20-\x7e]/.test(value)) throw invalid()
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text.replaceAll('+', ' '))
    } catch {
      throw invalid()
    }
  }
  const pairs: Array<[string, string]> = []
  const seen = new Set<string>()
  for (const part of value.split('&')) {
    if (part === '') continue
    const mark = part.indexOf('=')
    if (mark === 0) throw invalid()
    const key = decode(mark === -1 ? part : part.slice(0, mark))
    if (seen.has(key)) throw invalid()
    seen.add(key)
    pairs.push([key, mark === -1 ? '' : decode(part.slice(mark + 1))])
  }
  return pairs
}
