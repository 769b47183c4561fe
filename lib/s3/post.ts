/**
 * POST Object: browser form uploads. The form authenticates itself (a policy document signed with
 * SigV4 or SigV2, or nothing for an anonymous upload), so it is read, as far as the file, while the
 * request is authenticated; the file then streams into the caller's view of the store like a PUT.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { CHECKSUM_ALGORITHMS, isSpaceboxError, type CannedAcl, type PutObjectOptions, type Spacebox } from '../index.js'
import type { Identity } from './auth.js'
import { send, type Call } from './call.js'
import { S3Error } from './errors.js'
import { boundaryOf, FormReader, malformed } from './form.js'
import { checksumHeaders, checksumsOf, encryptionHeaders, encryptionOf, objectHeadersOf, storageClassOption } from './headers.js'
import { writtenVersion } from './operations/objects.js'
import { checkPolicy, parsePolicy } from './post-policy.js'
import { header, protocolOf, type Target } from './request.js'
import { signV2 } from './sigv2.js'
import { parseTagging } from './tagging-xml.js'
import { hmacHex, parseAmzDate, signatureMismatch, signaturesEqual, signingKey } from './sigv4.js'
import { renderXml } from './xml.js'

/** S3's bound on the form before the file: fields, their headers and the boundaries. */
export const MAX_PRE_DATA = 20 * 1024

/** A form read as far as its file, its signature verified, waiting for the handler. */
interface Form {
  key: string
  /** Lower-cased names; repeated fields joined with ',', `${filename}` expanded. */
  fields: Map<string, string>
  /** The names as the form spelled them. */
  sent: Map<string, string>
  /** Its policy was signed (else the form is anonymous, and has no policy). */
  signed: boolean
  reader: FormReader
}

// The variable S3 replaces, in every field, with the name of the file uploaded.
// eslint-disable-next-line no-template-curly-in-string
const FILENAME = '${filename}'

// From authentication to the handler of the same request; gone with the request.
const forms = new WeakMap<IncomingMessage, Form>()

/**
 * A form POSTed to a bucket's URL: authenticated by its fields, not its headers. Only with no
 * query, as forms are sent, so that the identity a form gives can only ever reach PostObject.
 */
export function isFormUpload (req: IncomingMessage, target: Target): boolean {
  return req.method === 'POST' && target.bucket !== undefined && target.key === undefined && target.rawQuery === '' &&
    boundaryOf(header(req.headers, 'content-type')) !== undefined
}

/**
 * Read a form upload's fields and authenticate them: the identity of the key that signed its
 * policy, or undefined for an anonymous form (no policy), which the anonymous view then judges.
 * The policy's conditions are the handler's to check, so that a refusal carries CORS headers.
 */
export async function authenticateForm (box: Spacebox, req: IncomingMessage, res: ServerResponse): Promise<Identity | undefined> {
  const boundary = boundaryOf(header(req.headers, 'content-type'))
  if (boundary === undefined || boundary === '') throw malformed()
  // The form is the credential, so the body is needed before anything can be decided.
  if (header(req.headers, 'expect')?.toLowerCase() === '100-continue' && !res.headersSent) res.writeContinue()
  const reader = new FormReader(req.iterator({ destroyOnReturn: false }), boundary, MAX_PRE_DATA)
  const fields = new Map<string, string>()
  const sent = new Map<string, string>()
  let file: { filename: string | undefined } | undefined
  for (let part = await reader.next(); part !== undefined; part = await reader.next()) {
    const name = part.name.toLowerCase()
    // The file is the last field S3 reads: whatever follows it is ignored.
    if (name === 'file') {
      file = part
      break
    }
    const value = (await reader.value()).toString('utf8')
    const before = fields.get(name)
    if (before === undefined) sent.set(name, part.name)
    else if (name === 'key') throw new S3Error('InvalidArgument', 'Bucket POST must contain exactly one field named \'key\'.', { ArgumentName: 'key', ArgumentValue: '' })
    // S3 reads repeated fields as one, their values joined with commas (conditions see that too).
    fields.set(name, before === undefined ? value : `${before},${value}`)
  }
  if (fields.get('key') === undefined || fields.get('key') === '') throw missingField('key')
  if (file === undefined) throw new S3Error('IncorrectNumberOfFilesInPostRequest', 'POST requires exactly one file upload per request.')
  const filename = baseName(file.filename ?? '')
  // A function, so that `$&` and the like in a file name stay literal.
  for (const [name, value] of fields) fields.set(name, value.replaceAll(FILENAME, () => filename))
  const key = fields.get('key')!
  if (key === '') throw new S3Error('InvalidArgument', 'User key must have a length greater than 0.', { ArgumentName: 'key', ArgumentValue: '' })
  const identity = verifyForm(box, fields)
  forms.set(req, { key, fields, sent, signed: identity !== undefined, reader })
  return identity
}

