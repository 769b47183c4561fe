/**
 * Bucket CORS rules: their validation (PutBucketCors) and how a cross-origin request is matched
 * against them. Pure; the HTTP side (headers, preflight answers) belongs to the adapter.
 * Rules are stored input that every later cross-origin request reads, unauthenticated ones
 * included, so what they may hold is bounded (S3's 100 rules and 64 KB) and they are compiled once
 * per configuration: a match costs a set lookup per requested header plus, at most, one prefix
 * and suffix test per wildcard pattern.
 */
import { SpaceboxError, type ErrorCode } from './errors.js'
import type { CorsMethod, CorsRule } from './types.js'

const METHODS: ReadonlySet<string> = new Set<CorsMethod>(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])
const MAX_RULES = 100
// S3 limits the configuration document to 64 KB; counted here as every element's text plus what
// its tags would take, so the engine's bound and the XML's agree.
const MAX_CONFIG_BYTES = 64 * 1024
const ELEMENT_BYTES = 32
const MAX_ID_LENGTH = 255
// What each element may hold: header names are HTTP tokens (`*` is one of their characters), an
// origin is visible ASCII as browsers serialise it; an ID has no control characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*$/
const ORIGIN = /^[\x21-\x7e]*$/
const CONTROL = /[\0-\x1f\x7f]/
// MaxAgeSeconds is a 32-bit integer in S3's model.
const MAX_AGE = 2 ** 31 - 1

/** What a cross-origin request asks for. */
export interface CorsRequest {
  /** The Origin header. */
  origin: string
  /** The request's method, or a preflight's Access-Control-Request-Method. */
  method: string
  /** A preflight's Access-Control-Request-Headers, one name each; S3 checks no actual request's headers. */
  requestHeaders?: readonly string[]
}

/**
 * The rule S3 applies to a cross-origin request: the first whose origin pattern matches the
 * origin (case-sensitively; `*` stands for any run of characters, none included), whose methods
 * include the method, and whose allowed-header patterns cover every requested header (without
 * regard to case). Undefined when no rule does. Throws nothing.
 */
export function matchCors (rules: readonly CorsRule[], request: CorsRequest): CorsRule | undefined {
  return firstMatch(compile(rules), request)?.rule
}

/**
 * A checked copy of a CORS configuration, as stored: lists copied, empty optional lists dropped.
 * Throws InvalidArgument (no rules, a rule without origin or method, a bad type or MaxAgeSeconds)
 * or InvalidRequest (over 100 rules or 64 KB, an unsupported method, two wildcards, a character
 * an HTTP header cannot carry, an ID over 255 characters).
 */
export function checkCorsRules (rules: readonly CorsRule[], bucket: string): CorsRule[] {
  if (!Array.isArray(rules) || rules.length === 0) {
    throw invalid('InvalidArgument', 'A CORS configuration needs at least one CORSRule', bucket)
  }
  if (rules.length > MAX_RULES) {
    throw invalid('InvalidRequest', `The number of CORS rules should not exceed allowed limit of ${MAX_RULES} rules.`, bucket)
  }
  const checked = rules.map(rule => checkRule(rule, bucket))
  if (checked.reduce((sum, rule) => sum + ruleBytes(rule), 0) > MAX_CONFIG_BYTES) {
    throw invalid('InvalidRequest', `The CORS configuration exceeds the maximum size of ${MAX_CONFIG_BYTES} bytes.`, bucket)
  }
  return checked
}

