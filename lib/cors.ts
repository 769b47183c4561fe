/**
 * Bucket CORS rules: their validation (PutBucketCors) and how a cross-origin request is matched
 * against them. Pure; the HTTP side (headers, preflight answers) belongs to the adapter.
 */
import { SpaceboxError, type ErrorCode } from './errors.js'
import type { CorsMethod, CorsRule } from './types.js'

const METHODS: ReadonlySet<string> = new Set<CorsMethod>(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])
const MAX_RULES = 100
const MAX_ID_LENGTH = 255
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
  const headers = (request.requestHeaders ?? []).map(name => name.toLowerCase())
  return rules.find(rule =>
    rule.allowedOrigins.some(pattern => wildcardMatch(pattern, request.origin)) &&
    (rule.allowedMethods as readonly string[]).includes(request.method) &&
    headers.every(name => (rule.allowedHeaders ?? []).some(pattern => wildcardMatch(pattern.toLowerCase(), name)))
  )
}

/**
 * A checked copy of a CORS configuration, as stored: lists copied, empty optional lists dropped.
 * Throws InvalidArgument (no rules, a rule without origin or method, a bad type or MaxAgeSeconds)
 * or InvalidRequest (over 100 rules, an unsupported method, two wildcards, an ID over 255 characters).
 */
export function checkCorsRules (rules: readonly CorsRule[], bucket: string): CorsRule[] {
  if (!Array.isArray(rules) || rules.length === 0) {
    throw invalid('InvalidArgument', 'A CORS configuration needs at least one CORSRule', bucket)
  }
  if (rules.length > MAX_RULES) {
    throw invalid('InvalidRequest', `The number of CORS rules should not exceed allowed limit of ${MAX_RULES} rules.`, bucket)
  }
  return rules.map(rule => checkRule(rule, bucket))
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
  for (const [name, patterns] of [['AllowedOrigin', origins], ['AllowedHeader', allowedHeaders]] as const) {
    const bad = patterns.find(pattern => pattern.indexOf('*') !== pattern.lastIndexOf('*'))
    if (bad !== undefined) throw invalid('InvalidRequest', `${name} "${bad}" can not have more than one wildcard.`, bucket)
  }
  const exposeHeaders = strings(rule.exposeHeaders ?? [], 'ExposeHeader', bucket)

  const checked: CorsRule = { allowedOrigins: origins, allowedMethods: methods as CorsMethod[] }
  if (rule.id !== undefined) {
    if (typeof rule.id !== 'string') throw invalid('InvalidArgument', 'A CORSRule ID must be a string', bucket)
    if (rule.id.length > MAX_ID_LENGTH) {
      throw invalid('InvalidRequest', `The ID value can be up to ${MAX_ID_LENGTH} characters long. Invalid ID is "${rule.id}"`, bucket)
    }
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
