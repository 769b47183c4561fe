/**
 * Bucket websites: the validation of a configuration (PutBucketWebsite) and the decisions the
 * website endpoint takes from it (which routing rule applies, where a redirect goes). Pure; the HTTP
 * side belongs to the adapter (lib/s3/website.ts).
 * A configuration is stored input that every later anonymous website request reads, so what it may
 * hold is bounded (S3's 50 routing rules, key-sized strings, a host name) and it is checked once,
 * when stored: a request then costs at most one prefix test per rule.
 */
import { SpaceboxError, type ErrorCode } from './errors.js'
import type { WebsiteConfiguration, WebsiteRoutingRule } from './types.js'

const MAX_RULES = 50
// Every string that names a key (or part of one) is bounded as keys are.
const MAX_KEY_BYTES = 1024
// A DNS name with an optional port, or a bracketed IPv6 literal: it goes into a Location header.
const HOST = /^(?:[A-Za-z0-9_~-](?:[A-Za-z0-9._~-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/
// S3's valid codes (versitygw's AWS-derived checks): 3xx but 300 and the unused 306; 400-417 and 500-505.
const REDIRECT_CODES: ReadonlySet<number> = new Set([301, 302, 303, 304, 305, 307, 308])
const PROTOCOL_MESSAGE = 'Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.'

/**
 * A checked copy of a website configuration, as stored: strings and codes as given. Throws
 * TypeError for a field of the wrong type or one the configuration does not have (as every call
 * does for a caller's bug); otherwise InvalidArgument (neither an index document nor
 * redirectAllRequestsTo, redirectAllRequestsTo beside anything else, an empty or `/`-holding
 * suffix, an empty error key, an empty condition or redirect, a string over 1024 bytes, a host that
 * is not a host name, a code that is not an integer) or InvalidRequest (a protocol other than
 * http/https, both key replacements, a redirect code that is not 3xx but 300, an error code that is
 * not 4xx/5xx, over 50 routing rules), with S3's messages where S3 has them.
 */
export function checkWebsiteConfiguration (config: WebsiteConfiguration, bucket: string): WebsiteConfiguration {
  const fail = (code: ErrorCode, message: string, detail?: Record<string, string>): never => {
    throw new SpaceboxError(code, message, detail === undefined ? { bucket } : { bucket, detail })
  }
  const { indexDocument, errorDocument, redirectAllRequestsTo, routingRules } = fields(config, 'config', ['indexDocument', 'errorDocument', 'redirectAllRequestsTo', 'routingRules'])

  if (redirectAllRequestsTo !== undefined) {
    const target = fields(redirectAllRequestsTo, 'redirectAllRequestsTo', ['hostName', 'protocol'])
    if (indexDocument !== undefined || errorDocument !== undefined || routingRules !== undefined) {
      fail('InvalidArgument', 'RedirectAllRequestsTo cannot be combined with IndexDocument, ErrorDocument or RoutingRules')
    }
    const checked: WebsiteConfiguration['redirectAllRequestsTo'] = { hostName: hostName(target.hostName, fail) ?? fail('InvalidArgument', 'RedirectAllRequestsTo needs a HostName') }
    const protocol = protocolOf(target.protocol, fail)
    if (protocol !== undefined) checked.protocol = protocol
    return { redirectAllRequestsTo: checked }
  }

  if (indexDocument === undefined) fail('InvalidArgument', 'A website configuration needs an IndexDocument or RedirectAllRequestsTo')
  const suffix = keyText(fields(indexDocument, 'indexDocument', ['suffix']).suffix, 'suffix', fail)
  if (suffix === undefined || suffix === '' || suffix.includes('/')) {
    fail('InvalidArgument', 'The IndexDocument Suffix is not well formed', { argumentName: 'IndexDocument', argumentValue: suffix ?? '' })
  }
  const checked: WebsiteConfiguration = { indexDocument: { suffix: suffix as string } }
  if (errorDocument !== undefined) {
    const key = keyText(fields(errorDocument, 'errorDocument', ['key']).key, 'key', fail)
    if (key === undefined || key === '') fail('InvalidArgument', 'The ErrorDocument Key is not well formed', { argumentName: 'ErrorDocument', argumentValue: '' })
    checked.errorDocument = { key: key as string }
  }
  if (routingRules !== undefined) {
    if (!Array.isArray(routingRules)) throw new TypeError('routingRules must be an array')
    if (routingRules.length > MAX_RULES) {
      fail('InvalidRequest', `${routingRules.length} routing rules provided, the number of routing rules in a website configuration is limited to ${MAX_RULES}.`)
    }
    if (routingRules.length > 0) checked.routingRules = routingRules.map(rule => checkRule(rule, fail))
  }
  return checked
}

type Fail = (code: ErrorCode, message: string, detail?: Record<string, string>) => never

function checkRule (rule: WebsiteRoutingRule, fail: Fail): WebsiteRoutingRule {
  const { condition, redirect } = fields(rule, 'a routing rule', ['condition', 'redirect'])
  const given = fields(redirect, 'redirect', ['hostName', 'protocol', 'httpRedirectCode', 'replaceKeyPrefixWith', 'replaceKeyWith'])
  const out: WebsiteRoutingRule['redirect'] = {}
  const host = hostName(given.hostName, fail)
  if (host !== undefined) out.hostName = host
  const protocol = protocolOf(given.protocol, fail)
  if (protocol !== undefined) out.protocol = protocol
  const code = integer(given.httpRedirectCode, 'httpRedirectCode', fail)
  if (code !== undefined) {
    if (!REDIRECT_CODES.has(code)) fail('InvalidRequest', `The provided HTTP redirect code (${code}) is not valid. Valid codes are 3XX except 300.`)
    out.httpRedirectCode = code
  }
  const prefixWith = keyText(given.replaceKeyPrefixWith, 'replaceKeyPrefixWith', fail)
  const keyWith = keyText(given.replaceKeyWith, 'replaceKeyWith', fail)
  if (prefixWith !== undefined && keyWith !== undefined) fail('InvalidRequest', 'You can only define ReplaceKeyPrefix or ReplaceKey but not both.')
  if (prefixWith !== undefined) out.replaceKeyPrefixWith = prefixWith
  if (keyWith !== undefined) out.replaceKeyWith = keyWith
  if (Object.keys(out).length === 0) fail('InvalidArgument', 'A routing rule\'s Redirect needs at least one of HostName, Protocol, HttpRedirectCode, ReplaceKeyPrefixWith, ReplaceKeyWith')
  const checked: WebsiteRoutingRule = { redirect: out }
  if (condition !== undefined) {
    const when = fields(condition, 'condition', ['keyPrefixEquals', 'httpErrorCodeReturnedEquals'])
    const met: NonNullable<WebsiteRoutingRule['condition']> = {}
    const prefix = keyText(when.keyPrefixEquals, 'keyPrefixEquals', fail)
    if (prefix !== undefined) met.keyPrefixEquals = prefix
    const status = integer(when.httpErrorCodeReturnedEquals, 'httpErrorCodeReturnedEquals', fail)
    if (status !== undefined) {
      if (!((status >= 400 && status <= 417) || (status >= 500 && status <= 505))) {
        fail('InvalidRequest', `The provided HTTP error code (${status}) is not valid. Valid codes are 4XX or 5XX.`)
      }
      met.httpErrorCodeReturnedEquals = status
    }
    if (Object.keys(met).length === 0) fail('InvalidArgument', 'A routing rule\'s Condition needs KeyPrefixEquals or HttpErrorCodeReturnedEquals')
    checked.condition = met
  }
  return checked
}

/** An object's fields, none but those `known` (undefined ones count as absent); TypeError otherwise. */
function fields<T extends object> (value: T | undefined, name: string, known: ReadonlyArray<keyof T & string>): Partial<T> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${name} must be an object`)
  for (const field of Object.keys(value)) {
    if (!(known as readonly string[]).includes(field) && (value as Record<string, unknown>)[field] !== undefined) throw new TypeError(`${name} has no field ${JSON.stringify(field)}`)
  }
  return value
}

/** A key-like string (or undefined), at most 1024 bytes. */
function keyText (value: unknown, name: string, fail: Fail): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`)
  if (Buffer.byteLength(value) > MAX_KEY_BYTES) fail('InvalidArgument', `${name} is longer than ${MAX_KEY_BYTES} bytes`)
  return value
}

function hostName (value: unknown, fail: Fail): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new TypeError('hostName must be a string')
  if (!HOST.test(value)) fail('InvalidArgument', `The HostName ${JSON.stringify(value)} is not a host name`)
  return value
}

