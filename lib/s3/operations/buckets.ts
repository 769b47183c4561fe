import { isSpaceboxError, type BucketEncryptionConfig } from '../../index.js'
import { smallBody } from '../body.js'
import { send, sendXml, type Call } from '../call.js'
import { corsConfigurationXml, parseCorsConfiguration } from '../cors.js'
import { S3Error } from '../errors.js'
import { aclOption } from '../headers.js'
import { constraintRegion } from '../regions.js'
import { children, malformedXml, MAX_XML_BYTES, optionalText, ownerXml, parseXml, text } from '../xml.js'

/**
 * ListBuckets: the buckets the key can reach, by name. Current SDKs may ask for a prefix, a
 * region or pages (max-buckets, continuation-token: the last name of the previous page).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
 */
export async function listBuckets (call: Call): Promise<void> {
  const q = call.target.query
  const prefix = q.get('prefix')
  const region = q.get('bucket-region')
  const after = q.get('continuation-token')
  const max = q.get('max-buckets')
  if (max !== undefined && (!/^\d{1,5}$/.test(max) || Number(max) < 1 || Number(max) > 10000)) {
    throw new S3Error('InvalidArgument', 'Argument max-buckets must be an integer between 1 and 10000', { ArgumentName: 'max-buckets', ArgumentValue: max })
  }
  const matching = (await call.store.listBuckets()).filter(b =>
    (prefix === undefined || b.name.startsWith(prefix)) && (region === undefined || b.region === region) && (after === undefined || b.name > after))
  const page = max === undefined ? matching : matching.slice(0, Number(max))
  const last = page.length < matching.length ? page.at(-1) : undefined
  sendXml(call, 'ListAllMyBucketsResult', {
    Owner: ownerXml(call.store.owner),
    Buckets: { Bucket: page.map(b => ({ Name: b.name, CreationDate: b.created.toISOString(), BucketRegion: b.region })) },
    ...(last === undefined ? {} : { ContinuationToken: last.name }),
    ...(prefix === undefined ? {} : { Prefix: prefix })
  })
}

/** The XML body of a bucket configuration request. */
export async function configBody (call: Call, required: boolean): Promise<string> {
  return await smallBody(call, MAX_XML_BYTES, required)
}

/**
 * CreateBucket, in the region of its LocationConstraint (the server's when absent).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
 */
export async function createBucket (call: Call): Promise<void> {
  const acl = aclOption(call.req.headers, 'bucket')
  const body = await configBody(call, false)
  let region: string | undefined
  if (body.trim() !== '') {
    const doc = parseXml(body, 'CreateBucketConfiguration', [])
    const constraint = optionalText(doc, 'LocationConstraint')?.trim()
    if (constraint !== undefined && constraint !== '') region = constraintRegion(constraint, call.settings.profile, call.settings.region)
  }
  region ??= call.settings.region
  try {
    await call.store.createBucket(call.bucket, { ...(region === undefined ? {} : { region }), ...acl })
  } catch (err) {
    // S3's legacy us-east-1 answer: creating a bucket you already own there succeeds and leaves
    // it as it is; every other region says BucketAlreadyOwnedByYou.
    if (!isSpaceboxError(err, 'BucketAlreadyOwnedByYou') || (region ?? 'us-east-1') !== 'us-east-1' ||
      (await call.store.headBucket(call.bucket)).region !== 'us-east-1') throw err
  }
  send(call, 200, { location: `/${call.bucket}` })
}

/**
 * HeadBucket: 200 with the bucket's region, or a body-less 404/403.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html
 */
export async function headBucket (call: Call): Promise<void> {
  const info = await call.store.headBucket(call.bucket)
  send(call, 200, { 'x-amz-bucket-region': info.region })
}

/**
 * DeleteBucket: only an empty bucket.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html
 */
export async function deleteBucket (call: Call): Promise<void> {
  await call.store.deleteBucket(call.bucket)
  send(call, 204, {})
}

/**
 * GetBucketLocation: us-east-1 is the empty constraint, as S3 answers.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
 */
export async function getBucketLocation (call: Call): Promise<void> {
  const info = await call.store.headBucket(call.bucket)
  sendXml(call, 'LocationConstraint', info.region === 'us-east-1' ? '' : info.region)
}

