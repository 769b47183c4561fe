/**
 * Bucket CORS on the wire: the CORSConfiguration document (PutBucketCors, GetBucketCors), the
 * answer to a preflight OPTIONS request, and the headers an actual cross-origin request gets.
 * Which rule applies is the engine's `matchCors`.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { CorsMethod, CorsPolicy, CorsRule } from '../index.js'
import { S3Error } from './errors.js'
import { header } from './request.js'
import { malformedXml as malformed, parseXml, renderXml } from './xml.js'

const RULE_ELEMENTS = new Set(['ID', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds'])
// Repeatable elements, parsed as lists even when they occur once.
const LISTS = new Set(['CORSRule', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader'])
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'
// Browsers request a handful; more bounds nothing a page needs and only adds to the matching cost.
const MAX_REQUESTED_HEADERS = 100
// S3's wording, its misspelling included: clients and tests match on it.
const NOT_ALLOWED = 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, ' +
  'request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.'

/**
 * The rules of a PutBucketCors body, in document order. Origins, methods, header names and
 * MaxAgeSeconds are trimmed (whitespace around a token is layout); IDs are kept as sent.
 * The rules are not yet checked (unsupported methods, wildcards): putBucketCors does that.
 * Throws S3Error MalformedXML for a body that is not well-formed, has another root, no rule, a
 * rule without AllowedOrigin or AllowedMethod, an unknown element, or a MaxAgeSeconds that is not
 * an integer.
 */
export function parseCorsConfiguration (xml: string): CorsRule[] {
  const config = parseXml(xml, 'CORSConfiguration', [...LISTS])
  if (Object.keys(config).some(name => name !== 'CORSRule' && !isLayout(name, config[name]))) throw malformed()
  const rules = config.CORSRule
  if (!Array.isArray(rules) || rules.length === 0) throw malformed()
  return rules.map(parseRule)
}

function parseRule (node: unknown): CorsRule {
  const fields = element(node)
  if (Object.keys(fields).some(name => !RULE_ELEMENTS.has(name) && !isLayout(name, fields[name]))) throw malformed()
  const origins = texts(fields.AllowedOrigin).map(value => value.trim())
  const methods = texts(fields.AllowedMethod).map(value => value.trim())
  if (origins.length === 0 || methods.length === 0) throw malformed()
  const rule: CorsRule = { allowedOrigins: origins, allowedMethods: methods as CorsMethod[] }
  const id = single(fields.ID)
  if (id !== undefined) rule.id = id
  const allowedHeaders = texts(fields.AllowedHeader).map(value => value.trim())
  if (allowedHeaders.length > 0) rule.allowedHeaders = allowedHeaders
  const exposeHeaders = texts(fields.ExposeHeader).map(value => value.trim())
  if (exposeHeaders.length > 0) rule.exposeHeaders = exposeHeaders
  const age = single(fields.MaxAgeSeconds)?.trim()
  if (age !== undefined) {
    if (!/^[+-]?\d+$/.test(age)) throw malformed()
    rule.maxAgeSeconds = Number(age)
  }
  return rule
}

/**
 * The GetBucketCors body for `rules`: an XML declaration and a namespaced CORSConfiguration, each
 * rule's elements in the order ID, AllowedHeader, AllowedMethod, AllowedOrigin, ExposeHeader,
 * MaxAgeSeconds. Throws nothing.
 */
export function corsConfigurationXml (rules: readonly CorsRule[]): string {
  const CORSRule = rules.map(rule => ({
    ...(rule.id === undefined ? {} : { ID: rule.id }),
    AllowedHeader: rule.allowedHeaders ?? [],
    AllowedMethod: rule.allowedMethods,
    AllowedOrigin: rule.allowedOrigins,
    ExposeHeader: rule.exposeHeaders ?? [],
    ...(rule.maxAgeSeconds === undefined ? {} : { MaxAgeSeconds: String(rule.maxAgeSeconds) })
  }))
  return renderXml('CORSConfiguration', { CORSRule })
}

/**
 * The answer to a preflight (OPTIONS) request, given the bucket's rules (undefined when it has
 * none or does not exist: the two are answered alike). `resourceType` names what the URL
 * addresses, for the 403 body's ResourceType.
 * Throws S3Error BadRequest (400) without an Origin or Access-Control-Request-Method header, and
 * AccessForbidden (403) when the bucket has no rules or none allows the origin, the method and
 * every requested header (over 100 distinct ones are allowed by none); the 403 carries Method
 * and ResourceType elements, as S3's does.
 */
