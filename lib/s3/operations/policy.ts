import { smallBody } from '../body.js'
import { send, sendXml, type Call } from '../call.js'
import { S3Error } from '../errors.js'

/**
 * Bytes of a PutBucketPolicy body read at most: the engine's own cap on the text. S3's limit is
 * 20 KB counted without whitespace, which the engine applies; indentation may come on top.
 */
const MAX_POLICY_BYTES = 64 * 1024

/**
 * PutBucketPolicy: the body is the policy's JSON text, validated and compiled by the engine.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html
 */
export async function putBucketPolicy (call: Call): Promise<void> {
  let policy: string
  try {
    policy = await smallBody(call, MAX_POLICY_BYTES, false)
  } catch (err) {
    if (err instanceof S3Error && err.code === 'MaxMessageLengthExceeded') {
      // As the engine answers a text past its cap (S3's own code for this is unverified).
      throw new S3Error('MalformedPolicy', 'Policy exceeds the maximum allowed document size.')
    }
    throw err
  }
  await call.store.putBucketPolicy(call.bucket, policy)
  send(call, 204, {})
}

/**
 * GetBucketPolicy: the policy as it was put.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html
 */
export async function getBucketPolicy (call: Call): Promise<void> {
  const policy = await call.store.getBucketPolicy(call.bucket)
  send(call, 200, { 'content-type': 'application/json' }, policy)
}

/**
 * DeleteBucketPolicy.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html
 */
export async function deleteBucketPolicy (call: Call): Promise<void> {
  await call.store.deleteBucketPolicy(call.bucket)
  send(call, 204, {})
}

/**
 * GetBucketPolicyStatus: whether the policy grants anyone (an unsigned caller) access.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicyStatus.html
 */
export async function getBucketPolicyStatus (call: Call): Promise<void> {
  const { isPublic } = await call.store.getBucketPolicyStatus(call.bucket)
  sendXml(call, 'PolicyStatus', { IsPublic: String(isPublic) })
}
