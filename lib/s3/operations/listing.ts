import type { ListObjectsOptions, ListObjectsV2Options, ListObjectVersionsOptions, ObjectSummary, ObjectVersion } from '../../index.js'
import { sendXml, type Call } from '../call.js'
import { S3Error } from '../errors.js'
import { ownerXml, type Children } from '../xml.js'

/**
 * With `encoding-type=url`, names are sent URL-encoded, space as %20 and '+' as %2B: clients
 * decode with form decoding. Keys with control characters can only be listed this way.
 */
export function nameEncoder (call: Call): (s: string) => string {
  const type = call.target.query.get('encoding-type')
  if (type === undefined) return s => s
  if (type.toLowerCase() !== 'url') {
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: type })
  }
  // As S3 writes them: '/' kept, a space as '+' (so a '+' is %2B); clients decode with unquote_plus.
  return s => encodeURIComponent(s).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replaceAll('%2F', '/').replaceAll('%20', '+')
}

/** max-keys / max-uploads / max-parts: an integer ≥ 0, capped by the engine at 1000. */
export function maxOf (call: Call, name: string): number | undefined {
  const value = call.target.query.get(name)
  if (value === undefined) return undefined
  if (!/^\d{1,10}$/.test(value)) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: value })
  }
  return Math.min(Number(value), 1000)
}

function contents (items: ObjectSummary[], encode: (s: string) => string, owner: ReturnType<typeof ownerXml> | undefined): Array<Record<string, unknown>> {
  return items.map(o => ({
    Key: encode(o.key),
    LastModified: o.lastModified.toISOString(),
    ETag: o.etag,
    Size: String(o.size),
    ...(owner === undefined ? {} : { Owner: owner }),
    StorageClass: o.storageClass
  }))
}

/** The prefix and delimiter every listing takes; an empty delimiter is none. */
export function prefixAndDelimiter (call: Call): { prefix?: string, delimiter?: string } {
  const out: { prefix?: string, delimiter?: string } = {}
  const prefix = given(call, 'prefix')
  if (prefix !== undefined) out.prefix = prefix
  const delimiter = given(call, 'delimiter')
  if (delimiter !== undefined && delimiter !== '') out.delimiter = delimiter
  return out
}

function given (call: Call, name: string): string | undefined {
  return call.target.query.get(name)
}

/**
 * ListObjectsV2: one page in UTF-8 byte order, with common prefixes and a continuation token.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 */
export async function listObjectsV2 (call: Call): Promise<void> {
  const encode = nameEncoder(call)
  const options: ListObjectsV2Options = prefixAndDelimiter(call)
  const startAfter = given(call, 'start-after')
  if (startAfter !== undefined) options.startAfter = startAfter
  const token = given(call, 'continuation-token')
  if (token !== undefined) options.continuationToken = token
  const maxKeys = maxOf(call, 'max-keys')
  if (maxKeys !== undefined) options.maxKeys = maxKeys
  const fetchOwner = given(call, 'fetch-owner') === 'true'
  if (fetchOwner) options.fetchOwner = true
  const page = await call.store.listObjectsV2(call.bucket, options)
  sendXml(call, 'ListBucketResult', {
    Name: call.bucket,
    Prefix: encode(page.prefix),
    ...(page.delimiter === undefined ? {} : { Delimiter: encode(page.delimiter) }),
    MaxKeys: String(page.maxKeys),
    KeyCount: String(page.keyCount),
    IsTruncated: String(page.isTruncated),
    ...(token === undefined ? {} : { ContinuationToken: token }),
    ...(page.nextContinuationToken === undefined ? {} : { NextContinuationToken: page.nextContinuationToken }),
    ...(startAfter === undefined ? {} : { StartAfter: encode(startAfter) }),
    ...(given(call, 'encoding-type') === undefined ? {} : { EncodingType: 'url' }),
    Contents: contents(page.contents, encode, fetchOwner ? ownerXml(call.store.owner) : undefined),
    CommonPrefixes: page.commonPrefixes.map(p => ({ Prefix: encode(p) }))
  })
}

