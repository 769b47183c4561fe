import type { CannedAcl, Owner } from '../../index.js'
import { accessControlPolicyXml, cannedAclOfPolicy, MAX_ACL_BYTES, parseAccessControlPolicy } from '../acl-xml.js'
import { smallBody } from '../body.js'
import { send, type Call } from '../call.js'
import { S3Error } from '../errors.js'
import { bothAclKinds, cannedAclOf, hasGrantHeaders } from '../headers.js'
import { header } from '../request.js'
import { versionHeader, versionOf } from './version-id.js'

/**
 * GetBucketAcl: the AccessControlPolicy of the bucket's canned ACL.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketAcl.html
 */
export async function getBucketAcl (call: Call): Promise<void> {
  const { owner, acl } = await call.store.getBucketAcl(call.bucket)
  send(call, 200, { 'content-type': 'application/xml' }, accessControlPolicyXml(owner, acl))
}

/**
 * PutBucketAcl: a canned ACL, from `x-amz-acl` or an AccessControlPolicy body equal to one.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html
 */
export async function putBucketAcl (call: Call): Promise<void> {
  const acl = await requestedAcl(call, 'bucket', async () => (await call.store.getBucketAcl(call.bucket)).owner)
  await call.store.putBucketAcl(call.bucket, acl)
  send(call, 200, {})
}

/**
 * GetObjectAcl: the AccessControlPolicy of the object's (or the named version's) canned ACL.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAcl.html
 */
export async function getObjectAcl (call: Call): Promise<void> {
  const { owner, acl, versionId } = await call.store.getObjectAcl(call.bucket, call.key, versionOf(call))
  send(call, 200, { 'content-type': 'application/xml', ...versionHeader(versionId) }, accessControlPolicyXml(owner, acl))
}

/**
 * PutObjectAcl: as PutBucketAcl, for the object or the named version.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html
 */
export async function putObjectAcl (call: Call): Promise<void> {
  const version = versionOf(call)
  const acl = await requestedAcl(call, 'object', async () => (await call.store.getObjectAcl(call.bucket, call.key, version)).owner)
  const { versionId } = await call.store.putObjectAcl(call.bucket, call.key, acl, version)
  send(call, 200, versionHeader(versionId))
}

/**
 * The canned ACL a PUT ?acl asks for, checked in S3's order: nothing at all is
 * MissingSecurityHeader, a canned ACL with grant headers InvalidRequest, either with a body
 * UnexpectedContent. A body is compared with the owner `ownerOf` reads (which also answers
 * NoSuchBucket / NoSuchKey), only once it has parsed.
 */
async function requestedAcl (call: Call, on: 'bucket' | 'object', ownerOf: () => Promise<Owner>): Promise<CannedAcl> {
  const { headers } = call.req
  const canned = header(headers, 'x-amz-acl') !== undefined
  const grants = hasGrantHeaders(headers)
  const body = await smallBody(call, MAX_ACL_BYTES, false)
  if (!canned && !grants && body === '') {
    throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' })
  }
  if (canned && grants) throw bothAclKinds()
  if (body !== '') {
    if (canned || grants) throw new S3Error('UnexpectedContent', 'This request does not support content')
    const policy = parseAccessControlPolicy(body)
    return cannedAclOfPolicy(policy, (await ownerOf()).id)
  }
  return cannedAclOf(headers, on) as CannedAcl
}
