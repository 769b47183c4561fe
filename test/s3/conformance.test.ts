// Wire details real S3 has and clients or compatibility suites rely on (issue #18), each over HTTP.
import t from 'tap'
import { connect } from 'node:net'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { serve } from './helpers.js'
import { hostOf, presignV4, send, sendSigned, signedHead } from './wire.js'

/** Write raw bytes and read the whole answer (the server closes after it: `connection: close`). */
async function exchange (url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return await new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let answer = ''
    socket.on('data', (piece: Buffer) => { answer += piece.toString('latin1') })
    socket.on('end', () => resolve(answer))
    socket.on('error', reject)
    socket.write(bytes)
  })
}

t.test('an Expect header S3 does not understand is ignored, as S3 does, where node:http would answer 417', async t => {
  const s = await serve(t)
  await s.box.createBucket('bkt')
  for (const expect of ['', 'something-else', '200-ok']) {
    const head = signedHead(s.server.url, s.credentials, 'PUT', `/bkt/e${expect.length}`, { 'content-length': '5', expect, connection: 'close' }, { payload: 'UNSIGNED-PAYLOAD' })
    const answer = await exchange(s.server.url, head + 'hello')
    t.match(answer, /^HTTP\/1\.1 200 /, `Expect: ${JSON.stringify(expect)}`)
    t.equal((await s.box.headObject('bkt', `e${expect.length}`)).size, 5, 'and the object is stored')
  }
  const continued = signedHead(s.server.url, s.credentials, 'PUT', '/bkt/c', { 'content-length': '5', expect: '100-continue', connection: 'close' }, { payload: 'UNSIGNED-PAYLOAD' })
  const answer = await exchange(s.server.url, continued + 'hello')
  t.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, '100-continue still gets its 100, then the answer')
})

t.test('a bucket name with a dash beside a dot is refused, as S3 refuses it', async t => {
  const s = await serve(t)
  const client = s.client()
  for (const name of ['foo-.bar', 'foo.-bar', 'a.b-.c']) {
    await t.rejects(client.send(new CreateBucketCommand({ Bucket: name })), { name: 'InvalidBucketName', $metadata: { httpStatusCode: 400 } }, name)
  }
  await client.send(new CreateBucketCommand({ Bucket: 'foo-bar.baz-1' }))
  t.pass('dashes inside a label are fine')
  const raw = await sendSigned(s.server.url, s.credentials, 'PUT', '/foo-.bar')
  t.match(raw.text, /<Code>InvalidBucketName<\/Code><Message>The specified bucket is not valid\.<\/Message><BucketName>foo-\.bar<\/BucketName>/,
    'on the wire, S3\'s message and the name (the engine\'s error says which rule)')
  await t.rejects(s.box.createBucket('foo-.bar'), { code: 'InvalidBucketName', message: /each dot-separated part of a bucket name begins and ends with a letter or digit/, detail: { reason: /dot-separated/ } })
})

t.test('a presigned URL with a negative X-Amz-Expires has expired: 403 AccessDenied, as S3 answers', async t => {
  const s = await serve(t)
  await s.box.createBucket('bkt')
  await s.box.putObject('bkt', 'k', 'v')
  const url = presignV4(s.credentials, 'GET', '/bkt/k', hostOf(s.server.url), -60)
  const res = await send(s.server.url, 'GET', url)
  t.equal(res.status, 403)
  t.equal(res.code, 'AccessDenied')
  t.match(res.text, /<Message>Request has expired<\/Message>/)
  const zero = await send(s.server.url, 'GET', presignV4(s.credentials, 'GET', '/bkt/k', hostOf(s.server.url), 0))
  t.equal(zero.code, 'AuthorizationQueryParametersError', 'a lifetime of 0 is malformed, as before')
})
