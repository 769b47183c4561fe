import t from 'tap'
import { createPresignedPost } from '@aws-sdk/s3-presigned-post'
import { serve } from './helpers.js'
import { element, post, type Answer } from './post-forms.js'
import { python } from './python.js'

// S3's variable for the uploaded file's name, written literally in forms.
// eslint-disable-next-line no-template-curly-in-string
const FILENAME = '${filename}'

const s = await serve(t)
await s.box.createBucket('sdk-forms')
// Known before any test starts (tap ends a file whose queue empties while it awaits).
const noBoto3 = await python('import boto3', []) === undefined
  ? (process.env.CI === undefined ? 'python3 with boto3 is not installed here (apt-get install python3-boto3)' : false)
  : false

/** Submit the fields and a file as a browser's FormData would (undici encodes it). */
async function upload (url: string, fields: Record<string, string>, content: string, filename: string, headers: Record<string, string> = {}): Promise<Answer> {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields)) form.append(name, value)
  form.append('file', new Blob([content], { type: 'text/plain' }), filename)
  // Encoded by the platform, sent with node:http so that any Host can be given.
  const encoded = new Response(form)
  const body = Buffer.from(await encoded.arrayBuffer())
  return await post(url, body, { 'content-type': encoded.headers.get('content-type')!, ...headers })
}

async function text (bucket: string, key: string): Promise<string> {
  const { body } = await s.box.getObject(bucket, key)
  const pieces: Buffer[] = []
  for await (const piece of body) pieces.push(piece as Buffer)
  return Buffer.concat(pieces).toString('utf8')
}

t.test('@aws-sdk/s3-presigned-post: a presigned form uploads, within its conditions only', async t => {
  const { url, fields } = await createPresignedPost(s.client(), {
    Bucket: 'sdk-forms',
    Key: `user/eric/${FILENAME}`,
    Conditions: [['content-length-range', 1, 64], ['starts-with', '$Content-Type', 'text/']],
    Fields: { 'Content-Type': 'text/plain', 'x-amz-meta-who': 'eric', success_action_status: '201' },
    Expires: 600
  })
  t.equal(url, `${s.server.url}/sdk-forms`)
  const answer = await upload(url, fields, 'hello from the SDK', 'notes.txt')
  t.equal(answer.status, 201, answer.body)
  t.equal(element(answer.body, 'Key'), 'user/eric/notes.txt')
  t.equal(await text('sdk-forms', 'user/eric/notes.txt'), 'hello from the SDK')
  const info = await s.box.headObject('sdk-forms', 'user/eric/notes.txt')
  t.equal(info.contentType, 'text/plain')
  t.same(info.metadata, { who: 'eric' })
  const tooLarge = await upload(url, fields, 'x'.repeat(65), 'big.txt')
  t.equal(tooLarge.status, 400)
  t.equal(element(tooLarge.body, 'Code'), 'EntityTooLarge')
  const changed = await upload(url, { ...fields, 'x-amz-meta-who': 'mallory' }, 'x', 'evil.txt')
  t.equal(changed.status, 403)
  t.equal(element(changed.body, 'Code'), 'AccessDenied')
  await t.rejects(s.box.headObject('sdk-forms', 'user/eric/big.txt'), { code: 'NoSuchKey' })
  await t.rejects(s.box.headObject('sdk-forms', 'user/eric/evil.txt'), { code: 'NoSuchKey' })
})

t.test('@aws-sdk/s3-presigned-post: virtual-hosted addressing, and a policy past its expiration on the server\'s clock', async t => {
  const hosted = s.client({ forcePathStyle: false, endpoint: `http://localhost:${s.server.port}` })
  const { url, fields } = await createPresignedPost(hosted, { Bucket: 'sdk-forms', Key: 'hosted.txt', Expires: 60 })
  t.equal(url, `http://sdk-forms.localhost:${s.server.port}/`)
  // sdk-forms.localhost need not resolve here: connect to the server and name the host.
  const answer = await upload(s.server.url, fields, 'hosted', 'hosted.txt', { host: `sdk-forms.localhost:${s.server.port}` })
  t.equal(answer.status, 204, answer.body)
  t.equal(answer.headers.location, `http://sdk-forms.localhost:${s.server.port}/hosted.txt`)
  t.equal(await text('sdk-forms', 'hosted.txt'), 'hosted')

  const later = await serve(t, { server: { clock: () => Date.now() + 120_000 } })
  await later.box.createBucket('sdk-forms')
  const expiring = await createPresignedPost(later.client(), { Bucket: 'sdk-forms', Key: 'late.txt', Expires: 60 })
  const late = await upload(expiring.url, expiring.fields, 'late', 'late.txt')
  t.equal(late.status, 403)
  t.equal(element(late.body, 'Message'), 'Invalid according to Policy: Policy expired.')
})

const BOTO3 = `
import json, sys, boto3
from botocore.config import Config
endpoint, key_id, secret, style, version = sys.argv[1:6]
client = boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id=key_id, aws_secret_access_key=secret,
                      config=Config(signature_version=version, s3={'addressing_style': style}))
print(json.dumps(client.generate_presigned_post(
    'sdk-forms', 'boto/\${filename}',
    Fields={'acl': 'private', 'Content-Type': 'text/plain', 'success_action_redirect': 'http://example.com/done'},
    Conditions=[{'acl': 'private'}, ['starts-with', '$Content-Type', 'text/'], ['content-length-range', 1, 1024],
                ['starts-with', '$success_action_redirect', 'http://example.com/']],
    ExpiresIn=300)))
`

t.test('boto3 generate_presigned_post (SigV4 and SigV2, path style): the form uploads, redirects, and holds to its policy', { skip: noBoto3 }, async t => {
  for (const version of ['s3v4', 's3']) {
    const out = await python(BOTO3, [s.server.url, s.credentials.accessKeyId, s.credentials.secretAccessKey, 'path', version])
    if (out === undefined) {
      t.fail('python3 with boto3 is needed in CI: .ci/run installs python3-boto3')
      return
    }
    t.notOk(out.startsWith('ERROR'), out)
    const { url, fields } = JSON.parse(out) as { url: string, fields: Record<string, string> }
    t.equal(url, `${s.server.url}/sdk-forms`)
    t.ok(version === 's3v4' ? fields['x-amz-signature'] !== undefined : fields.signature !== undefined, `${version} fields`)
    const answer = await upload(url, fields, `boto3 ${version}`, `C:\\Users\\me\\${version}.txt`)
    t.equal(answer.status, 303, answer.body)
    const location = new URL(answer.headers.location!)
    t.equal(`${location.origin}${location.pathname}`, 'http://example.com/done')
    t.equal(location.searchParams.get('key'), `boto/${version}.txt`)
    t.equal(location.searchParams.get('bucket'), 'sdk-forms')
    t.match(location.searchParams.get('etag'), /^"[0-9a-f]{32}"$/)
    t.equal(await text('sdk-forms', `boto/${version}.txt`), `boto3 ${version}`)
    const empty = await upload(url, fields, '', 'empty.txt')
    t.equal(element(empty.body, 'Code'), 'EntityTooSmall', `${version}: below content-length-range`)
  }
})
