import t, { type Test } from 'tap'
import { serve, type Served } from './helpers.js'
import { hostOf, md5Base64, rawExchange, send, signV4, type Reply } from './wire.js'

/** A signed request over node:http: the body hashed into the signature, Content-MD5 when asked. */
async function signed (s: Served, method: string, path: string, headers: Record<string, string> = {}, body: string | Buffer = ''): Promise<Reply> {
  const host = hostOf(s.server.url)
  const sig = signV4(s.credentials, method, path, host, headers, body)
  return await send(s.server.url, method, path, sig.headers, method === 'GET' || method === 'HEAD' ? undefined : body)
}

/** Every error answer: the status, the Code, the request id in header and body, application/xml. */
function isError (t: Test, res: Reply, status: number, code: string, label = code): void {
  t.equal(res.status, status, `${label}: status`)
  t.equal(res.code, code, `${label}: code`)
  t.equal(res.headers['content-type'], 'application/xml', `${label}: content-type`)
  const id = /<RequestId>([^<]*)<\/RequestId>/.exec(res.text)?.[1]
  t.ok(id !== undefined && id !== '', `${label}: a RequestId`)
  t.equal(res.headers['x-amz-request-id'], id, `${label}: x-amz-request-id is the body's RequestId`)
}

async function absent (t: Test, s: Served, bucket: string, key: string): Promise<void> {
  await t.rejects(s.box.headObject(bucket, key), { code: 'NoSuchKey' }, `${key} was not stored`)
}

t.test('XML bodies', async t => {
  const s = await serve(t)
  await s.box.createBucket('bkt')
  await s.box.putObject('bkt', 'keep', 'x')
  const { uploadId } = await s.box.createMultipartUpload('bkt', 'mpu')

  const broken = ['<Delete><Object><Key>keep</Key></Object>', 'not xml at all', '<Other><Object><Key>keep</Key></Object></Other>', '<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>', '']
  t.test('malformed DeleteObjects bodies are MalformedXML and delete nothing', async t => {
    for (const body of broken) {
      const res = await signed(s, 'POST', '/bkt?delete', { 'content-md5': md5Base64(body) }, body)
      isError(t, res, 400, 'MalformedXML', JSON.stringify(body))
    }
    t.ok(await s.box.headObject('bkt', 'keep'))
  })

  t.test('malformed CompleteMultipartUpload bodies are MalformedXML and leave the upload open', async t => {
    for (const body of ['<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>', 'garbage', '<CompleteMultipartUpload></CompleteMultipartUpload>', '']) {
      const res = await signed(s, 'POST', `/bkt/mpu?uploadId=${uploadId}`, {}, body)
      isError(t, res, 400, 'MalformedXML', JSON.stringify(body))
    }
    t.equal((await s.box.listMultipartUploads('bkt')).uploads.length, 1)
    await absent(t, s, 'bkt', 'mpu')
  })

  t.test('malformed PutBucketCors bodies are MalformedXML and set nothing', async t => {
    for (const body of ['<CORSConfiguration><CORSRule>', 'nope', '<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>']) {
      const res = await signed(s, 'PUT', '/bkt?cors', { 'content-md5': md5Base64(body) }, body)
      isError(t, res, 400, 'MalformedXML', JSON.stringify(body))
    }
    await t.rejects(s.box.getBucketCors('bkt'), { code: 'NoSuchCORSConfiguration' })
  })

  t.test('a DOCTYPE with entities (billion laughs) is refused at once', async t => {
    const lol = [
      '<?xml version="1.0"?>',
      '<!DOCTYPE lolz [<!ENTITY lol "lol">',
      ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
      ']>',
      '<Delete><Object><Key>&lol9;</Key></Object></Delete>'
    ].join('\n')
    const started = Date.now()
    const res = await signed(s, 'POST', '/bkt?delete', { 'content-md5': md5Base64(lol) }, lol)
    isError(t, res, 400, 'MalformedXML')
    t.ok(Date.now() - started < 1000, 'quickly')
    const external = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>'
    isError(t, await signed(s, 'POST', '/bkt?delete', { 'content-md5': md5Base64(external) }, external), 400, 'MalformedXML', 'an external entity')
  })

  t.test('a DeleteObjects body over 2 MiB is MaxMessageLengthExceeded, and the server goes on serving', async t => {
    const big = '<Delete>' + '<Object><Key>k</Key></Object>'.repeat(80_000) + '</Delete>'
    t.ok(big.length > 2 * 1024 * 1024)
    isError(t, await signed(s, 'POST', '/bkt?delete', { 'content-md5': md5Base64(big) }, big), 400, 'MaxMessageLengthExceeded')
    t.equal((await signed(s, 'GET', '/bkt/keep')).status, 200)
  })
})

