import { XMLParser } from 'fast-xml-parser'
import { S3Error } from './errors.js'
import type { Owner } from '../index.js'

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

/** The Owner (and Initiator) element: a store has one owner, whichever key is asking. */
export function ownerXml (owner: Owner): { ID: string, DisplayName: string } {
  return { ID: owner.id, DisplayName: owner.displayName }
}
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

// Keys may hold CR, LF and tab, which XML would normalise away unless written as references.
const ESCAPES: Record<string, string> = { '&': '&amp;', '>': '&gt;', '<': '&lt;', "'": '&apos;', '"': '&quot;', '\r': '&#13;', '\n': '&#10;', '\t': '&#9;' }
const SPECIAL = /[&><'"\r\n\t]/g
const ANY_SPECIAL = /[&><'"\r\n\t]/

function escapeText (value: string): string {
  // Most values (dates, sizes, plain keys; not ETags, which are quoted) need no escape: a test is cheaper than a replace.
  return ANY_SPECIAL.test(value) ? value.replace(SPECIAL, c => ESCAPES[c] as string) : value
}

/**
 * Children of a root in the order given, for elements of different names that interleave
 * (ListObjectVersions' Version and DeleteMarker), which an object's fields cannot.
 */
export type Children = Array<[string, unknown]>

/** An XML document with root `root`; `xmlns` on the root unless it is an Error. */
export function renderXml (root: string, content: Record<string, unknown> | Children | string, namespace = true): string {
  const inner = typeof content === 'string' ? escapeText(content) : Array.isArray(content) ? content.map(([name, value]) => element(name, value)).join('') : elements(content)
  return `${DECLARATION}<${root}${namespace ? ` xmlns="${S3_NS}"` : ''}>${inner}</${root}>`
}

/**
 * The elements of an object's fields, in order: an array repeats its element, null is an empty
 * `<name/>`, undefined is left out, and any other value is its text. Written out by hand, not with
 * fast-xml-parser's builder (which wrote the same bytes): a listing page renders 6000 elements,
 * and the builder spent more on them than the listing itself.
 */
function elements (fields: Record<string, unknown>): string {
  let out = ''
  for (const name of Object.keys(fields)) out += element(name, fields[name])
  return out
}

function element (name: string, value: unknown): string {
  if (value === undefined) return ''
  if (value === null) return `<${name}/>`
  if (Array.isArray(value)) {
    let out = ''
    for (const item of value) out += element(name, item)
    return out
  }
  const inner = typeof value === 'object' && !(value instanceof Date) ? elements(value as Record<string, unknown>) : escapeText(String(value))
  return `<${name}>${inner}</${name}>`
}

/** Request bodies are capped before parsing: at this, or twice this for DeleteObjects (1000 keys) and CompleteMultipartUpload (10,000 parts). */
export const MAX_XML_BYTES = 1024 * 1024

const MALFORMED = 'The XML you provided was not well-formed or did not validate against our published schema'

/**
 * Parse a request body. Numbers stay strings (a key `007` is not 7), whitespace is kept (keys may
 * start or end with spaces), and numeric character references are decoded. MalformedXML on
 * anything unreadable or without the expected root.
 */
export function parseXml (text: string, root: string, arrays: readonly string[]): Record<string, unknown> {
  const parser = new XMLParser({
    parseTagValue: false,
    trimValues: false,
    removeNSPrefix: true,
    ignoreAttributes: true,
    ignoreDeclaration: true,
    processEntities: true,
    htmlEntities: true,
    isArray: (name) => arrays.includes(name)
  })
  // No document type declarations: their entities are the classic expansion bomb.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new S3Error('MalformedXML', MALFORMED)
  let doc: Record<string, unknown>
  try {
    doc = parser.parse(text, true) as Record<string, unknown>
  } catch {
    throw new S3Error('MalformedXML', MALFORMED)
  }
  const keys = Object.keys(doc).filter(name => name !== '#text' || String(doc[name]).trim() !== '')
  const value = doc[root]
  if (keys.length !== 1 || keys[0] !== root || (value !== '' && (typeof value !== 'object' || value === null))) {
    throw new S3Error('MalformedXML', MALFORMED)
  }
  return value === '' ? {} : value as Record<string, unknown>
}

/** A required child element's text; MalformedXML when absent or not text. */
export function text (node: Record<string, unknown>, name: string): string {
  const value = node[name]
  if (typeof value !== 'string') throw new S3Error('MalformedXML', MALFORMED)
  return value
}

/** An optional child element's text. */
export function optionalText (node: Record<string, unknown>, name: string): string | undefined {
  const value = node[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new S3Error('MalformedXML', MALFORMED)
  return value
}

/** Repeated child elements (declared in `arrays` when parsing). */
export function children (node: Record<string, unknown>, name: string): Array<Record<string, unknown>> {
  const value = node[name]
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new S3Error('MalformedXML', MALFORMED)
  return value.map(item => {
    if (item === '') return {}
    if (typeof item !== 'object' || item === null) throw new S3Error('MalformedXML', MALFORMED)
    return item as Record<string, unknown>
  })
}

/**
 * A configuration element's children, each one of `known` and present once unless `repeatable`
 * (the parser makes repeated ones arrays); whitespace between them is layout and an empty element
 * has none. MalformedXML otherwise.
 */
export function fields (node: unknown, known: readonly string[], repeatable: readonly string[]): Record<string, unknown> {
  if (node === '') return {}
  if (typeof node !== 'object' || node === null || Array.isArray(node)) throw malformedXml()
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(node as Record<string, unknown>)) {
    if (name === '#text' && typeof value === 'string' && value.trim() === '') continue
    if (!known.includes(name) || (Array.isArray(value) && !repeatable.includes(name))) throw malformedXml()
    out[name] = value
  }
  return out
}

/** The text of an element allowed once (undefined when absent); MalformedXML if it holds elements. */
export function leafText (node: unknown): string | undefined {
  if (node !== undefined && typeof node !== 'string') throw malformedXml()
  return node
}

export function malformedXml (): S3Error {
  return new S3Error('MalformedXML', MALFORMED)
}
