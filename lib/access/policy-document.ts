/**
 * A policy's text as a JSON document: the size limits and duplicate names S3 checks before it looks
 * at a statement, and the JSON helpers every compile step shares. Kept apart so the statement and
 * condition compilers see a parsed, bounded document, never raw text.
 */

/** How a compile step refuses the policy: it throws MalformedPolicy with S3's message. */
export type Fail = (message: string) => never
export type Json = null | boolean | number | string | Json[] | { [name: string]: Json }
export type JsonObject = { [name: string]: Json }

/** S3's limit, counted as S3 does: without the whitespace between JSON tokens. */
const MAX_POLICY_BYTES = 20 * 1024
/** Indentation may come on top of the 20 KB; past this the text is refused before it is parsed. */
const MAX_TEXT_BYTES = 64 * 1024

const TOO_LARGE = 'Policy exceeds the maximum allowed document size.'
export const SYNTAX = 'Invalid policy syntax.'

export const isObject = (value: unknown): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value)
/** An own property only: a name like `constructor` must not reach Object.prototype. */
export const field = (object: JsonObject, name: string): Json | undefined => Object.hasOwn(object, name) ? object[name] : undefined

/** The parsed document; refused unless it is a JSON object within S3's size limit, no name twice in one object. */
export function parseDocument (text: string, fail: Fail): JsonObject {
  // Length first: a UTF-16 length over the limit means at least as many UTF-8 bytes.
  if (text.length > MAX_TEXT_BYTES || Buffer.byteLength(text) > MAX_TEXT_BYTES) fail(TOO_LARGE)
  if (text[0] !== '{') fail("Policies must be valid JSON and the first byte must be '{'")
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch {
    fail('This policy contains invalid Json')
  }
  if (!isObject(document)) return fail("Policies must be valid JSON and the first byte must be '{'")
  const { duplicate, bytes } = scanJson(text)
  if (bytes > MAX_POLICY_BYTES) fail(TOO_LARGE)
  // JSON.parse keeps the last of two equal names; a reader would see the first. Neither may win.
  if (duplicate !== undefined) fail(`Statement/policy already has instance of ${duplicate}`)
  return document
}

/**
 * One pass over valid JSON: the first name an object holds twice, and the size in UTF-8 bytes
 * without the whitespace between tokens. Iterative, so nesting depth costs nothing.
 */
function scanJson (text: string): { duplicate: string | undefined, bytes: number } {
  const open: (Set<string> | null)[] = []
  let expectName = false
  let bytes = 0
  let duplicate: string | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue
    bytes++
    if (c === '{') {
      open.push(new Set())
      expectName = true
    } else if (c === '[') {
      open.push(null)
      expectName = false
    } else if (c === '}' || c === ']') {
      open.pop()
      expectName = false
    } else if (c === ',') {
      expectName = open[open.length - 1] instanceof Set
    } else if (c === ':') {
      expectName = false
    } else if (c === '"') {
      let end = i + 1
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      const raw = text.slice(i, end + 1)
      bytes += Buffer.byteLength(raw) - 1
      const names = open[open.length - 1]
      if (expectName && names instanceof Set && duplicate === undefined) {
        const name = JSON.parse(raw) as string
        if (names.has(name)) duplicate = name
        names.add(name)
      }
      i = end
    }
  }
  return { duplicate, bytes }
}