function protocolOf (value: unknown, fail: Fail): 'http' | 'https' | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new TypeError('protocol must be a string')
  if (value !== 'http' && value !== 'https') fail('InvalidRequest', PROTOCOL_MESSAGE)
  return value as 'http' | 'https'
}

function integer (value: unknown, name: string, fail: Fail): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`)
  if (!Number.isInteger(value)) fail('InvalidArgument', `${name} must be an integer`)
  return value
}

/** A bucket's checked website configuration, with the decisions the website endpoint takes from it. */
export interface WebsitePolicy {
  /** The configuration, frozen. */
  readonly config: Readonly<WebsiteConfiguration>
  /**
   * The rule that redirects a request before anything is read: the first without a condition, or
   * whose condition is a key prefix alone that `key` starts with.
   */
  beforeLookup: (key: string) => WebsiteRoutingRule | undefined
  /** The rule that redirects a request that failed with `status`: the first whose error code is that and whose prefix, if any, `key` starts with. */
  afterError: (key: string, status: number) => WebsiteRoutingRule | undefined
}

/** Compile a checked configuration (a frozen copy). Throws nothing. */
export function compileWebsite (config: WebsiteConfiguration): WebsitePolicy {
  const frozen = deepFreeze(structuredClone(config))
  const rules = frozen.routingRules ?? []
  return {
    config: frozen,
    beforeLookup: key => rules.find(({ condition }) =>
      condition === undefined || (condition.httpErrorCodeReturnedEquals === undefined && key.startsWith(condition.keyPrefixEquals ?? ''))),
    afterError: (key, status) => rules.find(({ condition }) =>
      condition?.httpErrorCodeReturnedEquals === status && key.startsWith(condition.keyPrefixEquals ?? ''))
  }
}

/**
 * The key a rule redirects `key` to: ReplaceKeyWith whole, or ReplaceKeyPrefixWith in place of the
 * prefix the condition matched (of nothing without one), or the key unchanged.
 */
export function redirectKey (rule: WebsiteRoutingRule, key: string): string {
  const { replaceKeyWith, replaceKeyPrefixWith } = rule.redirect
  if (replaceKeyWith !== undefined) return replaceKeyWith
  if (replaceKeyPrefixWith === undefined) return key
  return replaceKeyPrefixWith + key.slice((rule.condition?.keyPrefixEquals ?? '').length)
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
