/**
 * The WebsiteConfiguration document of PutBucketWebsite and GetBucketWebsite. The parser checks
 * the document's shape (what S3 answers MalformedXML for); what the values may be is the engine's
 * `checkWebsiteConfiguration`.
 */
import type { WebsiteConfiguration, WebsiteRoutingRule } from '../index.js'
import { fields as anyFields, leafText as text, malformedXml as malformed, parseXml, renderXml } from './xml.js'

/** Only RoutingRule may repeat. */
function fields (node: unknown, known: readonly string[]): Record<string, unknown> {
  return anyFields(node, known, ['RoutingRule'])
}

/**
 * The configuration of a PutBucketWebsite body. Host names, protocols and codes are trimmed;
 * suffixes, keys and prefixes are kept as sent (keys may begin or end with spaces).
 * Throws S3Error MalformedXML for a body that is not well-formed, has another root or an unknown
 * or repeated element, RedirectAllRequestsTo beside anything else or without HostName, neither it
 * nor IndexDocument, a rule without Redirect, an empty Condition or Redirect, or a code that is
 * not a number.
 */
export function parseWebsiteConfiguration (xml: string): WebsiteConfiguration {
  const doc = fields(parseXml(xml, 'WebsiteConfiguration', ['RoutingRule']), ['IndexDocument', 'ErrorDocument', 'RedirectAllRequestsTo', 'RoutingRules'])
  const config: WebsiteConfiguration = {}
  if (doc.RedirectAllRequestsTo !== undefined) {
    if (Object.keys(doc).length !== 1) throw malformed()
    const target = fields(doc.RedirectAllRequestsTo, ['HostName', 'Protocol'])
    const hostName = text(target.HostName)?.trim()
    if (hostName === undefined || hostName === '') throw malformed()
    config.redirectAllRequestsTo = { hostName }
    const protocol = text(target.Protocol)?.trim()
    if (protocol !== undefined) config.redirectAllRequestsTo.protocol = protocol as 'http'
    return config
  }
  if (doc.IndexDocument === undefined) throw malformed()
  config.indexDocument = { suffix: text(fields(doc.IndexDocument, ['Suffix']).Suffix) ?? '' }
  if (doc.ErrorDocument !== undefined) config.errorDocument = { key: text(fields(doc.ErrorDocument, ['Key']).Key) ?? '' }
  if (doc.RoutingRules !== undefined) {
    // An empty RoutingRules (an SDK given an empty list) is no rules.
    const rules = fields(doc.RoutingRules, ['RoutingRule']).RoutingRule ?? []
    if (!Array.isArray(rules)) throw malformed()
    if (rules.length > 0) config.routingRules = rules.map(parseRule)
  }
  return config
}

function parseRule (node: unknown): WebsiteRoutingRule {
  const rule = fields(node, ['Condition', 'Redirect'])
  if (rule.Redirect === undefined) throw malformed()
  const redirect = fields(rule.Redirect, ['HostName', 'HttpRedirectCode', 'Protocol', 'ReplaceKeyPrefixWith', 'ReplaceKeyWith'])
  if (Object.keys(redirect).length === 0) throw malformed()
  const out: WebsiteRoutingRule = { redirect: {} }
  const hostName = text(redirect.HostName)?.trim()
  if (hostName !== undefined) out.redirect.hostName = hostName
  const protocol = text(redirect.Protocol)?.trim()
  if (protocol !== undefined) out.redirect.protocol = protocol as 'http'
  const code = code3(redirect.HttpRedirectCode)
  if (code !== undefined) out.redirect.httpRedirectCode = code
  const prefixWith = text(redirect.ReplaceKeyPrefixWith)
  if (prefixWith !== undefined) out.redirect.replaceKeyPrefixWith = prefixWith
  const keyWith = text(redirect.ReplaceKeyWith)
  if (keyWith !== undefined) out.redirect.replaceKeyWith = keyWith
  if (rule.Condition !== undefined) {
    const condition = fields(rule.Condition, ['KeyPrefixEquals', 'HttpErrorCodeReturnedEquals'])
    if (Object.keys(condition).length === 0) throw malformed()
    out.condition = {}
    const prefix = text(condition.KeyPrefixEquals)
    if (prefix !== undefined) out.condition.keyPrefixEquals = prefix
    const status = code3(condition.HttpErrorCodeReturnedEquals)
    if (status !== undefined) out.condition.httpErrorCodeReturnedEquals = status
  }
  return out
}

/**
 * The GetBucketWebsite body for `config`, elements in S3's order (RedirectAllRequestsTo,
 * IndexDocument, ErrorDocument, RoutingRules). Throws nothing.
 */
export function websiteConfigurationXml (config: WebsiteConfiguration): string {
  const { redirectAllRequestsTo: all, indexDocument, errorDocument, routingRules } = config
  return renderXml('WebsiteConfiguration', {
    RedirectAllRequestsTo: all === undefined ? undefined : { HostName: all.hostName, Protocol: all.protocol },
    IndexDocument: indexDocument === undefined ? undefined : { Suffix: indexDocument.suffix },
    ErrorDocument: errorDocument === undefined ? undefined : { Key: errorDocument.key },
    RoutingRules: routingRules === undefined
      ? undefined
      : {
          RoutingRule: routingRules.map(({ condition, redirect }) => ({
            Condition: condition === undefined ? undefined : { HttpErrorCodeReturnedEquals: condition.httpErrorCodeReturnedEquals, KeyPrefixEquals: condition.keyPrefixEquals },
            Redirect: {
              HostName: redirect.hostName,
              HttpRedirectCode: redirect.httpRedirectCode,
              Protocol: redirect.protocol,
              ReplaceKeyPrefixWith: redirect.replaceKeyPrefixWith,
              ReplaceKeyWith: redirect.replaceKeyWith
            }
          }))
        }
  })
}

/** A status code's text as a number; MalformedXML unless it is digits. */
function code3 (node: unknown): number | undefined {
  const value = text(node)?.trim()
  if (value === undefined) return undefined
  if (!/^\d{1,9}$/.test(value)) throw malformed()
  return Number(value)
}
