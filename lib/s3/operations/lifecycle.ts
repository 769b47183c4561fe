import { send, type Call } from '../call.js'
import { lifecycleConfigurationXml, parseLifecycleConfiguration } from '../lifecycle-xml.js'
import { configBody } from './buckets.js'

/**
 * PutBucketLifecycleConfiguration (and PutBucketLifecycle, its older form): replace the bucket's
 * rules; Content-MD5 or a checksum required, as S3.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
 */
export async function putBucketLifecycleConfiguration (call: Call): Promise<void> {
  const rules = parseLifecycleConfiguration(await configBody(call, true), call.settings.profile)
  await call.store.putBucketLifecycleConfiguration(call.bucket, rules)
  send(call, 200, {})
}

/**
 * GetBucketLifecycleConfiguration.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLifecycleConfiguration.html
 */
export async function getBucketLifecycleConfiguration (call: Call): Promise<void> {
  const rules = await call.store.getBucketLifecycleConfiguration(call.bucket)
  send(call, 200, { 'content-type': 'application/xml' }, lifecycleConfigurationXml(rules))
}

/**
 * DeleteBucketLifecycle: 204 whether or not the bucket had rules.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketLifecycle.html
 */
export async function deleteBucketLifecycle (call: Call): Promise<void> {
  await call.store.deleteBucketLifecycle(call.bucket)
  send(call, 204, {})
}
