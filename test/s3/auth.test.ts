import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { crc32 } from 'node:zlib'
import { GetObjectCommand, HeadObjectCommand, ListBucketsCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { serve, type Served } from './helpers.js'
import { hostOf, md5Base64, presignV4, send, sendSigned, sha256, signedChunks, signV2, signV4, unsignedChunks, uriEncode } from './wire.js'

const MIN = 60_000

/** The S3 error an SDK call fails with: status and Code. */
async function failure (t: Test, call: Promise<unknown>): Promise<{ status: number | undefined, code: string }> {
  try {
    await call
  } catch (err) {
    t.ok(err instanceof S3ServiceException, 'an S3 service error')
    const e = err as S3ServiceException
    return { status: e.$metadata.httpStatusCode, code: e.name }
  }
  t.fail('the call succeeded')
  return { status: undefined, code: '' }
}

async function absent (t: Test, s: Served, bucket: string, key: string): Promise<void> {
  await t.rejects(s.box.headObject(bucket, key), { code: 'NoSuchKey' }, `${key} was not stored`)
}

async function withBucket (t: Test, options: Parameters<typeof serve>[1] = {}): Promise<Served> {
  const s = await serve(t, options)
  await s.box.createBucket('bkt')
  await s.box.putObject('bkt', 'hello.txt', 'hello')
  return s
}

function crc32Base64 (data: Buffer): string {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(crc32(data))
  return out.toString('base64')
}

t.test('keys and secrets', async t => {
  const s = await withBucket(t)
  const listOf = (creds: { accessKeyId: string, secretAccessKey: string }): Promise<unknown> => s.client({ credentials: creds }).send(new ListBucketsCommand({}))

  t.test('a wrong secret is refused with SignatureDoesNotMatch', async t => {
    t.same(await failure(t, listOf({ ...s.credentials, secretAccessKey: 'x' + s.credentials.secretAccessKey.slice(1) })), { status: 403, code: 'SignatureDoesNotMatch' })
  })

  t.test('an unknown access key id is refused with InvalidAccessKeyId', async t => {
    t.same(await failure(t, listOf({ accessKeyId: 'SBNOSUCHKEY000000000', secretAccessKey: s.credentials.secretAccessKey })), { status: 403, code: 'InvalidAccessKeyId' })
  })

  t.test('a regenerated key refuses the old secret at once and accepts the new one', async t => {
    const key = await s.keyed([{ bucket: 'bkt', permission: 'read' }])
    await key.client.send(new ListBucketsCommand({}))
    const fresh = await s.box.keys.regenerate(key.accessKeyId)
    t.same(await failure(t, key.client.send(new ListBucketsCommand({}))), { status: 403, code: 'SignatureDoesNotMatch' })
    const list = await s.client({ credentials: { accessKeyId: key.accessKeyId, secretAccessKey: fresh.secretAccessKey } }).send(new ListBucketsCommand({}))
    t.same(list.Buckets?.map(b => b.Name), ['bkt'])
  })

  t.test('a deleted key is refused', async t => {
    const key = await s.keyed([{ bucket: 'bkt', permission: 'read' }])
    await s.box.keys.delete(key.accessKeyId)
    t.same(await failure(t, key.client.send(new ListBucketsCommand({}))), { status: 403, code: 'InvalidAccessKeyId' })
  })

  t.test('a disabled key is refused, and works again once enabled', async t => {
    const key = await s.keyed([{ bucket: 'bkt', permission: 'read' }])
    await s.box.keys.disable(key.accessKeyId)
    t.same(await failure(t, key.client.send(new ListBucketsCommand({}))), { status: 403, code: 'InvalidAccessKeyId' })
    await s.box.keys.enable(key.accessKeyId)
    await key.client.send(new ListBucketsCommand({}))
  })

  t.test('an expired key is refused', async t => {
    const key = await s.keyed([{ bucket: 'bkt', permission: 'read' }])
    // An expiry in the past is refused when set, so let a near one pass.
    await s.box.keys.update(key.accessKeyId, { expiresAt: new Date(Date.now() + 100) })
    await sleep(150)
    t.same(await failure(t, key.client.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' }))), { status: 403, code: 'InvalidAccessKeyId' })
  })
})

t.test('clock skew', async t => {
  const s = await withBucket(t)

  t.test('a request signed more than 15 minutes off the server clock is RequestTimeTooSkewed, either way', async t => {
    for (const offset of [16 * MIN, -16 * MIN]) {
      // A client per call: the SDK corrects its clock from every answer.
      t.same(await failure(t, s.client({ systemClockOffset: offset }).send(new GetObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' }))), { status: 403, code: 'RequestTimeTooSkewed' })
      const head = await failure(t, s.client({ systemClockOffset: offset }).send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' })))
      t.equal(head.status, 403, 'HEAD too, without a body')
    }
  })

  t.test('a request 14 minutes off either way is accepted', async t => {
    for (const offset of [14 * MIN, -14 * MIN]) {
      const got = await s.client({ systemClockOffset: offset }).send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' }))
      t.equal(got.ContentLength, 5)
    }
  })

  t.test('the skew error carries the server time in Date and the body, from which the SDK corrects its clock', async t => {
    const signed = signV4(s.credentials, 'GET', '/bkt/hello.txt', hostOf(s.server.url), {}, '', { time: Date.now() - 20 * MIN })
    const res = await send(s.server.url, 'GET', '/bkt/hello.txt', signed.headers)
    t.equal(res.status, 403)
    t.equal(res.code, 'RequestTimeTooSkewed')
    t.match(res.text, /<MaxAllowedSkewMilliseconds>900000<\/MaxAllowedSkewMilliseconds>/)
    t.ok(Math.abs(Date.parse(String(res.headers.date)) - Date.now()) < 5000, 'Date is the server time')
    const c = s.client({ systemClockOffset: 30 * MIN })
    t.equal((await failure(t, c.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' })))).code, 'RequestTimeTooSkewed')
    const got = await c.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' }))
    t.equal(await got.Body?.transformToString(), 'hello', 'the next call is signed with the corrected clock')
  })

  t.test('against a server clock an hour ahead (the clock option), an SDK with retries corrects itself within the call', async t => {
    const ahead = await withBucket(t, { server: { clock: () => Date.now() + 60 * MIN } })
    t.same(await failure(t, ahead.client().send(new GetObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' }))), { status: 403, code: 'RequestTimeTooSkewed' })
    const got = await ahead.client({ maxAttempts: 2 }).send(new GetObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' }))
    t.equal(got.$metadata.attempts, 2)
  })
})

t.test('presigned URLs', async t => {
  const s = await withBucket(t)
  const host = hostOf(s.server.url)

  t.test('a presigned GET from the SDK presigner works, and one signed with another secret does not', async t => {
    const url = await getSignedUrl(s.client(), new GetObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' }), { expiresIn: 60 })
    const res = await fetch(url)
    t.equal(res.status, 200)
    t.equal(await res.text(), 'hello')
    const forged = await getSignedUrl(s.client({ credentials: { ...s.credentials, secretAccessKey: 'nope' } }), new GetObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' }), { expiresIn: 60 })
    const bad = await fetch(forged)
    t.equal(bad.status, 403)
    t.match(await bad.text(), /<Code>SignatureDoesNotMatch<\/Code>/)
  })

  t.test('an expired presigned URL is AccessDenied, a six-day-old unexpired one works', async t => {
    const expired = await getSignedUrl(s.client(), new GetObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' }), { expiresIn: 60, signingDate: new Date(Date.now() - 2 * MIN) })
    const res = await fetch(expired)
    t.equal(res.status, 403)
    const text = await res.text()
    t.match(text, /<Code>AccessDenied<\/Code>/)
    t.match(text, /Request has expired/)
    const old = await getSignedUrl(s.client(), new GetObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' }), { expiresIn: 604800, signingDate: new Date(Date.now() - 6 * 24 * 60 * MIN) })
    t.equal((await fetch(old)).status, 200)
  })

  t.test('a presigned URL dated beyond the skew allowance is not valid yet', async t => {
    const future = await getSignedUrl(s.client(), new GetObjectCommand({ Bucket: 'bkt', Key: 'hello.txt' }), { expiresIn: 3600, signingDate: new Date(Date.now() + 20 * MIN) })
    const res = await fetch(future)
    t.equal(res.status, 403)
    const text = await res.text()
    t.match(text, /<Code>AccessDenied<\/Code>/)
    t.match(text, /not valid yet/)
  })

  t.test('X-Amz-Expires above a week, zero or not a number is AuthorizationQueryParametersError; a negative one has expired', async t => {
    const negative = await send(s.server.url, 'GET', presignV4(s.credentials, 'GET', '/bkt/hello.txt', host, -5), { host })
    t.equal(negative.status, 403, 'Expires -5: expired, as S3 answers')
    t.equal(negative.code, 'AccessDenied')
    for (const expires of [604801, 0]) {
      const res = await send(s.server.url, 'GET', presignV4(s.credentials, 'GET', '/bkt/hello.txt', host, expires), { host })
      t.equal(res.status, 400, `Expires ${expires}`)
      t.equal(res.code, 'AuthorizationQueryParametersError', `Expires ${expires}`)
    }
    const week = await send(s.server.url, 'GET', presignV4(s.credentials, 'GET', '/bkt/hello.txt', host, 604800), { host })
    t.equal(week.status, 200, 'exactly a week is fine')
  })

  t.test('a presigned PUT stores the body, ignoring the checksum the presigner hoisted into the query', async t => {
    const url = await getSignedUrl(s.client(), new PutObjectCommand({ Bucket: 'bkt', Key: 'presigned.txt' }), { expiresIn: 60 })
    const res = await fetch(url, { method: 'PUT', body: 'via url' })
    t.equal(res.status, 200)
    t.equal((await s.box.headObject('bkt', 'presigned.txt')).size, 7)
  })
})

t.test('x-amz-* headers left out of the signature are refused, as S3 does', async t => {
  const s = await withBucket(t)
  const host = hostOf(s.server.url)

  t.test('an x-amz-meta-* or x-amz-copy-source header added to a signed request is AccessDenied, nothing stored', async t => {
    const meta = signV4(s.credentials, 'PUT', '/bkt/added', host, {}, 'x')
    const res = await send(s.server.url, 'PUT', '/bkt/added', { ...meta.headers, 'x-amz-meta-injected': 'yes' }, 'x')
    t.equal(res.status, 403)
    t.equal(res.code, 'AccessDenied')
    t.match(res.text, /<HeadersNotSigned>x-amz-meta-injected<\/HeadersNotSigned>/)
    await absent(t, s, 'bkt', 'added')
    const copy = signV4(s.credentials, 'PUT', '/bkt/copied', host, {}, '')
    const turned = await send(s.server.url, 'PUT', '/bkt/copied', { ...copy.headers, 'x-amz-copy-source': '/bkt/hello.txt' }, '')
    t.equal(turned.code, 'AccessDenied', 'a PUT cannot be turned into a copy')
    await absent(t, s, 'bkt', 'copied')
  })

  t.test('the same headers signed are accepted', async t => {
    const meta = signV4(s.credentials, 'PUT', '/bkt/signedmeta', host, { 'x-amz-meta-injected': 'yes' }, 'x')
    t.equal((await send(s.server.url, 'PUT', '/bkt/signedmeta', meta.headers, 'x')).status, 200)
    t.equal((await s.box.headObject('bkt', 'signedmeta')).metadata.injected, 'yes')
  })

  t.test('a presigned URL refuses unsigned x-amz-* headers but tolerates x-amz-content-sha256, which it checks', async t => {
    const url = presignV4(s.credentials, 'PUT', '/bkt/presigned', host, 60)
    const acl = await send(s.server.url, 'PUT', url, { host, 'x-amz-acl': 'public-read' }, 'x')
    t.equal(acl.status, 403)
    t.equal(acl.code, 'AccessDenied')
    await absent(t, s, 'bkt', 'presigned')
    const wrongHash = await send(s.server.url, 'PUT', url, { host, 'x-amz-content-sha256': sha256('y') }, 'x')
    t.equal(wrongHash.code, 'XAmzContentSHA256Mismatch')
    await absent(t, s, 'bkt', 'presigned')
    const ok = await send(s.server.url, 'PUT', url, { host, 'x-amz-content-sha256': sha256('x') }, 'x')
    t.equal(ok.status, 200)
  })
})

t.test('anonymous requests', async t => {
  const s = await withBucket(t)
  await s.box.createBucket('pub', { acl: 'public-read' })
  await s.box.putObject('pub', 'open.txt', 'open', { acl: 'public-read' })

  t.test('are AccessDenied on a private bucket, whatever they ask', async t => {
    for (const [method, path] of [['GET', '/bkt/hello.txt'], ['GET', '/bkt'], ['GET', '/'], ['PUT', '/bkt/new.txt'], ['DELETE', '/bkt/hello.txt']] as const) {
      const res = await send(s.server.url, method, path, {}, method === 'PUT' ? 'x' : undefined)
      t.equal(res.status, 403, `${method} ${path}`)
      t.equal(res.code, 'AccessDenied', `${method} ${path}`)
    }
    await absent(t, s, 'bkt', 'new.txt')
    t.ok(await s.box.headObject('bkt', 'hello.txt'))
  })

  t.test('may GET and HEAD a public-read object, and list a public-read bucket', async t => {
    const get = await send(s.server.url, 'GET', '/pub/open.txt')
    t.equal(get.status, 200)
    t.equal(get.text, 'open')
    const head = await send(s.server.url, 'HEAD', '/pub/open.txt')
    t.equal(head.status, 200)
    t.equal(head.headers['content-length'], '4')
    const list = await send(s.server.url, 'GET', '/pub?list-type=2')
    t.equal(list.status, 200)
    t.match(list.text, /<Key>open\.txt<\/Key>/)
    const v1 = await send(s.server.url, 'GET', '/pub')
    t.equal(v1.status, 200)
    t.equal((await send(s.server.url, 'HEAD', '/pub')).status, 200)
    t.equal((await send(s.server.url, 'GET', '/pub/missing')).code, 'NoSuchKey')
  })

  t.test('may not PUT, DELETE or multipart into a public-read bucket', async t => {
    const put = await send(s.server.url, 'PUT', '/pub/new.txt', {}, 'x')
    t.equal(put.status, 403)
    t.equal(put.code, 'AccessDenied')
    await absent(t, s, 'pub', 'new.txt')
    const del = await send(s.server.url, 'DELETE', '/pub/open.txt')
    t.equal(del.status, 403)
    t.equal(del.code, 'AccessDenied')
    t.ok(await s.box.headObject('pub', 'open.txt'))
    const body = '<Delete><Object><Key>open.txt</Key></Object></Delete>'
    const many = await send(s.server.url, 'POST', '/pub?delete', { 'content-md5': md5Base64(body) }, body)
    t.equal(many.code, 'AccessDenied')
    const mpu = await send(s.server.url, 'POST', '/pub/big?uploads')
    t.equal(mpu.code, 'AccessDenied')
    t.equal((await send(s.server.url, 'DELETE', '/pub')).code, 'AccessDenied')
    t.ok(await s.box.headBucket('pub'))
  })
})

t.test('payload hashes', async t => {
  const s = await withBucket(t)
  const host = hostOf(s.server.url)

  t.test('a header-signed request without x-amz-content-sha256 is InvalidRequest', async t => {
    const signed = signV4(s.credentials, 'PUT', '/bkt/nosha', host, {}, 'data', { payload: null })
    const res = await send(s.server.url, 'PUT', '/bkt/nosha', signed.headers, 'data')
    t.equal(res.status, 400)
    t.equal(res.code, 'InvalidRequest')
    t.match(res.text, /x-amz-content-sha256/)
    await absent(t, s, 'bkt', 'nosha')
  })

  t.test('a body that does not hash to the declared x-amz-content-sha256 is XAmzContentSHA256Mismatch and is not stored', async t => {
    const signed = signV4(s.credentials, 'PUT', '/bkt/lie', host, {}, 'the declared body')
    const res = await send(s.server.url, 'PUT', '/bkt/lie', signed.headers, 'the sent body!!!!')
    t.equal(res.status, 400)
    t.equal(res.code, 'XAmzContentSHA256Mismatch')
    await absent(t, s, 'bkt', 'lie')
    const ok = signV4(s.credentials, 'PUT', '/bkt/truth', host, {}, 'honest')
    t.equal((await send(s.server.url, 'PUT', '/bkt/truth', ok.headers, 'honest')).status, 200)
  })

  t.test('UNSIGNED-PAYLOAD stores the body as sent', async t => {
    const signed = signV4(s.credentials, 'PUT', '/bkt/unsigned', host, {}, '', { payload: 'UNSIGNED-PAYLOAD' })
    t.equal((await send(s.server.url, 'PUT', '/bkt/unsigned', signed.headers, 'anything')).status, 200)
    t.equal((await s.box.headObject('bkt', 'unsigned')).size, 8)
  })
})

t.test('aws-chunked uploads', async t => {
  const s = await withBucket(t)
  const host = hostOf(s.server.url)
  const data = [Buffer.alloc(65536, 'a'), Buffer.alloc(1024, 'b')]
  const whole = Buffer.concat(data)

  function streamingPut (key: string, mode: string, extra: Record<string, string> = {}): { signed: ReturnType<typeof signV4>, headers: (length: number) => Record<string, string> } {
    const signed = signV4(s.credentials, 'PUT', `/bkt/${key}`, host, {
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(whole.length),
      ...extra
    }, '', { payload: mode })
    return { signed, headers: length => ({ ...signed.headers, 'content-length': String(length) }) }
  }

  t.test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD with chained chunk signatures is stored decoded', async t => {
    const { signed, headers } = streamingPut('signed', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD')
    const { body } = signedChunks(signed, data)
    const res = await send(s.server.url, 'PUT', '/bkt/signed', headers(body.length), body)
    t.equal(res.status, 200, res.text)
    const got = await s.box.getObject('bkt', 'signed')
    t.equal(got.info.size, whole.length)
    t.equal(got.info.contentEncoding, undefined, 'aws-chunked is not stored')
    got.body.destroy()
  })

  t.test('one flipped data byte fails its chunk signature: SignatureDoesNotMatch, nothing stored', async t => {
    const { signed, headers } = streamingPut('flipped', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD')
    const { body } = signedChunks(signed, data)
    const at = body.indexOf('\r\n') + 2 + 1000
    body[at] = 'z'.charCodeAt(0)
    const res = await send(s.server.url, 'PUT', '/bkt/flipped', headers(body.length), body)
    t.equal(res.status, 403)
    t.equal(res.code, 'SignatureDoesNotMatch')
    await absent(t, s, 'bkt', 'flipped')
  })

  t.test('a chunk signature out of the chain (the last one altered) is SignatureDoesNotMatch, nothing stored', async t => {
    const { signed, headers } = streamingPut('resigned', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD')
    const { body, signatures } = signedChunks(signed, data)
    const last = signatures.at(-1)!
    const text = body.toString('latin1').replace(last, (last[0] === '0' ? '1' : '0') + last.slice(1))
    const res = await send(s.server.url, 'PUT', '/bkt/resigned', headers(body.length), Buffer.from(text, 'latin1'))
    t.equal(res.status, 403)
    t.equal(res.code, 'SignatureDoesNotMatch')
    await absent(t, s, 'bkt', 'resigned')
  })

  t.test('a seed signature from another secret fails before any chunk is read', async t => {
    const { signed, headers } = streamingPut('foreign', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD')
    const other = signV4({ ...s.credentials, secretAccessKey: 'other' }, 'PUT', '/bkt/foreign', host, {
      'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(whole.length)
    }, '', { payload: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', time: Date.parse(`${signed.amzDate.slice(0, 4)}-${signed.amzDate.slice(4, 6)}-${signed.amzDate.slice(6, 8)}T${signed.amzDate.slice(9, 11)}:${signed.amzDate.slice(11, 13)}:${signed.amzDate.slice(13, 15)}Z`) })
    const { body } = signedChunks(other, data)
    const res = await send(s.server.url, 'PUT', '/bkt/foreign', { ...headers(body.length), authorization: other.headers.authorization! }, body)
    t.equal(res.status, 403)
    t.equal(res.code, 'SignatureDoesNotMatch')
    await absent(t, s, 'bkt', 'foreign')
  })

  t.test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER with a signed CRC32 trailer is stored, and its checksum kept', async t => {
    const { signed, headers } = streamingPut('trailed', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', { 'x-amz-trailer': 'x-amz-checksum-crc32' })
    const { body } = signedChunks(signed, data, ['x-amz-checksum-crc32', crc32Base64(whole)])
    const res = await send(s.server.url, 'PUT', '/bkt/trailed', headers(body.length), body)
    t.equal(res.status, 200, res.text)
    t.equal(res.headers['x-amz-checksum-crc32'], crc32Base64(whole))
    t.equal((await s.box.headObject('bkt', 'trailed')).checksums.CRC32, crc32Base64(whole))
  })

  t.test('a signed trailer whose signature does not match is SignatureDoesNotMatch, nothing stored', async t => {
    const { signed, headers } = streamingPut('badtrailer', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', { 'x-amz-trailer': 'x-amz-checksum-crc32' })
    const { body } = signedChunks(signed, data, ['x-amz-checksum-crc32', crc32Base64(whole)])
    const text = body.toString('latin1').replace(/x-amz-trailer-signature:(.)/, (_, c: string) => `x-amz-trailer-signature:${c === '0' ? '1' : '0'}`)
    const res = await send(s.server.url, 'PUT', '/bkt/badtrailer', headers(body.length), Buffer.from(text, 'latin1'))
    t.equal(res.status, 403)
    t.equal(res.code, 'SignatureDoesNotMatch')
    await absent(t, s, 'bkt', 'badtrailer')
  })

  t.test('STREAMING-UNSIGNED-PAYLOAD-TRAILER is stored when its CRC32 trailer is right', async t => {
    const { headers } = streamingPut('unsigned', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', { 'x-amz-trailer': 'x-amz-checksum-crc32' })
    const body = unsignedChunks(data, ['x-amz-checksum-crc32', crc32Base64(whole)])
    const res = await send(s.server.url, 'PUT', '/bkt/unsigned', headers(body.length), body)
    t.equal(res.status, 200, res.text)
    t.equal((await s.box.headObject('bkt', 'unsigned')).size, whole.length)
  })

  t.test('STREAMING-UNSIGNED-PAYLOAD-TRAILER with a wrong CRC32 trailer is BadDigest, nothing stored', async t => {
    const { headers } = streamingPut('wrongcrc', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', { 'x-amz-trailer': 'x-amz-checksum-crc32' })
    const body = unsignedChunks(data, ['x-amz-checksum-crc32', crc32Base64(Buffer.from('something else'))])
    const res = await send(s.server.url, 'PUT', '/bkt/wrongcrc', headers(body.length), body)
    t.equal(res.status, 400)
    t.equal(res.code, 'BadDigest')
    await absent(t, s, 'bkt', 'wrongcrc')
  })
})

t.test('SigV2', async t => {
  const s = await withBucket(t)
  const { accessKeyId, secretAccessKey } = s.credentials

  t.test('a header-signed GET and PUT work', async t => {
    const date = new Date().toUTCString()
    const get = await send(s.server.url, 'GET', '/bkt/hello.txt', { date, authorization: `AWS ${accessKeyId}:${signV2(secretAccessKey, 'GET', '', '', date, '', '/bkt/hello.txt')}` })
    t.equal(get.status, 200, get.text)
    t.equal(get.text, 'hello')
    const body = 'v2 body'
    const md5 = md5Base64(body)
    const amz = 'x-amz-meta-color:blue\n'
    const put = await send(s.server.url, 'PUT', '/bkt/v2.txt', {
      date,
      'content-md5': md5,
      'content-type': 'text/plain',
      'x-amz-meta-color': 'blue',
      authorization: `AWS ${accessKeyId}:${signV2(secretAccessKey, 'PUT', md5, 'text/plain', date, amz, '/bkt/v2.txt')}`
    }, body)
    t.equal(put.status, 200, put.text)
    const info = await s.box.headObject('bkt', 'v2.txt')
    t.equal(info.metadata.color, 'blue')
    t.equal(info.contentType, 'text/plain')
  })

  t.test('x-amz-date replaces Date, signed among the x-amz-* headers, and subresources are signed', async t => {
    const date = new Date().toUTCString()
    const sig = signV2(secretAccessKey, 'GET', '', '', '', `x-amz-date:${date}\n`, '/bkt?location')
    const res = await send(s.server.url, 'GET', '/bkt?location', { 'x-amz-date': date, authorization: `AWS ${accessKeyId}:${sig}` })
    t.equal(res.status, 200, res.text)
    t.match(res.text, /LocationConstraint/)
  })

  t.test('a bucket request signs its resource as /bucket/ (botocore, s3cmd), whether the path ends in a slash or not', async t => {
    const date = new Date().toUTCString()
    const request = async (path: string, signed: string, method = 'GET'): Promise<number> =>
      (await send(s.server.url, method, path, { date, authorization: `AWS ${accessKeyId}:${signV2(secretAccessKey, method, '', '', date, '', signed)}` })).status
    t.equal(await request('/bkt?list-type=2', '/bkt/'), 200, 'ListObjectsV2: list-type is not a signed sub-resource')
    t.equal(await request('/bkt', '/bkt/'), 200, 'ListObjects')
    t.equal(await request('/bkt?location', '/bkt/?location'), 200, 'GetBucketLocation')
    t.equal(await request('/bkt?uploads', '/bkt/?uploads'), 200, 'ListMultipartUploads')
    t.equal(await request('/bkt', '/bkt/', 'HEAD'), 200, 'HeadBucket')
    t.equal(await request('/bkt', '/bkt'), 200, 'the path as sent passes too')
    t.equal(await request('/bkt/', '/bkt/'), 200)
    t.equal(await request('/bkt?location', '/bkt/'), 403, 'a signed sub-resource left out')
    t.equal(await request('/bkt', '/other/'), 403, 'another bucket')
    t.equal(await request('/bkt/hello.txt', '/bkt/hello.txt/'), 403, 'an object\'s resource is exactly its path')
  })

  t.test('a presigned GET works until it expires', async t => {
    const expires = String(Math.floor(Date.now() / 1000) + 60)
    const sig = signV2(secretAccessKey, 'GET', '', '', expires, '', '/bkt/hello.txt')
    const res = await send(s.server.url, 'GET', `/bkt/hello.txt?AWSAccessKeyId=${accessKeyId}&Expires=${expires}&Signature=${uriEncode(sig)}`)
    t.equal(res.status, 200, res.text)
    t.equal(res.text, 'hello')
    const past = String(Math.floor(Date.now() / 1000) - 60)
    const old = signV2(secretAccessKey, 'GET', '', '', past, '', '/bkt/hello.txt')
    const expired = await send(s.server.url, 'GET', `/bkt/hello.txt?AWSAccessKeyId=${accessKeyId}&Expires=${past}&Signature=${uriEncode(old)}`)
    t.equal(expired.status, 403)
    t.equal(expired.code, 'AccessDenied')
  })

  t.test('a wrong SigV2 signature is SignatureDoesNotMatch, header or query', async t => {
    const date = new Date().toUTCString()
    const wrong = signV2('not the secret', 'GET', '', '', date, '', '/bkt/hello.txt')
    const res = await send(s.server.url, 'GET', '/bkt/hello.txt', { date, authorization: `AWS ${accessKeyId}:${wrong}` })
    t.equal(res.status, 403)
    t.equal(res.code, 'SignatureDoesNotMatch')
    const expires = String(Math.floor(Date.now() / 1000) + 60)
    const other = signV2(secretAccessKey, 'GET', '', '', expires, '', '/bkt/other.txt')
    const query = await send(s.server.url, 'GET', `/bkt/hello.txt?AWSAccessKeyId=${accessKeyId}&Expires=${expires}&Signature=${uriEncode(other)}`)
    t.equal(query.status, 403)
    t.equal(query.code, 'SignatureDoesNotMatch')
  })

  t.test('a SigV2 PUT whose body differs from its Content-MD5 is BadDigest, nothing stored', async t => {
    const date = new Date().toUTCString()
    const md5 = md5Base64('one body')
    const put = await send(s.server.url, 'PUT', '/bkt/v2bad.txt', {
      date, 'content-md5': md5, authorization: `AWS ${accessKeyId}:${signV2(secretAccessKey, 'PUT', md5, '', date, '', '/bkt/v2bad.txt')}`
    }, 'another body')
    t.equal(put.status, 400)
    t.equal(put.code, 'BadDigest')
    await absent(t, s, 'bkt', 'v2bad.txt')
  })
})

t.test('an Authorization scheme S3 does not know is a 400 with an error body, never a body-less 400', async t => {
  const s = await withBucket(t)
  for (const authorization of ['Bearer x', 'Basic dXNlcjpwYXNz', 'AWS4-HMAC-SHA256 garbage']) {
    const res = await send(s.server.url, 'GET', '/bkt/hello.txt', { authorization })
    t.equal(res.status, 400, authorization)
    t.ok(res.code !== '', `${authorization}: ${res.code}`)
    t.equal(res.headers['content-type'], 'application/xml')
  }
})

t.test('header values sent as raw UTF-8 bytes are signed as UTF-8, SigV4 and SigV2 alike', async t => {
  const s = await withBucket(t)
  const host = hostOf(s.server.url)
  const value = 'café ✓ 日本'
  // What goes on the wire: the UTF-8 bytes, which node:http hands to the server one latin-1 character
  // each. (Bodies are Buffers: node:http sends headers with a string body in the body's encoding.)
  const wire = Buffer.from(value, 'utf8').toString('latin1')
  const x = Buffer.from('x')
  const v4 = signV4(s.credentials, 'PUT', '/bkt/utf8-v4', host, { 'x-amz-meta-name': value }, 'x')
  const put4 = await send(s.server.url, 'PUT', '/bkt/utf8-v4', { ...v4.headers, 'x-amz-meta-name': wire }, x)
  t.equal(put4.status, 200, put4.text)
  t.equal((await s.box.headObject('bkt', 'utf8-v4')).metadata.name, value)
  const date = new Date().toUTCString()
  const { accessKeyId, secretAccessKey } = s.credentials
  const sig = signV2(secretAccessKey, 'PUT', '', '', date, `x-amz-meta-name:${value}\n`, '/bkt/utf8-v2')
  const put2 = await send(s.server.url, 'PUT', '/bkt/utf8-v2', { date, 'x-amz-meta-name': wire, authorization: `AWS ${accessKeyId}:${sig}` }, x)
  t.equal(put2.status, 200, put2.text)
  t.equal((await s.box.headObject('bkt', 'utf8-v2')).metadata.name, value)
  const get = await sendSigned(s.server.url, s.credentials, 'GET', '/bkt/utf8-v4')
  t.equal(get.headers['x-amz-meta-name'], `=?UTF-8?B?${Buffer.from(value).toString('base64')}?=`, 'answered RFC 2047-encoded, as S3 does')
  const forged = await send(s.server.url, 'PUT', '/bkt/utf8-v4', { ...v4.headers, 'x-amz-meta-name': Buffer.from('cafe ✓ 日本', 'utf8').toString('latin1') }, x)
  t.equal(forged.code, 'SignatureDoesNotMatch', 'another value is another signature')
})
