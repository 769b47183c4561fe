import { send, type Call } from '../call.js'
import { parseWebsiteConfiguration, websiteConfigurationXml } from '../website-xml.js'
import { configBody } from './buckets.js'

/**
 * PutBucketWebsite: serve the bucket as a static website (Content-MD5 or a checksum required, as S3).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketWebsite.html
 */
export async function putBucketWebsite (call: Call): Promise<void> {
  const config = parseWebsiteConfiguration(await configBody(call, true))
  await call.store.putBucketWebsite(call.bucket, config)
  send(call, 200, {})
}

/**
 * GetBucketWebsite.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketWebsite.html
 */
export async function getBucketWebsite (call: Call): Promise<void> {
  const config = await call.store.getBucketWebsite(call.bucket)
  send(call, 200, { 'content-type': 'application/xml' }, websiteConfigurationXml(config))
}

/**
 * DeleteBucketWebsite.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketWebsite.html
 */
export async function deleteBucketWebsite (call: Call): Promise<void> {
  await call.store.deleteBucketWebsite(call.bucket)
  send(call, 204, {})
}