function checkRule (rule: CorsRule, bucket: string): CorsRule {
  if (rule === null || typeof rule !== 'object') throw invalid('InvalidArgument', 'A CORSRule must be an object', bucket)
  const origins = strings(rule.allowedOrigins, 'AllowedOrigin', bucket)
  const methods = strings(rule.allowedMethods, 'AllowedMethod', bucket)
  if (origins.length === 0 || methods.length === 0) {
    throw invalid('InvalidArgument', 'Each CORSRule must identify at least one origin and one method.', bucket)
  }
  for (const method of methods) {
    if (!METHODS.has(method)) {
      throw invalid('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`, bucket)
    }
  }
  const allowedHeaders = strings(rule.allowedHeaders ?? [], 'AllowedHeader', bucket)
  const exposeHeaders = strings(rule.exposeHeaders ?? [], 'ExposeHeader', bucket)
  for (const [name, values, form] of [['AllowedOrigin', origins, ORIGIN], ['AllowedHeader', allowedHeaders, TOKEN], ['ExposeHeader', exposeHeaders, TOKEN]] as const) {
    for (const value of values) {
      if (!form.test(value)) {
        throw invalid('InvalidRequest', `${name} ${JSON.stringify(value)} holds a character an HTTP header cannot carry.`, bucket)
      }
      if (name !== 'ExposeHeader' && value.indexOf('*') !== value.lastIndexOf('*')) {
        throw invalid('InvalidRequest', `${name} "${value}" can not have more than one wildcard.`, bucket)
      }
    }
  }

  const checked: CorsRule = { allowedOrigins: origins, allowedMethods: methods as CorsMethod[] }
  if (rule.id !== undefined) {
    if (typeof rule.id !== 'string') throw invalid('InvalidArgument', 'A CORSRule ID must be a string', bucket)
    if (rule.id.length > MAX_ID_LENGTH) {
      throw invalid('InvalidRequest', `The ID value can be up to ${MAX_ID_LENGTH} characters long. Invalid ID is "${rule.id}"`, bucket)
    }
    if (CONTROL.test(rule.id)) throw invalid('InvalidRequest', 'A CORSRule ID may not hold control characters.', bucket)
    checked.id = rule.id
  }
  if (allowedHeaders.length > 0) checked.allowedHeaders = allowedHeaders
  if (exposeHeaders.length > 0) checked.exposeHeaders = exposeHeaders
  if (rule.maxAgeSeconds !== undefined) {
    const age = rule.maxAgeSeconds
    if (!Number.isInteger(age) || age < 0 || age > MAX_AGE) {
      throw invalid('InvalidArgument', `MaxAgeSeconds "${String(age)}" is not a valid value.`, bucket)
    }
    checked.maxAgeSeconds = age
  }
  return checked
}

/** What a checked rule counts against the configuration's size limit. */
function ruleBytes (rule: CorsRule): number {
  const texts = [...rule.allowedOrigins, ...rule.allowedMethods, ...rule.allowedHeaders ?? [], ...rule.exposeHeaders ?? [], rule.id ?? '', String(rule.maxAgeSeconds ?? '')]
  return texts.reduce((sum, text) => sum + Buffer.byteLength(text) + ELEMENT_BYTES, ELEMENT_BYTES)
}

/** A bucket's checked CORS rules, compiled for matching. */
export interface CorsPolicy {
  /** The rules, frozen. */
  readonly rules: readonly CorsRule[]
  /** What `matchCors` answers for these rules, at a bounded cost. */
  match: (request: CorsRequest) => CorsRule | undefined
}

/** Compile rules (frozen copies) once, for `matchCors`'s decision at a bounded cost. Throws nothing. */
export function compileCors (rules: readonly CorsRule[]): CorsPolicy {
  const compiled = compile(rules.map(frozenCopy))
  return {
    rules: Object.freeze(compiled.map(c => c.rule)),
    match: request => firstMatch(compiled, request)?.rule
  }
}

interface CompiledRule {
  rule: CorsRule
  origins: (origin: string) => boolean
  methods: ReadonlySet<string>
  headers: (name: string) => boolean
}

function compile (rules: readonly CorsRule[]): CompiledRule[] {
  return rules.map(rule => ({
    rule,
    origins: patterns(rule.allowedOrigins),
    methods: new Set<string>(rule.allowedMethods),
    headers: patterns((rule.allowedHeaders ?? []).map(name => name.toLowerCase()))
  }))
}

function firstMatch (compiled: readonly CompiledRule[], request: CorsRequest): CompiledRule | undefined {
  const headers = (request.requestHeaders ?? []).map(name => name.toLowerCase())
  return compiled.find(c => c.methods.has(request.method) && c.origins(request.origin) && headers.every(c.headers))
}

function frozenCopy (rule: CorsRule): CorsRule {
  const copy = structuredClone(rule)
  for (const value of Object.values(copy)) {
    if (Array.isArray(value)) Object.freeze(value)
  }
  return Object.freeze(copy)
}

/** A test for a list of patterns: exact ones in a set, those with a wildcard in order. */
function patterns (list: readonly string[]): (value: string) => boolean {
  const exact = new Set<string>()
  const wild: string[] = []
  for (const pattern of list) {
    if (pattern.includes('*')) wild.push(pattern)
    else exact.add(pattern)
  }
  if (wild.includes('*')) return () => true
  return value => exact.has(value) || wild.some(pattern => wildcardMatch(pattern, value))
}

/** A copy of `value` if it is a list of strings; InvalidArgument otherwise. */
function strings (value: unknown, element: string, bucket: string): string[] {
  if (!Array.isArray(value) || !value.every(item => typeof item === 'string')) {
    throw invalid('InvalidArgument', `${element} must be a list of strings`, bucket)
  }
  return [...value as string[]]
}

/** Whether `value` matches `pattern`, in which each `*` stands for any run of characters. */
function wildcardMatch (pattern: string, value: string): boolean {
  const parts = pattern.split('*')
  if (parts.length === 1) return pattern === value
  const head = parts[0] ?? ''
  const tail = parts[parts.length - 1] ?? ''
  const end = value.length - tail.length
  if (end < head.length || !value.startsWith(head) || !value.endsWith(tail)) return false
  // Leftmost placement of each middle piece leaves the most room for the rest.
  let at = head.length
  for (const part of parts.slice(1, -1)) {
    const found = value.indexOf(part, at)
    if (found === -1 || found + part.length > end) return false
    at = found + part.length
  }
  return true
}

function invalid (code: ErrorCode, message: string, bucket: string): SpaceboxError {
  return new SpaceboxError(code, message, { bucket })
}
