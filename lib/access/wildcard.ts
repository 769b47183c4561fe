/**
 * The `*`/`?` patterns of resources, action names and StringLike conditions. Policy text is hostile
 * input to every later request, so no RegExp is ever built from it: a pattern is compiled once into
 * literal segments and matched by a forward scan that never backtracks.
 */
import type { Fail } from './policy-document.js'

/** A run of literal characters; `one[i]` marks a `?` (any one character) at position i. */
interface Segment {
  text: string
  one: Uint8Array | undefined
  /** For a segment with `?`: what a search by shift-and builds its masks from. */
  wild: Wild | undefined
}
/**
 * The bits of the `?` positions, and where each literal character code stands. For a segment of up
 * to 32 characters (every real pattern), `small` holds each literal character's mask, built once:
 * a search then allocates nothing. Longer segments build masks per search, as their characters come.
 */
interface Wild { any: Uint32Array, spots: Map<number, number[]>, small: Map<number, number> | undefined }
/** The most mask words one search keeps (1 MB): past it they are dropped and built again as needed. */
const MAX_MASK_WORDS = 1 << 18
/** A pattern split at its `*`s: one segment means no `*`. */
export type Glob = readonly Segment[]

/**
 * Compile `*`/`?` pattern text. With `variables` (version 2012-10-17), `${*}`, `${?}` and `${$}`
 * stand for those characters; any other policy variable is refused, not taken as text.
 */
export function compileGlob (pattern: string, variables: boolean, fail: Fail): Glob {
  const segments: Segment[] = []
  let text = ''
  let one: number[] = []
  const close = (): void => {
    let mask: Uint8Array | undefined
    let wild: Wild | undefined
    if (one.length > 0) {
      mask = new Uint8Array(text.length)
      for (const i of one) mask[i] = 1
      wild = wildOf(text, mask)
    }
    segments.push({ text, one: mask, wild })
    text = ''
    one = []
  }
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string
    if (variables && c === '$' && pattern[i + 1] === '{') {
      const escaped = escape(pattern, i, fail)
      text += escaped
      i += 3
    } else if (c === '*') {
      close()
    } else if (c === '?') {
      one.push(text.length)
      text += c
    } else {
      text += c
    }
  }
  close()
  return segments
}

/** The character `${*}`, `${?}` or `${$}` at `i` stands for; other policy variables are refused. */
function escape (pattern: string, i: number, fail: Fail): string {
  const name = pattern[i + 2]
  if ((name === '*' || name === '?' || name === '$') && pattern[i + 3] === '}') return name
  const end = pattern.indexOf('}', i)
  return fail(`Policy variables are not supported: ${pattern.slice(i, end === -1 ? i + 64 : Math.min(end + 1, i + 64))}`)
}

/** A condition value for the exact-match operators: `${*}`-style escapes resolved, no wildcards. */
export function literal (value: string, variables: boolean, fail: Fail): string {
  if (!variables || !value.includes('${')) return value
  let text = ''
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '$' && value[i + 1] === '{') {
      text += escape(value, i, fail)
      i += 3
    } else {
      text += value[i] as string
    }
  }
  return text
}

/**
 * Whether `s` matches: the first and last segments are anchored at the ends, each middle one is
 * taken at its leftmost place after the one before (leftmost leaves the most room for the rest, so
 * this is exact). No backtracking: at worst one scan of `s` per segment.
 */
export function matchGlob (glob: Glob, s: string): boolean {
  const first = glob[0] as Segment
  if (glob.length === 1) return s.length === first.text.length && at(first, s, 0)
  const last = glob[glob.length - 1] as Segment
  const end = s.length - last.text.length
  if (end < first.text.length || !at(first, s, 0) || !at(last, s, end)) return false
  let from = first.text.length
  for (let i = 1; i < glob.length - 1; i++) {
    const segment = glob[i] as Segment
    const found = find(segment, s, from, end)
    if (found === -1) return false
    from = found + segment.text.length
  }
  return true
}

function at (segment: Segment, s: string, from: number): boolean {
  const { text, one } = segment
  if (one === undefined) return s.startsWith(text, from)
  if (from + text.length > s.length) return false
  for (let i = 0; i < text.length; i++) {
    if (one[i] === 0 && text.charCodeAt(i) !== s.charCodeAt(from + i)) return false
  }
  return true
}

/** The leftmost place at or after `from` where `segment` fits wholly before `limit`, or -1. */
function find (segment: Segment, s: string, from: number, limit: number): number {
  const last = limit - segment.text.length
  if (segment.one === undefined) {
    const found = s.indexOf(segment.text, from)
    return found !== -1 && found <= last ? found : -1
  }
  return from > last ? -1 : shiftAnd(segment.text.length, segment.wild as Wild, s, from, limit)
}

function wildOf (text: string, one: Uint8Array): Wild {
  const any = new Uint32Array((text.length + 31) >>> 5)
  const spots = new Map<number, number[]>()
  for (let i = 0; i < text.length; i++) {
    if (one[i] === 1) {
      any[i >>> 5] = (any[i >>> 5] as number) | (1 << (i & 31))
    } else {
      const code = text.charCodeAt(i)
      const list = spots.get(code)
      if (list === undefined) spots.set(code, [i])
      else list.push(i)
    }
  }
  let small: Map<number, number> | undefined
  if (any.length === 1) {
    small = new Map()
    for (const [code, list] of spots) small.set(code, list.reduce((mask, i) => mask | (1 << i), any[0] as number))
  }
  return { any, spots, small }
}

/**
 * The leftmost place at or after `from` where a `?` segment of `length` characters fits wholly
 * before `limit`, by bit-parallel shift-and: one pass over `s`, a word of work per 32 characters of
 * the segment at each step, where a search place by place could re-read the segment at every
 * place (a near miss like `a?a?…a?b` against `aaa…`). Masks are built per character met.
 */
function shiftAnd (length: number, wild: Wild, s: string, from: number, limit: number): number {
  if (wild.small !== undefined) return shiftAndSmall(length, wild.small, wild.any[0] as number, s, from, limit)
  const words = wild.any.length
  const top = 1 << ((length - 1) & 31)
  const state = new Uint32Array(words)
  // A character the segment does not hold matches only its `?` positions.
  const masks = new Map<number, Uint32Array>()
  for (let j = from; j < limit; j++) {
    const code = s.charCodeAt(j)
    let mask = masks.get(code)
    if (mask === undefined) {
      if (masks.size * words > MAX_MASK_WORDS) masks.clear()
      const spots = wild.spots.get(code)
      mask = wild.any
      if (spots !== undefined) {
        mask = wild.any.slice()
        for (const i of spots) mask[i >>> 5] = (mask[i >>> 5] as number) | (1 << (i & 31))
      }
      masks.set(code, mask)
    }
    let carry = 1
    for (let w = 0; w < words; w++) {
      const v = state[w] as number
      state[w] = ((v << 1) | carry) & (mask[w] as number)
      carry = v >>> 31
    }
    if (((state[words - 1] as number) & top) !== 0) return j - length + 1
  }
  return -1
}

/** shiftAnd for a segment of up to 32 characters: one word of state, masks built at compile time. */
function shiftAndSmall (length: number, masks: Map<number, number>, any: number, s: string, from: number, limit: number): number {
  const top = 1 << (length - 1)
  let state = 0
  for (let j = from; j < limit; j++) {
    state = ((state << 1) | 1) & (masks.get(s.charCodeAt(j)) ?? any)
    if ((state & top) !== 0) return j - length + 1
  }
  return -1
}
