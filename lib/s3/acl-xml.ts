/**
 * The AccessControlPolicy document of S3's `?acl` calls, for the canned ACLs spacebox keeps: the
 * grants S3 shows for each, and the reverse, from a document a client sends to the canned ACL it
 * equals. Pure: no store, no HTTP.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_AccessControlPolicy.html
 */
import { XMLParser } from 'fast-xml-parser'
import type { CannedAcl, Owner } from '../index.js'
import { S3Error } from './errors.js'
import { S3_NS } from './xml.js'

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'
const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery'
const GROUPS: readonly string[] = [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY]
const XSI = 'http://www.w3.org/2001/XMLSchema-instance'

export type Permission = 'FULL_CONTROL' | 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP'
const PERMISSIONS: readonly string[] = ['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP']

export type Grantee =
  | { type: 'CanonicalUser', id: string }
  | { type: 'Group', uri: string }
  | { type: 'AmazonCustomerByEmail', email: string }

export interface Grant { grantee: Grantee, permission: Permission }

/** An AccessControlPolicy body, checked against S3's schema but not yet against the store. */
export interface AccessControlPolicy { ownerId: string, grants: Grant[] }

/**
 * S3 allows 100 grants in an ACL, each a few hundred bytes at most: past this a body is no ACL
 * anyone meant, and is refused before it is parsed.
 */
export const MAX_ACL_BYTES = 64 * 1024

// What each canned ACL grants besides the owner's FULL_CONTROL, in the order S3 lists them.
const GROUP_GRANTS: Record<CannedAcl, ReadonlyArray<readonly [string, Permission]>> = {
  private: [],
  'public-read': [[ALL_USERS, 'READ']],
  'public-read-write': [[ALL_USERS, 'READ'], [ALL_USERS, 'WRITE']],
  'authenticated-read': [[AUTHENTICATED_USERS, 'READ']]
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }

function escape (value: string): string {
  return value.replace(/[&<>"']/g, c => ESCAPES[c] as string)
}

/**
 * The GetBucketAcl / GetObjectAcl document of a canned ACL, byte for byte as S3 writes it: the
 * grantee type is an `xsi:type` attribute, with the `xsi` namespace declared on each Grantee.
 */
export function accessControlPolicyXml (owner: Owner, acl: CannedAcl): string {
  const user = `<ID>${escape(owner.id)}</ID><DisplayName>${escape(owner.displayName)}</DisplayName>`
  let grants = grantXml(`<Grantee xmlns:xsi="${XSI}" xsi:type="CanonicalUser">${user}</Grantee>`, 'FULL_CONTROL')
  for (const [uri, permission] of GROUP_GRANTS[acl]) {
    grants += grantXml(`<Grantee xmlns:xsi="${XSI}" xsi:type="Group"><URI>${uri}</URI></Grantee>`, permission)
  }
  return '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<AccessControlPolicy xmlns="${S3_NS}"><Owner>${user}</Owner><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`
}

function grantXml (grantee: string, permission: Permission): string {
  return `<Grant>${grantee}<Permission>${permission}</Permission></Grant>`
}

// Attributes kept (the grantee type is one); namespace prefixes dropped, so `xsi:type` reads as
// `type` whatever prefix the client bound. Values stay strings.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  processEntities: true,
  htmlEntities: false,
  isArray: name => name === 'Grant'
})

const MALFORMED = 'The XML you provided was not well-formed or did not validate against our published schema'

export function malformedAcl (): S3Error {
  return new S3Error('MalformedACLError', MALFORMED)
}

/**
 * Parse a PutBucketAcl / PutObjectAcl body. MalformedACLError for anything unreadable or off
 * S3's schema (no Owner or owner ID, no AccessControlList, a grant without a known grantee type
 * or permission); InvalidArgument for a group URI S3 does not define, as S3 answers.
 */