/**
 * ListObjects (v1): pages by marker; NextMarker only with a delimiter, as S3.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html
 */
export async function listObjects (call: Call): Promise<void> {
  const encode = nameEncoder(call)
  const options: ListObjectsOptions = prefixAndDelimiter(call)
  const marker = given(call, 'marker')
  if (marker !== undefined) options.marker = marker
  const maxKeys = maxOf(call, 'max-keys')
  if (maxKeys !== undefined) options.maxKeys = maxKeys
  const page = await call.store.listObjects(call.bucket, options)
  sendXml(call, 'ListBucketResult', {
    Name: call.bucket,
    // ListObjects (v1) is the exception: S3 answers its Prefix as given, and botocore does not decode it.
    Prefix: page.prefix,
    Marker: encode(page.marker),
    ...(page.nextMarker === undefined ? {} : { NextMarker: encode(page.nextMarker) }),
    MaxKeys: String(page.maxKeys),
    ...(page.delimiter === undefined ? {} : { Delimiter: encode(page.delimiter) }),
    IsTruncated: String(page.isTruncated),
    ...(given(call, 'encoding-type') === undefined ? {} : { EncodingType: 'url' }),
    Contents: contents(page.contents, encode, ownerXml(call.store.owner)),
    CommonPrefixes: page.commonPrefixes.map(p => ({ Prefix: encode(p) }))
  })
}

/** A Version or DeleteMarker element, children in S3's order; a marker has no bytes to describe. */
function versionEntry (v: ObjectVersion, encode: (s: string) => string, owner: ReturnType<typeof ownerXml>): [string, Record<string, unknown>] {
  const common = { Key: encode(v.key), VersionId: v.versionId, IsLatest: String(v.isLatest), LastModified: v.lastModified.toISOString() }
  if (v.deleteMarker) return ['DeleteMarker', { ...common, Owner: owner }]
  return ['Version', {
    ...common,
    ETag: v.etag,
    ChecksumAlgorithm: v.checksumAlgorithm,
    Size: String(v.size),
    Owner: owner,
    StorageClass: v.storageClass
  }]
}

/**
 * ListObjectVersions: versions and delete markers by key, newest first within a key, in one
 * interleaved list as S3 writes it (SDKs split it into two); pages by key and version id marker.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
 */
export async function listObjectVersions (call: Call): Promise<void> {
  const encode = nameEncoder(call)
  const options: ListObjectVersionsOptions = prefixAndDelimiter(call)
  const keyMarker = given(call, 'key-marker')
  if (keyMarker !== undefined) options.keyMarker = keyMarker
  const versionIdMarker = given(call, 'version-id-marker')
  if (versionIdMarker !== undefined) options.versionIdMarker = versionIdMarker
  const maxKeys = maxOf(call, 'max-keys')
  if (maxKeys !== undefined) options.maxKeys = maxKeys
  const page = await call.store.listObjectVersions(call.bucket, options)
  const owner = ownerXml(call.store.owner)
  const children: Children = [
    ['Name', call.bucket],
    ['Prefix', encode(page.prefix)],
    ['KeyMarker', encode(page.keyMarker)],
    ['VersionIdMarker', page.versionIdMarker],
    ['NextKeyMarker', page.nextKeyMarker === undefined ? undefined : encode(page.nextKeyMarker)],
    ['NextVersionIdMarker', page.nextVersionIdMarker],
    ['MaxKeys', String(page.maxKeys)],
    ['Delimiter', page.delimiter === undefined ? undefined : encode(page.delimiter)],
    ['IsTruncated', String(page.isTruncated)],
    ['EncodingType', given(call, 'encoding-type') === undefined ? undefined : 'url'],
    ...page.versions.map(v => versionEntry(v, encode, owner)),
    ['CommonPrefixes', page.commonPrefixes.map(p => ({ Prefix: encode(p) }))]
  ]
  sendXml(call, 'ListVersionsResult', children)
}