export function preflight (policy: CorsPolicy | undefined, headers: IncomingHttpHeaders, resourceType: 'BUCKET' | 'OBJECT' = 'BUCKET'): { status: 200, headers: Record<string, string> } {
  const origin = given(headers, 'origin')
  const method = given(headers, 'access-control-request-method')
  if (origin === undefined) throw insufficient()
  // S3 answers a bucket without rules before it looks for the method; ResourceType is then BUCKET.
  if (policy === undefined) {
    throw new S3Error('AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.', { Method: method ?? 'OPTIONS', ResourceType: 'BUCKET' })
  }
  if (method === undefined) throw insufficient()
  const requestHeaders = [...new Set((given(headers, 'access-control-request-headers') ?? '')
    .split(',').map(name => name.trim().toLowerCase()).filter(name => name !== ''))]
  const rule = requestHeaders.length > MAX_REQUESTED_HEADERS ? undefined : policy.match({ origin, method, requestHeaders })
  if (rule === undefined) {
    throw new S3Error('AccessForbidden', NOT_ALLOWED, { Method: method, ResourceType: resourceType })
  }
  const answer = allowed(rule, origin)
  if (requestHeaders.length > 0) answer['access-control-allow-headers'] = requestHeaders.join(', ')
  return { status: 200, headers: answer }
}

/**
 * The CORS headers of an actual (non-OPTIONS) request's response: those of the first rule that
 * allows its Origin and `method`, or none at all (no Origin, no rules, no match). S3 checks no
 * request header here, and lets an Access-Control-Request-Method header stand in for the method.
 * Throws nothing.
 */
export function corsHeaders (policy: CorsPolicy | undefined, headers: IncomingHttpHeaders, method: string): Record<string, string> {
  const origin = given(headers, 'origin')
  if (origin === undefined || policy === undefined) return {}
  const rule = policy.match({ origin, method: given(headers, 'access-control-request-method') ?? method })
  return rule === undefined ? {} : allowed(rule, origin)
}

/** The headers every allowed CORS request gets from its rule. */
function allowed (rule: CorsRule, origin: string): Record<string, string> {
  // `*` is answered as such (and without credentials, which browsers refuse beside it) unless the
  // rule also names the origin exactly.
  const anyOrigin = rule.allowedOrigins.includes('*') && !rule.allowedOrigins.includes(origin)
  const out: Record<string, string> = {
    'access-control-allow-origin': anyOrigin ? '*' : origin,
    'access-control-allow-methods': rule.allowedMethods.join(', ')
  }
  if (rule.exposeHeaders !== undefined && rule.exposeHeaders.length > 0) out['access-control-expose-headers'] = rule.exposeHeaders.join(', ')
  if (rule.maxAgeSeconds !== undefined) out['access-control-max-age'] = String(rule.maxAgeSeconds)
  if (!anyOrigin) out['access-control-allow-credentials'] = 'true'
  out.vary = VARY
  return out
}

/** A request header's value; undefined when absent or empty (an empty Origin is none). */
function given (headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = header(headers, name)
  return value === '' ? undefined : value
}

/** An element's children; an empty element has none. MalformedXML for text content. */
function element (node: unknown): Record<string, unknown> {
  if (node === '') return {}
  if (typeof node !== 'object' || node === null || Array.isArray(node)) throw malformed()
  return node as Record<string, unknown>
}

/** The texts of a repeated element; MalformedXML if one holds elements. */
function texts (nodes: unknown): string[] {
  if (nodes === undefined) return []
  if (!Array.isArray(nodes) || !nodes.every(node => typeof node === 'string')) throw malformed()
  return nodes as string[]
}

/** The text of an element allowed once; MalformedXML if repeated or holding elements. */
function single (node: unknown): string | undefined {
  if (node !== undefined && typeof node !== 'string') throw malformed()
  return node
}

/** Whitespace between elements, which the parser reports as text since values are not trimmed. */
function isLayout (name: string, value: unknown): boolean {
  return name === '#text' && typeof value === 'string' && value.trim() === ''
}

function insufficient (): S3Error {
  return new S3Error('BadRequest', 'Insufficient information. Origin request header needed.')
}