/**
 * PutBucketVersioning: Enabled or Suspended (Content-MD5 or a checksum required, as S3). MFA
 * delete is not kept: asking for it is NotImplemented, turning it off changes nothing.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html
 */
export async function putBucketVersioning (call: Call): Promise<void> {
  const doc = parseXml(await configBody(call, true), 'VersioningConfiguration', [])
  const mfaDelete = optionalText(doc, 'MfaDelete')?.trim()
  if (mfaDelete === 'Enabled') throw new S3Error('NotImplemented', 'A header or query you provided requested a function that is not implemented: MfaDelete.')
  if (mfaDelete !== undefined && mfaDelete !== 'Disabled') throw malformedXml()
  const status = optionalText(doc, 'Status')?.trim()
  if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml()
  await call.store.putBucketVersioning(call.bucket, status)
  send(call, 200, {})
}

/**
 * GetBucketVersioning: no Status while versioning was never enabled.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html
 */
export async function getBucketVersioning (call: Call): Promise<void> {
  const { status } = await call.store.getBucketVersioning(call.bucket)
  sendXml(call, 'VersioningConfiguration', status === undefined ? {} : { Status: status })
}

/**
 * PutBucketEncryption: the default encryption of new objects.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html
 */
export async function putBucketEncryption (call: Call): Promise<void> {
  const doc = parseXml(await configBody(call, false), 'ServerSideEncryptionConfiguration', ['Rule'])
  const rules = children(doc, 'Rule')
  if (rules.length !== 1) throw malformedXml()
  const rule = rules[0] as Record<string, unknown>
  const apply = rule.ApplyServerSideEncryptionByDefault
  if (typeof apply !== 'object' || apply === null) throw malformedXml()
  const defaults = apply as Record<string, unknown>
  const algorithm = text(defaults, 'SSEAlgorithm').trim()
  if (algorithm !== 'AES256' && algorithm !== 'aws:kms') {
    throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema')
  }
  const config: BucketEncryptionConfig = { algorithm }
  const masterKeyId = optionalText(defaults, 'KMSMasterKeyID')?.trim()
  if (masterKeyId !== undefined && masterKeyId !== '') config.masterKeyId = masterKeyId
  const bucketKey = optionalText(rule, 'BucketKeyEnabled')?.trim()
  if (bucketKey !== undefined) config.bucketKeyEnabled = bucketKey === 'true'
  await call.store.putBucketEncryption(call.bucket, config)
  send(call, 200, {})
}

/**
 * GetBucketEncryption.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketEncryption.html
 */
export async function getBucketEncryption (call: Call): Promise<void> {
  const config = await call.store.getBucketEncryption(call.bucket)
  sendXml(call, 'ServerSideEncryptionConfiguration', {
    Rule: {
      ApplyServerSideEncryptionByDefault: {
        SSEAlgorithm: config.algorithm,
        ...(config.masterKeyId === undefined ? {} : { KMSMasterKeyID: config.masterKeyId })
      },
      BucketKeyEnabled: String(config.bucketKeyEnabled === true)
    }
  })
}

/**
 * DeleteBucketEncryption.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketEncryption.html
 */
export async function deleteBucketEncryption (call: Call): Promise<void> {
  await call.store.deleteBucketEncryption(call.bucket)
  send(call, 204, {})
}

/**
 * PutBucketCors: the rules browsers are held to (Content-MD5 or a checksum required, as S3).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html
 */
export async function putBucketCors (call: Call): Promise<void> {
  const rules = parseCorsConfiguration(await configBody(call, true))
  await call.store.putBucketCors(call.bucket, rules)
  send(call, 200, {})
}

/**
 * GetBucketCors.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html
 */
export async function getBucketCors (call: Call): Promise<void> {
  const rules = await call.store.getBucketCors(call.bucket)
  send(call, 200, { 'content-type': 'application/xml' }, corsConfigurationXml(rules))
}

/**
 * DeleteBucketCors.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketCors.html
 */
export async function deleteBucketCors (call: Call): Promise<void> {
  await call.store.deleteBucketCors(call.bucket)
  send(call, 204, {})
}
