import type { IncomingHttpHeaders } from 'node:http'
import type { CopyObjectOptions, ObjectInfo, TaggingOptions } from '../../index.js'
import { smallBody } from '../body.js'
import { send, type Call } from '../call.js'
import { S3Error } from '../errors.js'
import { header } from '../request.js'
import { versionHeader, versionOf } from './version-id.js'
import { MAX_TAGGING_BYTES, parseTagging, parseTaggingHeader, taggingXml } from '../tagging-xml.js'

/**
 * GetObjectTagging: the tags of the object or of the named version (an empty TagSet when none).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html
 */
export async function getObjectTagging (call: Call): Promise<void> {
  const { tags, versionId } = await call.store.getObjectTagging(call.bucket, call.key, versionOf(call))
  send(call, 200, { 'content-type': 'application/xml', ...versionHeader(versionId) }, taggingXml(tags))
}

/**
 * PutObjectTagging: replace the tag set of the object or of the named version, which keeps its id
 * (Content-MD5 or a checksum required, as S3).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html
 */
export async function putObjectTagging (call: Call): Promise<void> {
  const tags = parseTagging(await smallBody(call, MAX_TAGGING_BYTES, true))
  const { versionId } = await call.store.putObjectTagging(call.bucket, call.key, tags, versionOf(call))
  send(call, 200, versionHeader(versionId))
}

/**
 * DeleteObjectTagging: remove the tags of the object or of the named version.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjectTagging.html
 */
export async function deleteObjectTagging (call: Call): Promise<void> {
  const { versionId } = await call.store.deleteObjectTagging(call.bucket, call.key, versionOf(call))
  send(call, 204, versionHeader(versionId))
}

/**
 * GetBucketTagging: 404 NoSuchTagSet when the bucket has none.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketTagging.html
 */
export async function getBucketTagging (call: Call): Promise<void> {
  const tags = await call.store.getBucketTagging(call.bucket)
  send(call, 200, { 'content-type': 'application/xml' }, taggingXml(tags))
}

/**
 * PutBucketTagging: replace the bucket's tags, at most 50 (Content-MD5 or a checksum required, as S3).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketTagging.html
 */
export async function putBucketTagging (call: Call): Promise<void> {
  const tags = parseTagging(await smallBody(call, MAX_TAGGING_BYTES, true))
  await call.store.putBucketTagging(call.bucket, tags)
  send(call, 204, {})
}

/**
 * DeleteBucketTagging.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketTagging.html
 */
export async function deleteBucketTagging (call: Call): Promise<void> {
  await call.store.deleteBucketTagging(call.bucket)
  send(call, 204, {})
}

/** The tags `x-amz-tagging` gives a PutObject or CreateMultipartUpload. */
export function taggingOption (headers: IncomingHttpHeaders): TaggingOptions {
  const value = header(headers, 'x-amz-tagging')
  return value === undefined ? {} : { tags: parseTaggingHeader(value) }
}

/**
 * A CopyObject's tags: the source's (COPY, the default, which ignores `x-amz-tagging` as S3
 * does) or the header's (REPLACE; none without it). Any other directive is InvalidArgument.
 */
export function copyTaggingOptions (headers: IncomingHttpHeaders): Pick<CopyObjectOptions, 'taggingDirective' | 'tags'> {
  const given = header(headers, 'x-amz-tagging-directive')
  const directive = given?.toUpperCase() ?? 'COPY'
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown tagging directive.', { ArgumentName: 'x-amz-tagging-directive', ArgumentValue: given ?? '' })
  }
  return directive === 'COPY' ? { taggingDirective: 'COPY' } : { taggingDirective: 'REPLACE', ...taggingOption(headers) }
}

/**
 * `x-amz-tagging-count` of a GET or HEAD: S3 sends it to whoever may read the tags, which ACLs
 * never let anyone do, so to signed callers only (whose read grant covers tags).
 */
export function tagCountHeader (call: Call, info: ObjectInfo): Record<string, string> {
  return info.tagCount === undefined || call.identity === undefined ? {} : { 'x-amz-tagging-count': String(info.tagCount) }
}