export function parseAccessControlPolicy (text: string): AccessControlPolicy {
  // No document type declarations: their entities are the classic expansion bomb.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw malformedAcl()
  let doc: unknown
  try {
    doc = parser.parse(text, true)
  } catch {
    throw malformedAcl()
  }
  if (!isNode(doc) || Object.keys(doc).length !== 1) throw malformedAcl()
  const root = doc.AccessControlPolicy
  if (!isNode(root)) throw malformedAcl()
  const owner = root.Owner
  if (!isNode(owner)) throw malformedAcl()
  const ownerId = requiredText(owner, 'ID')
  const list = root.AccessControlList
  if (list === undefined) throw malformedAcl()
  const grants: Grant[] = []
  if (list !== '') {
    if (!isNode(list)) throw malformedAcl()
    const items = list.Grant ?? []
    if (!Array.isArray(items)) throw malformedAcl()
    for (const item of items) grants.push(grantOf(item))
  }
  return { ownerId, grants }
}

function grantOf (item: unknown): Grant {
  if (!isNode(item)) throw malformedAcl()
  const permission = item.Permission
  if (typeof permission !== 'string' || !PERMISSIONS.includes(permission)) throw malformedAcl()
  const grantee = item.Grantee
  if (!isNode(grantee)) throw malformedAcl()
  switch (grantee['@_type']) {
    case 'CanonicalUser':
      return { grantee: { type: 'CanonicalUser', id: requiredText(grantee, 'ID') }, permission: permission as Permission }
    case 'Group': {
      const uri = requiredText(grantee, 'URI')
      if (!GROUPS.includes(uri)) throw new S3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: 'Group/URI', ArgumentValue: uri })
      return { grantee: { type: 'Group', uri }, permission: permission as Permission }
    }
    case 'AmazonCustomerByEmail':
      return { grantee: { type: 'AmazonCustomerByEmail', email: requiredText(grantee, 'EmailAddress') }, permission: permission as Permission }
    default:
      throw malformedAcl()
  }
}

/**
 * The canned ACL a parsed policy equals, for a store whose owner is `ownerId`: owner
 * FULL_CONTROL plus exactly the group grants of one canned ACL (repeats count once, order does
 * not matter). InvalidArgument "Invalid id" for an owner or grantee id that is not the owner's,
 * as S3 answers an id it has no account for; NotImplemented, saying why, for any other grant set.
 */
export function cannedAclOfPolicy (policy: AccessControlPolicy, ownerId: string): CannedAcl {
  if (policy.ownerId !== ownerId) throw invalidId(policy.ownerId)
  let ownerFull = false
  const groups = new Set<string>()
  for (const { grantee, permission } of policy.grants) {
    if (grantee.type === 'AmazonCustomerByEmail') {
      throw notCanned('a grant to an e-mail address names an account, and a spacebox store has one owner and no accounts')
    }
    if (grantee.type === 'CanonicalUser') {
      if (grantee.id !== ownerId) throw invalidId(grantee.id)
      if (permission !== 'FULL_CONTROL') throw notCanned(`the owner is granted ${permission}; every canned ACL grants the owner FULL_CONTROL alone`)
      ownerFull = true
    } else {
      groups.add(`${grantee.uri} ${permission}`)
    }
  }
  if (!ownerFull) throw notCanned('the owner is not granted FULL_CONTROL, which every canned ACL grants')
  for (const [acl, wanted] of Object.entries(GROUP_GRANTS) as Array<[CannedAcl, ReadonlyArray<readonly [string, Permission]>]>) {
    if (wanted.length === groups.size && wanted.every(([uri, permission]) => groups.has(`${uri} ${permission}`))) return acl
  }
  throw notCanned('the group grants are those of no canned ACL (AllUsers READ; AllUsers READ and WRITE; AuthenticatedUsers READ; or none)')
}

function invalidId (id: string): S3Error {
  return new S3Error('InvalidArgument', 'Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: id })
}

function notCanned (why: string): S3Error {
  return new S3Error('NotImplemented',
    `spacebox keeps canned ACLs only (private, public-read, public-read-write, authenticated-read), and accepts an AccessControlPolicy only when its grants equal one of them: ${why}.`)
}

function isNode (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function requiredText (node: Record<string, unknown>, name: string): string {
  const value = node[name]
  if (typeof value !== 'string' || value === '') throw malformedAcl()
  return value
}