/**
 * The name of the file without any folder a browser sent with it, as S3 takes it: only what
 * follows the last '/' or '\' (`C:\dir\a.txt` is `a.txt`, `../a.txt` is `a.txt`).
 */
export function baseName (filename: string): string {
  return filename.slice(Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\')) + 1)
}

function missingField (name: string): S3Error {
  return new S3Error('InvalidArgument', `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, {
    ArgumentName: name, ArgumentValue: ''
  })
}

const V4_FIELDS: Array<[string, string]> = [
  ['x-amz-algorithm', 'X-Amz-Algorithm'], ['x-amz-credential', 'X-Amz-Credential'], ['x-amz-date', 'X-Amz-Date'],
  ['x-amz-signature', 'X-Amz-Signature'], ['policy', 'Policy']
]
const V2_FIELDS: Array<[string, string]> = [['awsaccesskeyid', 'AWSAccessKeyId'], ['signature', 'Signature'], ['policy', 'Policy']]

/** Who signed the policy (SigV4 when any of its fields is there, else SigV2); undefined when nobody did. */
function verifyForm (box: Spacebox, fields: Map<string, string>): Identity | undefined {
  const v4 = V4_FIELDS.slice(0, 4).some(([name]) => fields.has(name))
  if (!v4 && !fields.has('awsaccesskeyid') && !fields.has('signature')) {
    if (fields.has('policy')) throw new S3Error('AccessDenied', 'Access Denied')
    return undefined
  }
  for (const [name, shown] of v4 ? V4_FIELDS : V2_FIELDS) if (!fields.has(name)) throw missingField(shown)
  const policy = fields.get('policy')!
  if (!v4) {
    const accessKeyId = fields.get('awsaccesskeyid')!
    const provided = fields.get('signature')!
    const { secret, generation } = secretOf(box, accessKeyId)
    if (!signaturesEqual(signV2(secret, policy), provided)) throw signatureMismatch({ AWSAccessKeyId: accessKeyId, StringToSign: policy, SignatureProvided: provided })
    return { accessKeyId, generation, kind: 'v2' }
  }
  const algorithm = fields.get('x-amz-algorithm')!
  if (algorithm !== 'AWS4-HMAC-SHA256') {
    throw new S3Error('InvalidArgument', 'Only AWS4-HMAC-SHA256 is supported as the signing algorithm.', { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm })
  }
  const credential = fields.get('x-amz-credential')!
  const [accessKeyId, date, region, service, terminal, ...rest] = credential.split('/')
  if (accessKeyId === undefined || accessKeyId === '' || date === undefined || !/^\d{8}$/.test(date) || region === undefined ||
    service !== 's3' || terminal !== 'aws4_request' || rest.length > 0) {
    throw new S3Error('InvalidArgument', 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".', {
      ArgumentName: 'x-amz-credential', ArgumentValue: credential
    })
  }
  const amzDate = fields.get('x-amz-date')!
  if (parseAmzDate(amzDate) === undefined) {
    throw new S3Error('InvalidArgument', 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"', { ArgumentName: 'x-amz-date', ArgumentValue: amzDate })
  }
  const provided = fields.get('x-amz-signature')!
  const { secret, generation } = secretOf(box, accessKeyId)
  // No canonical request: a form's string to sign is its base64 policy, exactly as sent.
  if (!signaturesEqual(hmacHex(signingKey(secret, date, region, 's3'), policy), provided.toLowerCase())) {
    throw signatureMismatch({ AWSAccessKeyId: accessKeyId, StringToSign: policy, SignatureProvided: provided })
  }
  return { accessKeyId, generation, kind: 'v4' }
}

function secretOf (box: Spacebox, accessKeyId: string): { secret: string, generation: number } {
  try {
    return box.keys.secretOf(accessKeyId)
  } catch (err) {
    if (isSpaceboxError(err, 'InvalidAccessKeyId')) {
      throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId })
    }
    throw err
  }
}

/**
 * PostObject: store the form's file under its key (the form's fields act as PutObject's headers),
 * then answer as `success_action_redirect` or `success_action_status` ask: 204 by default.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
 */
export async function postObject (call: Call): Promise<void> {
  const form = forms.get(call.req)
  if (form === undefined) {
    if (boundaryOf(header(call.req.headers, 'content-type')) !== undefined) {
      throw new S3Error('InvalidRequest', 'A form upload is POSTed to the bucket\'s URL with no query string.')
    }
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: 'Bucket POST must be of the enclosure-type multipart/form-data'
    })
  }
  forms.delete(call.req)
  const { fields, key } = form
  let length: { min: number, max: number } | undefined
  if (form.signed) {
    // All but the content-length-range, which the file is held to as it streams.
    const policy = parsePolicy(fields.get('policy')!)
    checkPolicy(policy, fields, form.sent, call.bucket, call.settings.now())
    length = policy.length
  }
  // Form fields carry what a PUT's headers would: read them with the same functions.
  const headers = Object.fromEntries(fields) as IncomingHttpHeaders
  const options: PutObjectOptions = { ...objectHeadersOf(headers), ...storageClassOption(headers, call.settings.profile), ...encryptionOf(headers), ...digestsOf(headers) }
  const acl = aclOf(fields)
  if (acl !== undefined) options.acl = acl as CannedAcl
  // A form tags the object with a Tagging document, not the header's query form.
  const tagging = fields.get('tagging')
  if (tagging !== undefined) options.tags = parseTagging(tagging)
  const result = await call.store.putObject(call.bucket, key, sized(form.reader.stream(), length), options)
  // What follows the file is ignored, but read, so that the answer comes after the request.
  await form.reader.drain()
  const host = call.req.headers.host ?? 'localhost'
  const location = `${protocolOf(call.req)}://${host}/${call.target.virtualHosted ? '' : `${call.bucket}/`}${encodeURIComponent(key)}`
  const answer = {
    etag: result.etag,
    location,
    ...writtenVersion(result.versionId),
    ...checksumHeaders(result.checksums, 'FULL_OBJECT'),
    ...encryptionHeaders(result)
  }
  const redirect = redirectOf(fields)
  if (redirect !== undefined) {
    // Percent-encoded, not form-encoded: a space in a key is %20, never '+'.
    const added = `bucket=${encodeURIComponent(call.bucket)}&key=${encodeURIComponent(key)}&etag=${encodeURIComponent(result.etag)}`
    redirect.search = redirect.search === '' ? added : `${redirect.search.slice(1)}&${added}`
    send(call, 303, { ...answer, location: redirect.href })
    return
  }
  const status = fields.get('success_action_status')
  if (status === '201') {
    const body = renderXml('PostResponse', { Location: location, Bucket: call.bucket, Key: key, ETag: result.etag }, false)
    send(call, 201, { ...answer, 'content-type': 'application/xml' }, body)
    return
  }
  send(call, status === '200' ? 200 : 204, answer)
}

/** `success_action_redirect` (or the older `redirect`), when it is a URL S3 could follow; else ignored, as S3 does. */
function redirectOf (fields: Map<string, string>): URL | undefined {
  const value = fields.get('success_action_redirect') ?? fields.get('redirect')
  if (value === undefined || !URL.canParse(value)) return undefined
  const url = new URL(value)
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined
}

/** The canned ACL of the object: `acl` (S3's field), or `x-amz-acl`, which some clients send instead. */
function aclOf (fields: Map<string, string>): string | undefined {
  const acl = fields.get('acl')
  const amz = fields.get('x-amz-acl')
  if (acl !== undefined && amz !== undefined && acl !== amz) {
    throw new S3Error('InvalidRequest', 'The acl and x-amz-acl fields of the form name different ACLs.')
  }
  return acl ?? amz
}

/** Content-MD5 and one x-amz-checksum-<algorithm> field, checked against the file as it is stored. */
function digestsOf (headers: IncomingHttpHeaders): Pick<PutObjectOptions, 'contentMD5' | 'checksums'> {
  const out: Pick<PutObjectOptions, 'contentMD5' | 'checksums'> = {}
  for (const name of Object.keys(headers)) {
    if (!name.startsWith('x-amz-checksum-') || name === 'x-amz-checksum-algorithm' || name === 'x-amz-checksum-type') continue
    if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(name.slice(15).toUpperCase())) {
      throw new S3Error('InvalidRequest', `The checksum field ${name} names an algorithm S3 does not have.`)
    }
  }
  const checksums = checksumsOf(headers)
  if (Object.keys(checksums).length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.')
  if (Object.keys(checksums).length === 1) out.checksums = checksums
  const md5 = header(headers, 'content-md5')
  if (md5 !== undefined) out.contentMD5 = md5
  return out
}

/**
 * The file, held to the policy's content-length-range as it streams: past the maximum the upload
 * fails at once; short of the minimum it fails before its end, so nothing is committed either way.
 */
async function * sized (body: AsyncIterable<Buffer>, length: { min: number, max: number } | undefined): AsyncGenerator<Buffer> {
  let size = 0
  for await (const piece of body) {
    size += piece.length
    if (length !== undefined && size > length.max) {
      throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: size, MaxSizeAllowed: length.max })
    }
    yield piece
  }
  if (length !== undefined && size < length.min) {
    throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { ProposedSize: size, MinSizeAllowed: length.min })
  }
}