t.test('hostile requests', async t => {
  const s = await serve(t)
  await s.box.createBucket('bkt')
  await s.box.putObject('bkt', 'ten', '0123456789')
  const host = hostOf(s.server.url)

  t.test('a path with broken percent-encoding is InvalidURI', async t => {
    for (const path of ['/bkt/%ZZ', '/bkt/a%', '/bkt/%C3%28', '/%E0%A4%A']) {
      isError(t, await signed(s, 'GET', path), 400, 'InvalidURI', path)
    }
  })

  t.test('a body shorter than its Content-Length, then a closed connection, stores nothing and the server serves on', async t => {
    const sig = signV4(s.credentials, 'PUT', '/bkt/short', host, { 'content-length': '100000' }, '', { payload: 'UNSIGNED-PAYLOAD' })
    const head = ['PUT /bkt/short HTTP/1.1', ...Object.entries(sig.headers).map(([n, v]) => `${n}: ${v}`), '', ''].join('\r\n')
    await rawExchange(s.server.url, head + 'x'.repeat(1000), { end: 'destroy' })
    await new Promise(resolve => setTimeout(resolve, 100))
    await absent(t, s, 'bkt', 'short')
    const half = await rawExchange(s.server.url, head + 'x'.repeat(1000), { end: 'half', waitMs: 1000 })
    t.notMatch(half, /^HTTP\/1\.1 200/, 'a half-closed short body is not a success')
    await absent(t, s, 'bkt', 'short')
    t.equal((await signed(s, 'GET', '/bkt/ten')).text, '0123456789')
  })

  t.test('a PUT refused before its body is read, whose client then goes away, leaves the server serving', async t => {
    const reader = await s.keyed([{ bucket: 'bkt', permission: 'read' }])
    for (const payload of ['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']) {
      const sig = signV4(reader, 'PUT', '/bkt/refused', host, { 'content-length': '100000', 'x-amz-trailer': 'x-amz-checksum-crc32' }, '', { payload })
      const head = ['PUT /bkt/refused HTTP/1.1', ...Object.entries(sig.headers).map(([n, v]) => `${n}: ${v}`), '', ''].join('\r\n')
      const answer = await rawExchange(s.server.url, head + '1000\r\n' + 'x'.repeat(500), { waitMs: 500 })
      t.match(answer, /^HTTP\/1\.1 403/, `${payload}: AccessDenied without waiting for the body`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    await absent(t, s, 'bkt', 'refused')
    t.equal((await signed(s, 'GET', '/bkt/ten')).text, '0123456789')
  })

  t.test('an aws-chunked body cut off mid-chunk stores nothing', async t => {
    const sig = signV4(s.credentials, 'PUT', '/bkt/cut', host, { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '1000', 'x-amz-trailer': 'x-amz-checksum-crc32', 'transfer-encoding': 'chunked' }, '', { payload: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' })
    const head = ['PUT /bkt/cut HTTP/1.1', ...Object.entries(sig.headers).map(([n, v]) => `${n}: ${v}`), '', ''].join('\r\n')
    const inner = `3e8\r\n${'y'.repeat(400)}`
    await rawExchange(s.server.url, head + `${inner.length.toString(16)}\r\n${inner}\r\n`, { end: 'destroy' })
    await new Promise(resolve => setTimeout(resolve, 100))
    await absent(t, s, 'bkt', 'cut')
    const complete = await rawExchange(s.server.url, head + `${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`, { waitMs: 1000 })
    t.match(complete, /^HTTP\/1\.1 400/, 'an HTTP body that ends inside an aws-chunk is a 400')
    await absent(t, s, 'bkt', 'cut')
  })

  t.test('an aws-chunked body with a garbage hex size is a 400 and stores nothing', async t => {
    for (const size of ['zz', '-1', '0x10', '']) {
      const body = `${size}\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n`
      const sig = signV4(s.credentials, 'PUT', '/bkt/hex', host, { 'content-encoding': 'aws-chunked', 'x-amz-trailer': 'x-amz-checksum-crc32' }, '', { payload: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' })
      const raw = await send(s.server.url, 'PUT', '/bkt/hex', sig.headers, body)
      t.equal(raw.status, 400, `size ${JSON.stringify(size)}: ${raw.code}`)
      t.ok(raw.code !== '', `size ${JSON.stringify(size)}: an error body`)
      await absent(t, s, 'bkt', 'hex')
    }
  })

  t.test('Range forms S3 ignores give the whole object; unsatisfiable ones are 416 InvalidRange', async t => {
    const cases: Array<[string, number, string]> = [
      ['bytes=2-4', 206, '234'],
      ['bytes=7-', 206, '789'],
      ['bytes=-3', 206, '789'],
      ['bytes=5-100', 206, '56789'],
      ['bytes=-100', 206, '0123456789'],
      ['bytes=4-2', 200, '0123456789'],
      ['bytes=0-1,4-5', 200, '0123456789'],
      ['items=0-1', 200, '0123456789'],
      ['bytes=a-b', 200, '0123456789'],
      ['bytes=-', 200, '0123456789'],
      ['garbage', 200, '0123456789']
    ]
    for (const [range, status, text] of cases) {
      const res = await signed(s, 'GET', '/bkt/ten', { range })
      t.equal(res.status, status, range)
      t.equal(res.text, text, range)
    }
    for (const range of ['bytes=10-', 'bytes=10-20', 'bytes=-0']) {
      const res = await signed(s, 'GET', '/bkt/ten', { range })
      isError(t, res, 416, 'InvalidRange', range)
      t.equal(res.headers['content-range'], 'bytes */10', `${range}: Content-Range`)
    }
  })

  t.test('a key over 1024 bytes is KeyTooLongError and stores nothing', async t => {
    const key = 'k'.repeat(1025)
    isError(t, await signed(s, 'PUT', `/bkt/${key}`, {}, 'x'), 400, 'KeyTooLongError')
    const multibyte = 'é'.repeat(513)
    isError(t, await signed(s, 'PUT', `/bkt/${encodeURIComponent(multibyte)}`, {}, 'x'), 400, 'KeyTooLongError', '1026 bytes in 513 characters')
    t.equal((await s.box.listObjectsV2('bkt')).keyCount, 1)
    t.equal((await signed(s, 'PUT', `/bkt/${'k'.repeat(1024)}`, {}, 'x')).status, 200, '1024 bytes is fine')
  })

  t.test('user metadata over 2 KB is MetadataTooLarge and stores nothing', async t => {
    isError(t, await signed(s, 'PUT', '/bkt/meta', { 'x-amz-meta-big': 'v'.repeat(2100) }, 'x'), 400, 'MetadataTooLarge')
    isError(t, await signed(s, 'PUT', '/bkt/meta', Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x-amz-meta-m${i}`, 'v'.repeat(70)])), 'x'), 400, 'MetadataTooLarge', 'many headers')
    await absent(t, s, 'bkt', 'meta')
    isError(t, await signed(s, 'POST', '/bkt/meta?uploads', { 'x-amz-meta-big': 'v'.repeat(2100) }), 400, 'MetadataTooLarge', 'CreateMultipartUpload')
  })

  t.test('an unknown method is 405 MethodNotAllowed', async t => {
    for (const method of ['PATCH', 'PROPFIND']) {
      isError(t, await signed(s, method, '/bkt/ten'), 405, 'MethodNotAllowed', method)
    }
    isError(t, await signed(s, 'PATCH', '/bkt'), 405, 'MethodNotAllowed', 'on a bucket')
  })

  t.test('subresources spacebox lacks are 501 NotImplemented, never a wrong success', async t => {
    for (const [method, path] of [['GET', '/bkt?logging'], ['GET', '/bkt/ten?retention'], ['PUT', '/bkt/ten?legal-hold'], ['GET', '/bkt?replication'], ['GET', '/bkt?publicAccessBlock']]) {
      isError(t, await signed(s, method!, path!), 501, 'NotImplemented', `${method} ${path}`)
    }
    t.equal((await s.box.headObject('bkt', 'ten')).size, 10, 'the PUT ?legal-hold did not overwrite the object')
  })

  t.test('HEAD errors carry the status and request id but no body', async t => {
    for (const [path, status] of [['/bkt/missing', 404], ['/nobucket', 404], ['/nobucket/k', 404]] as const) {
      const res = await signed(s, 'HEAD', path)
      t.equal(res.status, status, path)
      t.equal(res.body.length, 0, `${path}: no body`)
      t.ok(res.headers['x-amz-request-id'], `${path}: a request id`)
    }
    const anonymous = await send(s.server.url, 'HEAD', '/bkt/ten')
    t.equal(anonymous.status, 403)
    t.equal(anonymous.body.length, 0)
    const bad = await send(s.server.url, 'HEAD', '/bkt/ten', { authorization: 'Bearer x' })
    t.equal(bad.status, 400)
    t.equal(bad.body.length, 0, 'a HEAD 400 has no body either')
  })

  t.test('GET errors all carry the request id in header and body', async t => {
    isError(t, await signed(s, 'GET', '/bkt/missing'), 404, 'NoSuchKey')
    isError(t, await signed(s, 'GET', '/nobucket?list-type=2'), 404, 'NoSuchBucket')
    isError(t, await send(s.server.url, 'GET', '/bkt/ten'), 403, 'AccessDenied', 'anonymous')
    isError(t, await send(s.server.url, 'GET', '/bkt/ten', { authorization: 'AWS4-HMAC-SHA256 Credential=x' }), 400, 'AuthorizationHeaderMalformed')
    isError(t, await signed(s, 'PUT', '/bkt/ten?partNumber=1&uploadId=nope', {}, 'x'), 404, 'NoSuchUpload')
  })
})
