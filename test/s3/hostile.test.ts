// Hostile clients over HTTP: slow-loris headers and bodies, thousands of idle connections, the
// connection cap, oversized headers, lying Content-Lengths, 10,000 parts, malformed ranges, huge
// and deeply nested XML, keys with control characters. Each must get the right S3 error or a
// closed connection, within a bounded time, with nothing stored and the server serving others.
// The timeouts are configured small here; their defaults are checked against what README states.
//
//   npx tap --disable-coverage test/s3/hostile.test.ts                      # 2000 idle connections
//   SPACEBOX_LONG_TESTS=1 npx tap --disable-coverage test/s3/hostile.test.ts  # 5000
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { MAX_XML_BYTES } from '../../lib/s3/xml.js'
import { Faults } from '../../lib/s3/index.js'
import { readAll, rssWatch } from '../helpers.js'
import { serve, type Served } from './helpers.js'
import { hostOf, md5Base64, send, sendSigned, signedHead, signV4, uriEncode, type Reply } from './wire.js'

const KiB = 1024
const MiB = 1024 * KiB
/** Idle connections held open at once (each is two file descriptors in this process). */
const IDLE = process.env.SPACEBOX_LONG_TESTS === '1' ? 5000 : 2000

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

async function signed (s: Served, method: string, path: string, headers: Record<string, string> = {}, body: string | Buffer = ''): Promise<Reply> {
  return await sendSigned(s.server.url, s.credentials, method, path, headers, body)
}

/** An S3 error answer: status, Code, and the request id in header and body. */
function isError (t: Test, res: Reply, status: number, code: string, label = code): void {
  t.equal(res.status, status, `${label}: status`)
  t.equal(res.code, code, `${label}: code`)
  t.match(res.text, /<RequestId>[0-9A-F]+<\/RequestId>/, `${label}: a RequestId`)
}

/** The server still answers a plain signed GET. */
async function serving (t: Test, s: Served, label = 'the server still serves others'): Promise<void> {
  const started = Date.now()
  const res = await signed(s, 'GET', '/bkt/ten')
  t.ok(res.status === 200 && res.text === '0123456789' && Date.now() - started < 2000, `${label} (${res.status} in ${Date.now() - started} ms)`)
}

async function keysOf (s: Served, bucket: string): Promise<string[]> {
  const keys: string[] = []
  for await (const { key } of s.box.listAll(bucket)) keys.push(key)
  return keys
}

async function absent (t: Test, s: Served, key: string, bucket = 'bkt'): Promise<void> {
  await t.rejects(s.box.headObject(bucket, key), { code: 'NoSuchKey' }, `${JSON.stringify(key)} was not stored`)
}

/** How many connections the server holds. */
async function connectionsOf (s: Served): Promise<number> {
  return await new Promise((resolve, reject) => s.server.server.getConnections((err, n) => { err === null ? resolve(n) : reject(err) }))
}

/** A store served with `options`, holding bucket `bkt` with the 10-byte object `ten`. */
async function hostileServer (t: Test, options: Parameters<typeof serve>[1] = {}): Promise<Served> {
  const s = await serve(t, options)
  await s.box.createBucket('bkt')
  await s.box.putObject('bkt', 'ten', '0123456789')
  return s
}

interface Connection {
  socket: Socket
  /** What the server has sent so far. */
  received: () => string
  /** Resolves once the server has closed the connection: after how long, and what it sent. */
  closed: Promise<{ ms: number, answer: string }>
}

/** A bare connection; `closed` times it from the connect. */
async function open (url: string): Promise<Connection> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  const pieces: Buffer[] = []
  socket.on('data', (piece: Buffer) => pieces.push(piece))
  let started = Date.now()
  const closed = new Promise<{ ms: number, answer: string }>(resolve => {
    socket.on('error', () => {})
    socket.on('close', () => { resolve({ ms: Date.now() - started, answer: Buffer.concat(pieces).toString('latin1') }) })
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => { started = Date.now(); resolve() })
    socket.once('error', reject)
  })
  return { socket, closed, received: () => Buffer.concat(pieces).toString('latin1') }
}

/** What the server has sent once it matches `pattern` (or the connection closed, or 2 s passed). */
async function answerMatching (c: Connection, pattern: RegExp): Promise<string> {
  for (let waited = 0; !pattern.test(c.received()) && !c.socket.destroyed && waited < 2000; waited += 10) await sleep(10)
  return c.received()
}

/** Write `text` a byte at a time, `everyMs` apart, then keep trickling header bytes until the server closes. */
function trickle (c: Connection, text: string, everyMs: number): void {
  let i = 0
  const timer = setInterval(() => {
    if (c.socket.destroyed) {
      clearInterval(timer)
      return
    }
    c.socket.write(i < text.length ? text[i++]! : 'x')
  }, everyMs)
  c.closed.then(() => { clearInterval(timer) }, () => {})
}

t.test('the timeouts and limits default to what README states', async t => {
  const s = await serve(t)
  const server = s.server.server
  t.equal(server.headersTimeout, 20_000, 'headers within 20 s')
  t.equal(server.timeout, 60_000, 'a connection silent for 60 s is closed')
  t.equal((server as typeof server & { maxHeaderSize?: number }).maxHeaderSize, 16 * KiB, 'request line and headers up to 16 KiB')
  t.equal(server.maxConnections, 1024, 'up to 1024 connections')
  t.equal(server.keepAliveTimeout, 5_000, 'idle keep-alive connections closed after 5 s')
  t.equal(server.requestTimeout, 0, 'no limit on a whole request: uploads of gigabytes take long')
  t.equal(MAX_XML_BYTES, MiB, 'XML bodies up to 1 MiB (2 MiB for DeleteObjects and CompleteMultipartUpload)')
})

t.test('slow-loris headers', async t => {
  const s = await hostileServer(t, { server: { headersTimeout: 1000 } })
  const host = hostOf(s.server.url)

  t.test('headers trickled slower than the header timeout are cut with 408 in bounded time; slow ones within it are served', async t => {
    const lorises = await Promise.all(Array.from({ length: 20 }, async () => await open(s.server.url)))
    for (const c of lorises) trickle(c, `GET /bkt/ten HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `, 50)
    const silent = await open(s.server.url)
    // A whole request spread over ~500 ms, within the timeout.
    const patient = await open(s.server.url)
    const head = signedHead(s.server.url, s.credentials, 'GET', '/bkt/ten', { connection: 'close' })
    const step = Math.ceil(head.length / 10)
    for (let i = 0; i < head.length; i += step) {
      patient.socket.write(head.slice(i, i + step))
      await sleep(50)
      if (i % (step * 3) === 0) await serving(t, s, 'a normal client is served meanwhile')
    }
    t.match((await patient.closed).answer, /^HTTP\/1\.1 200 [^]*0123456789$/, 'headers sent over ~500 ms are answered 200')
    for (const { ms, answer } of await Promise.all(lorises.map(async c => await c.closed))) {
      t.ok(ms >= 900 && ms < 2500, `a trickle was cut after ${ms} ms (timeout 1000 ms)`)
      t.match(answer, /^HTTP\/1\.1 408 /, 'with 408 Request Timeout')
    }
    const { ms, answer } = await silent.closed
    t.ok(ms >= 900 && ms < 2500, `a connection that sent nothing was closed after ${ms} ms`)
    t.match(answer, /^(HTTP\/1\.1 408 |$)/, '408, or nothing')
    await serving(t, s)
  })
})

t.test('stalled and slow bodies', async t => {
  const faults = new Faults(1)
  const s = await hostileServer(t, { server: { idleTimeout: 500, faults } })
  const url = s.server.url

  t.test('a body that stops arriving is dropped after the idle timeout, and nothing is stored', async t => {
    const bodies: Array<[string, Record<string, string>, string, string]> = [
      ['UNSIGNED-PAYLOAD', { 'content-length': '100000' }, 'UNSIGNED-PAYLOAD', 'x'.repeat(1000)],
      ['a signed payload hash', { 'content-length': '100000' }, createHash('sha256').update('y'.repeat(100000)).digest('hex'), 'y'.repeat(1000)],
      ['aws-chunked, mid-chunk', { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5000', 'x-amz-trailer': 'x-amz-checksum-crc32', 'transfer-encoding': 'chunked' }, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', `400\r\n1388\r\n${'z'.repeat(1000)}\r\n`],
      ['no body byte at all', { 'content-length': '10' }, 'UNSIGNED-PAYLOAD', '']
    ]
    await Promise.all(bodies.map(async ([label, headers, payload, sent]) => {
      const key = `stalled-${label.replace(/\W+/g, '-')}`
      const c = await open(url)
      c.socket.write(signedHead(url, s.credentials, 'PUT', `/bkt/${key}`, headers, { payload }) + sent)
      const { ms, answer } = await c.closed
      t.ok(ms >= 450 && ms < 2000, `${label}: dropped after ${ms} ms (idle timeout 500 ms)`)
      t.equal(answer, '', `${label}: without an answer`)
      await absent(t, s, key)
    }))
    await serving(t, s)
  })

  t.test('a slow but live upload is not cut, however long it takes in all', async t => {
    const c = await open(url)
    const body = Buffer.alloc(6 * KiB, 'l')
    c.socket.write(signedHead(url, s.credentials, 'PUT', '/bkt/live', { 'content-length': String(body.length), connection: 'close' }, { payload: 'UNSIGNED-PAYLOAD' }))
    const started = Date.now()
    for (let i = 0; i < body.length; i += KiB) {
      c.socket.write(body.subarray(i, i + KiB))
      await sleep(300)
    }
    const { answer } = await c.closed
    t.ok(Date.now() - started > 1500, `${Date.now() - started} ms in all, three times the idle timeout`)
    t.match(answer, /^HTTP\/1\.1 200 /, 'answered 200')
    t.equal((await s.box.headObject('bkt', 'live')).size, body.length, 'stored whole')
  })

  t.test('a reader that stops reading is dropped after the idle timeout', async t => {
    await s.box.putObject('bkt', 'large', Buffer.alloc(32 * MiB, 7))
    const c = await open(url)
    c.socket.write(signedHead(url, s.credentials, 'GET', '/bkt/large'))
    await new Promise(resolve => c.socket.once('data', resolve))
    c.socket.pause()
    const started = Date.now()
    while (await connectionsOf(s) > 0 && Date.now() - started < 5000) await sleep(50)
    const ms = Date.now() - started
    t.ok(ms >= 400 && ms < 2500, `the server let go of it after ${ms} ms`)
    c.socket.destroy()
    await serving(t, s)
  })

  t.test('time the server spends on its own work does not count as idle', async t => {
    faults.add({ operation: 'CopyObject', latencyMs: 1200, times: 1 })
    const started = Date.now()
    const res = await signed(s, 'PUT', '/bkt/copy', { 'x-amz-copy-source': '/bkt/ten' })
    t.equal(res.status, 200, `a copy answered after ${Date.now() - started} ms, more than twice the idle timeout`)
    t.equal((await s.box.headObject('bkt', 'copy')).size, 10)
  })
})

t.test('thousands of idle connections do not stop a normal client being served', async t => {
  const s = await hostileServer(t, { server: { maxConnections: IDLE + 100 } })
  const idle: Connection[] = []
  t.teardown(() => { for (const c of idle) c.socket.destroy() })
  // In batches: a burst of thousands of SYNs would overflow the listen backlog.
  for (let i = 0; i < IDLE; i += 250) idle.push(...await Promise.all(Array.from({ length: 250 }, async () => await open(s.server.url))))
  for (let waited = 0; await connectionsOf(s) < IDLE && waited < 5000; waited += 20) await sleep(20)
  t.equal(await connectionsOf(s), IDLE, `the server holds ${IDLE} idle connections`)
  for (let i = 0; i < 3; i++) await serving(t, s, 'a normal client is served at once')
})

t.test('the connection cap is respected; the header timeout frees the slots idle clients hold', async t => {
  const s = await hostileServer(t, { server: { maxConnections: 50, headersTimeout: 1000 } })
  const opened = await Promise.all(Array.from({ length: 200 }, async () => await open(s.server.url)))
  t.teardown(() => { for (const c of opened) c.socket.destroy() })
  let most = 0
  const watch = setInterval(() => { connectionsOf(s).then(n => { most = Math.max(most, n) }, () => {}) }, 5)
  const dropped = await Promise.all(opened.map(async c => await Promise.race([c.closed, sleep(500).then(() => undefined)])))
  const refused = dropped.filter(d => d !== undefined)
  t.equal(refused.length, 150, 'the 150 connections over the cap of 50 were closed at once')
  t.ok(refused.every(d => d.answer === '' && d.ms < 500), 'without an answer')
  await t.rejects(signed(s, 'GET', '/bkt/ten'), 'a client finding every slot taken is refused')
  const started = Date.now()
  let res: Reply | undefined
  while (res === undefined && Date.now() - started < 5000) res = await signed(s, 'GET', '/bkt/ten').catch(async () => { await sleep(50); return undefined })
  clearInterval(watch)
  t.equal(res?.status, 200, `served ${Date.now() - started} ms later, once the idle connections timed out`)
  t.ok(most <= 50, `never more than 50 connections held (most: ${most})`)
})

t.test('oversized headers are 431 and the connection is closed', async t => {
  const s = await hostileServer(t)
  const url = s.server.url
  const host = hostOf(url)

  t.test('request line and headers just under 16 KiB are served', async t => {
    const head = signedHead(url, s.credentials, 'GET', '/bkt/ten', { connection: 'close' })
    const filler = 16 * KiB - head.length - 'x-filler: \r\n'.length - 8
    const res = await signed(s, 'GET', '/bkt/ten', { 'x-filler': 'f'.repeat(filler) })
    t.equal(res.status, 200, `${head.length + filler} bytes of headers`)
  })

  const cases: Array<[string, string]> = [
    ['one 17 KiB header', `GET /bkt/ten HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'b'.repeat(17 * KiB)}\r\n\r\n`],
    ['a thousand small headers', `GET /bkt/ten HTTP/1.1\r\nHost: ${host}\r\n${Array.from({ length: 1000 }, (_, i) => `X-H${i}: vvvvvvvvvvvvvvvv\r\n`).join('')}\r\n`],
    ['a 20 KiB URL', `GET /bkt/${'k'.repeat(20 * KiB)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`],
    ['headers that never end', `PUT /bkt/never HTTP/1.1\r\nHost: ${host}\r\n${'X-More: yes\r\n'.repeat(4000)}`]
  ]
  for (const [label, request] of cases) {
    t.test(`${label}: 431 and closed`, async t => {
      const c = await open(url)
      c.socket.write(request)
      const { ms, answer } = await c.closed
      t.match(answer, /^HTTP\/1\.1 431 /, 'Request Header Fields Too Large')
      t.ok(ms < 1000, `closed after ${ms} ms`)
      await absent(t, s, 'never')
      await serving(t, s)
    })
  }

  t.test('a smaller configured maxHeaderSize is enforced at its edge', async t => {
    const small = await hostileServer(t, { server: { maxHeaderSize: 4 * KiB } })
    const head = signedHead(small.server.url, small.credentials, 'GET', '/bkt/ten', { connection: 'close' })
    const fits = 4 * KiB - head.length - 'x-filler: \r\n'.length - 8
    t.equal((await signed(small, 'GET', '/bkt/ten', { 'x-filler': 'f'.repeat(fits) })).status, 200, 'just under 4 KiB: served')
    const c = await open(small.server.url)
    c.socket.write(`GET /bkt/ten HTTP/1.1\r\nHost: ${hostOf(small.server.url)}\r\nX-Big: ${'b'.repeat(4 * KiB)}\r\n\r\n`)
    t.match((await c.closed).answer, /^HTTP\/1\.1 431 /, 'just over: 431')
  })
})

t.test('a Content-Length that lies', async t => {
  const s = await hostileServer(t)
  const url = s.server.url
  const full = Buffer.alloc(100_000, 'p')
  const sha = createHash('sha256').update(full).digest('hex')

  t.test('more declared than sent, then the connection ends: nothing is stored, in any payload mode', async t => {
    const modes: Array<[string, Record<string, string>, string, string]> = [
      ['UNSIGNED-PAYLOAD', { 'content-length': '100000' }, 'UNSIGNED-PAYLOAD', 'p'.repeat(60_000)],
      ['a signed payload hash', { 'content-length': '100000' }, sha, 'p'.repeat(60_000)],
      ['aws-chunked', { 'content-length': '100100', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '100000', 'x-amz-trailer': 'x-amz-checksum-crc32' }, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', `186a0\r\n${'p'.repeat(60_000)}`]
    ]
    for (const [label, headers, payload, sent] of modes) {
      for (const end of ['destroy', 'half'] as const) {
        const key = `short-${end}-${label.replace(/\W+/g, '-')}`
        const c = await open(url)
        c.socket.write(signedHead(url, s.credentials, 'PUT', `/bkt/${key}`, headers, { payload }) + sent, () => {
          if (end === 'half') c.socket.end()
          else c.socket.destroy()
        })
        const { ms, answer } = await c.closed
        t.ok(ms < 1000, `${label}, ${end}: over in ${ms} ms`)
        t.notMatch(answer, /^HTTP\/1\.1 200/, `${label}, ${end}: not a success (${answer.split('\r\n', 1)[0]})`)
        await absent(t, s, key)
      }
    }
    await serving(t, s)
  })

  t.test('fewer declared than sent: the declared bytes are the body, and the rest the start of another request', async t => {
    const c = await open(url)
    c.socket.write(signedHead(url, s.credentials, 'PUT', '/bkt/framed', { 'content-length': '10' }, { payload: 'UNSIGNED-PAYLOAD' }) + '0123456789' + 'these bytes are not a request\r\n\r\n')
    t.match((await c.closed).answer, /HTTP\/1\.1 400 Bad Request/, 'the rest, not a request, is 400 Bad Request and the connection is closed')
    t.equal((await s.box.headObject('bkt', 'framed')).size, 10, 'the object is the 10 declared bytes, as S3 frames a body')
    // The 10 bytes past the declared length look like the start of a next request, so the parser
    // waits for its end rather than refusing it before the PUT is answered.
    const body = Buffer.from('0123456789GET /aaaaa')
    for (const [label, headers, payload, code] of [
      ['a payload hash of all the bytes', { 'content-length': '10' }, createHash('sha256').update(body).digest('hex'), 'XAmzContentSHA256Mismatch'],
      ['a Content-MD5 of all the bytes', { 'content-length': '10', 'content-md5': md5Base64(body) }, 'UNSIGNED-PAYLOAD', 'BadDigest']
    ] as const) {
      const lie = await open(url)
      lie.socket.write(signedHead(url, s.credentials, 'PUT', '/bkt/lied', headers, { payload }) + body.toString())
      t.match(await answerMatching(lie, /<\/Error>/), new RegExp(`^HTTP/1\\.1 400 [^]*<Code>${code}</Code>`), `${label}: ${code}`)
      lie.socket.destroy()
      await absent(t, s, 'lied')
    }
    await serving(t, s)
  })

  t.test('a Content-Length that is not one number, or comes with Transfer-Encoding, is 400 and stores nothing', async t => {
    const host = hostOf(url)
    for (const lengths of ['content-length: abc', 'content-length: -1', 'content-length: 1e3', 'content-length: 10\r\ncontent-length: 20', 'content-length: 99999999999999999999999', 'content-length: 10\r\ntransfer-encoding: chunked']) {
      const c = await open(url)
      c.socket.write(`PUT /bkt/bad-length HTTP/1.1\r\nhost: ${host}\r\n${lengths}\r\n\r\n0123456789`)
      const { ms, answer } = await c.closed
      t.match(answer, /^HTTP\/1\.1 400 /, `${JSON.stringify(lengths)}: 400`)
      t.ok(ms < 1000, `and closed after ${ms} ms`)
    }
    await absent(t, s, 'bad-length')
    await serving(t, s)
  })
})

/** Upload parts 1..10000 of one byte each through the engine; their ETags by number. */
async function tinyParts (s: Served, key: string, uploadId: string): Promise<string[]> {
  const etags: string[] = []
  for (let first = 1; first <= 10_000; first += 500) {
    const batch = await Promise.all(Array.from({ length: 500 }, async (_, i) => (await s.box.uploadPart('bkt', key, uploadId, first + i, Buffer.from([(first + i) & 0xff]))).etag))
    etags.push(...batch)
  }
  return etags
}

function completeXml (parts: Array<[number | string, string]>): string {
  return `<CompleteMultipartUpload>${parts.map(([n, etag]) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
}

t.test('10,000 parts', async t => {
  t.test('an upload of parts 1..10000 is listed and completed over HTTP', async t => {
    const s = await hostileServer(t, { open: { memory: true, minPartSize: 1 } })
    const { uploadId } = await s.box.createMultipartUpload('bkt', 'many')
    const etags = await tinyParts(s, 'many', uploadId)
    const page = await signed(s, 'GET', `/bkt/many?uploadId=${uploadId}&part-number-marker=9000`)
    t.equal(page.status, 200)
    t.equal(page.text.match(/<Part>/g)?.length, 1000, 'the last page of ListParts holds parts 9001..10000')
    t.match(page.text, /<IsTruncated>false<\/IsTruncated>/)
    const xml = completeXml(etags.map((etag, i) => [i + 1, etag]))
    t.ok(xml.length < 2 * MAX_XML_BYTES, `the Complete body for 10,000 parts (${xml.length} bytes) fits the cap`)
    const started = Date.now()
    const res = await signed(s, 'POST', `/bkt/many?uploadId=${uploadId}`, {}, xml)
    t.equal(res.status, 200, `completed in ${Date.now() - started} ms`)
    t.match(res.text, /<ETag>&quot;[0-9a-f]{32}-10000&quot;<\/ETag>/, 'a 10,000-part ETag')
    const got = await signed(s, 'GET', '/bkt/many')
    t.same(got.body, Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i + 1) & 0xff)), 'the parts, in order')
  })

  t.test('with the default 5 MiB minimum, the same Complete is EntityTooSmall and leaves the upload open', async t => {
    const s = await hostileServer(t)
    const { uploadId } = await s.box.createMultipartUpload('bkt', 'small')
    const etags = await tinyParts(s, 'small', uploadId)
    isError(t, await signed(s, 'POST', `/bkt/small?uploadId=${uploadId}`, {}, completeXml(etags.map((etag, i) => [i + 1, etag]))), 400, 'EntityTooSmall')
    await absent(t, s, 'small')
    t.equal((await s.box.listMultipartUploads('bkt')).uploads.length, 1)
  })

  t.test('part number 10001 (or 0, or not a number) is InvalidArgument, in UploadPart and in Complete', async t => {
    const s = await hostileServer(t, { open: { memory: true, minPartSize: 1 } })
    const { uploadId } = await s.box.createMultipartUpload('bkt', 'edge')
    for (const n of ['10001', '0', '-1', '1.5', '99999999999', 'x', '']) {
      isError(t, await signed(s, 'PUT', `/bkt/edge?partNumber=${n}&uploadId=${uploadId}`, {}, 'x'), 400, 'InvalidArgument', `UploadPart partNumber=${n}`)
    }
    const { etag } = await s.box.uploadPart('bkt', 'edge', uploadId, 10_000, 'x')
    t.equal((await signed(s, 'PUT', `/bkt/edge?partNumber=10000&uploadId=${uploadId}`, {}, 'x')).status, 200, 'part 10000 is fine')
    for (const n of ['10001', '0', '-1', 'x']) {
      isError(t, await signed(s, 'POST', `/bkt/edge?uploadId=${uploadId}`, {}, completeXml([[n, etag], [10_000, etag]])), 400, 'InvalidArgument', `Complete listing part ${n}`)
    }
    await absent(t, s, 'edge')
  })
})

t.test('Range headers of every malformed form get the whole object or 416, as S3 answers them', async t => {
  // The forms and answers of versitygw's GetObject_with_range, which it checks against S3, and
  // RFC 9110 for numbers too long for any object: an end past the object is clamped, a start past it is unsatisfiable.
  const s = await hostileServer(t)
  const data = Buffer.from(Array.from({ length: 100 }, (_, i) => i))
  await s.box.putObject('bkt', 'hundred', data)
  const long = '9'.repeat(40)
  const whole = ['bytes=', 'bytes=,', 'bytes= -1', 'bytes=--1', 'bytes=0 -1', 'bytes=0--1', 'bytes=10-5', 'bytes=5-2', 'bytes=abc', 'bytes=a-z', 'bytes=a-b',
    'foo=0-1', 'items=0-1', 'bytes=abc-xyz', 'bytes=100-x', 'bytes=0-0,1-2', 'bytes=0-1,3-4', 'bytes=102-0', 'bytes=-', 'bytes', 'garbage', `bytes=${long}-1`]
  for (const range of whole) {
    const res = await signed(s, 'GET', '/bkt/hundred', { range })
    t.equal(res.status, 200, `${JSON.stringify(range)}: 200`)
    t.same(res.body, data, `${JSON.stringify(range)}: the whole object`)
    t.equal(res.headers['content-range'], undefined)
  }
  const partial: Array<[string, number, number]> = [['bytes=00-01', 0, 1], ['bytes=-1', 99, 99], ['bytes=-101', 0, 99], ['bytes=0-999999', 0, 99], ['bytes=50-', 50, 99],
    ['bytes=99-99', 99, 99], [`bytes=0-${long}`, 0, 99], [`bytes=-${long}`, 0, 99], [`bytes=7-${'9'.repeat(5000)}`, 7, 99]]
  for (const [range, start, end] of partial) {
    const res = await signed(s, 'GET', '/bkt/hundred', { range })
    t.equal(res.status, 206, `${range.slice(0, 40)}: 206`)
    t.same(res.body, data.subarray(start, end + 1), `${range.slice(0, 40)}: bytes ${start}-${end}`)
    t.equal(res.headers['content-range'], `bytes ${start}-${end}/100`)
  }
  for (const range of ['bytes=-0', 'bytes=100-100', 'bytes=100-110', `bytes=${long}-`, `bytes=${long}-${long}9`]) {
    const res = await signed(s, 'GET', '/bkt/hundred', { range })
    isError(t, res, 416, 'InvalidRange', range.slice(0, 40))
    t.equal(res.headers['content-range'], 'bytes */100', `${range.slice(0, 40)}: Content-Range`)
  }
  await serving(t, s)
})

/**
 * Send `size` bytes of XML that would go on and on (plain, or framed as aws-chunked), with
 * backpressure, until the server answers or lets go; how far the client got, and the answer.
 */
async function hugeBody (s: Served, method: string, path: string, size: number, headers: Record<string, string>, chunked: boolean): Promise<{ status: number, code: string, written: number, ms: number }> {
  const framing = chunked
    ? { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(size), 'x-amz-trailer': 'x-amz-checksum-crc32' }
    : { 'content-length': String(size) }
  const sig = signV4(s.credentials, method, path, hostOf(s.server.url), { ...headers, ...framing }, '', { payload: chunked ? 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' : 'UNSIGNED-PAYLOAD' })
  const { hostname, port } = new URL(s.server.url)
  const started = Date.now()
  // Without a Content-Length, node:http sends the aws-chunked body with HTTP chunked framing, as the SDK does.
  const req = request({ host: hostname, port, method, path, headers: sig.headers, agent: false })
  const xml = Buffer.from('<Object><Key>k</Key></Object>'.repeat(2260)) // ~64 KiB
  const piece = chunked ? Buffer.concat([Buffer.from(`${xml.length.toString(16)}\r\n`), xml, Buffer.from('\r\n')]) : xml
  let written = 0
  let done = false
  const answered = new Promise<{ status: number, code: string }>(resolve => {
    req.on('response', res => {
      readAll(res).then(body => { resolve({ status: res.statusCode ?? 0, code: /<Code>([^<]*)<\/Code>/.exec(body.toString())?.[1] ?? '' }) }, () => { resolve({ status: res.statusCode ?? 0, code: '' }) })
    })
    req.on('error', () => { resolve({ status: 0, code: 'connection closed' }) })
  }).finally(() => { done = true })
  // eslint-disable-next-line no-unmodified-loop-condition -- `done` is set when the answer arrives
  while (!done && written < size) {
    const more = req.write(piece)
    written += xml.length
    if (!more) await Promise.race([once(req, 'drain').catch(() => {}), answered])
  }
  if (!done) req.end()
  return { ...await answered, written, ms: Date.now() - started }
}

t.test('XML bodies', async t => {
  const s = await hostileServer(t)
  // DeleteObjects and PutBucketCors want a checksum; the body never gets as far as its check.
  const checksum = { 'x-amz-checksum-crc32': 'AAAAAA==' }

  t.test('a body far over the cap is refused once the cap is passed, without reading the rest, in bounded memory', async t => {
    const { uploadId } = await s.box.createMultipartUpload('bkt', 'mpu')
    const watch = rssWatch()
    const timer = setInterval(() => { watch.sample() }, 10)
    for (const [method, path, headers] of [['POST', '/bkt?delete', checksum], ['PUT', '/bkt?cors', checksum], ['POST', `/bkt/mpu?uploadId=${uploadId}`, {}]] as const) {
      for (const chunked of [false, true]) {
        const result = await hugeBody(s, method, path, 256 * MiB, headers, chunked)
        const label = `${method} ${path.replace(uploadId, '…')}${chunked ? ', aws-chunked' : ''}`
        // The server answers and closes while the client is still sending: the client may see the
        // 400 whole, only its status (the reset of a close with unread bytes), or just the reset.
        t.ok(result.status === 400 || result.code === 'connection closed', `${label}: 400 or closed (${result.status} ${result.code})`)
        if (result.status === 400 && result.code !== '') t.equal(result.code, 'MaxMessageLengthExceeded', `${label}: the error`)
        t.ok(result.written < 32 * MiB, `${label}: refused after ${(result.written / MiB).toFixed(1)} MiB of 256 MiB, in ${result.ms} ms`)
      }
    }
    clearInterval(timer)
    t.ok(watch.growthMiB() < 32, `memory grew ${watch.growthMiB().toFixed(1)} MiB`)
    t.equal((await s.box.listMultipartUploads('bkt')).uploads.length, 1, 'the upload is still open')
    await t.rejects(s.box.getBucketCors('bkt'), { code: 'NoSuchCORSConfiguration' })
    await serving(t, s)
  })

  t.test('an XML body of exactly the cap is read; one byte more is MaxMessageLengthExceeded', async t => {
    const { uploadId } = await s.box.createMultipartUpload('bkt', 'capped')
    const cases = [['PUT', '/bkt?cors', 'CORSConfiguration', MAX_XML_BYTES], ['POST', '/bkt?delete', 'Delete', 2 * MAX_XML_BYTES], ['POST', `/bkt/capped?uploadId=${uploadId}`, 'CompleteMultipartUpload', 2 * MAX_XML_BYTES]] as const
    for (const [method, path, root, cap] of cases) {
      // A document with nothing in it, padded with whitespace to the byte.
      const padded = (size: number): string => `<${root}>${' '.repeat(size - 2 * root.length - 5)}</${root}>`
      const at = padded(cap)
      t.equal(Buffer.byteLength(at), cap)
      isError(t, await signed(s, method, path, { 'content-md5': md5Base64(at) }, at), 400, 'MalformedXML', `${root} of ${cap} bytes: read, and found empty`)
      const over = padded(cap + 1)
      isError(t, await signed(s, method, path, { 'content-md5': md5Base64(over) }, over), 400, 'MaxMessageLengthExceeded', `${root} of ${cap + 1} bytes`)
    }
  })

  t.test('deeply nested XML is MalformedXML, at once', async t => {
    const { uploadId } = await s.box.createMultipartUpload('bkt', 'nested')
    const deep = (root: string): string => `<${root}>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</${root}>`
    for (const [method, path, root] of [['POST', '/bkt?delete', 'Delete'], ['PUT', '/bkt?cors', 'CORSConfiguration'], ['POST', `/bkt/nested?uploadId=${uploadId}`, 'CompleteMultipartUpload'], ['PUT', '/newbucket', 'CreateBucketConfiguration']] as const) {
      const body = deep(root)
      const started = Date.now()
      const res = await signed(s, method, path, { 'content-md5': md5Base64(body) }, body)
      isError(t, res, 400, 'MalformedXML', `${root}, 100,000 levels deep`)
      t.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms`)
    }
    await t.rejects(s.box.headBucket('newbucket'), { code: 'NoSuchBucket' })
    await serving(t, s)
  })

  t.test('DeleteObjects at its edges: 1000 keys of 1024 bytes are deleted; 1001 keys are MalformedXML and delete nothing', async t => {
    const keys = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, '0')}${'k'.repeat(1020)}`)
    for (const key of keys) await s.box.putObject('bkt', key, 'x')
    const xml = (list: string[]): string => `<Delete><Quiet>true</Quiet>${list.map(k => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`
    const over = xml([...keys, 'ten'])
    isError(t, await signed(s, 'POST', '/bkt?delete', { 'content-md5': md5Base64(over) }, over), 400, 'MalformedXML', '1001 keys')
    t.equal((await keysOf(s, 'bkt')).length, 1001, 'nothing was deleted')
    const most = xml(keys)
    t.ok(most.length > MiB, `the largest DeleteObjects body is ${most.length} bytes`)
    const res = await signed(s, 'POST', '/bkt?delete', { 'content-md5': md5Base64(most) }, most)
    t.equal(res.status, 200, `1000 keys of 1024 bytes: ${res.code}`)
    t.same(await keysOf(s, 'bkt'), ['ten'], 'all 1000 deleted')
  })
})

t.test('keys with control characters, and bad percent-encoding', async t => {
  const s = await hostileServer(t)
  const url = s.server.url

  t.test('percent-encoded control characters are keys like any other: stored, read, listed and deleted', async t => {
    const keys = ['a\x01b', 'del\x7f', 'cr\r\nlf', 'tab\tx', 'esc\x1b[0m', 'bell\x07']
    for (const key of keys) {
      const path = `/bkt/${uriEncode(key)}`
      t.equal((await signed(s, 'PUT', path, {}, key)).status, 200, `PUT ${JSON.stringify(key)}`)
      t.equal((await signed(s, 'GET', path)).text, key, `GET ${JSON.stringify(key)}`)
    }
    const listed = await signed(s, 'GET', '/bkt?list-type=2&encoding-type=url')
    t.same([...listed.text.matchAll(/<Key>([^<]*)<\/Key>/g)].map(m => decodeURIComponent(m[1]!.replaceAll('+', ' '))).sort(), [...keys, 'ten'].sort(), 'listed with encoding-type=url, each key exact')
    t.equal((await signed(s, 'GET', '/bkt?list-type=2')).status, 200, 'a listing without encoding-type is answered too')
    for (const key of keys) t.equal((await signed(s, 'DELETE', `/bkt/${uriEncode(key)}`)).status, 204, `DELETE ${JSON.stringify(key)}`)
    t.same(await keysOf(s, 'bkt'), ['ten'])
  })

  t.test('raw control bytes, spaces or line breaks in the request line are 400 and close the connection', async t => {
    const host = hostOf(url)
    for (const path of ['/bkt/a\x01b', '/bkt/del\x7f', '/bkt/a\rb', '/bkt/a\nb', '/bkt/a\x00b', '/bkt/sp ace']) {
      const c = await open(url)
      c.socket.write(`PUT ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1\r\n\r\nx`)
      const { ms, answer } = await c.closed
      t.match(answer, /^HTTP\/1\.1 400 /, `${JSON.stringify(path)}: 400`)
      t.ok(ms < 1000, `closed after ${ms} ms`)
    }
    t.same(await keysOf(s, 'bkt'), ['ten'], 'nothing stored')
    await serving(t, s)
  })

  t.test('control bytes in a header value are 400', async t => {
    const c = await open(url)
    c.socket.write(`${signedHead(url, s.credentials, 'PUT', '/bkt/meta', { 'content-length': '1' }, { payload: 'UNSIGNED-PAYLOAD' }).replace('\r\n\r\n', '\r\nx-amz-meta-bad: a\x01b\r\n\r\n')}x`)
    t.match((await c.closed).answer, /^HTTP\/1\.1 400 /)
    await absent(t, s, 'meta')
  })

  t.test('bad percent-encoding is refused wherever it is, and stores nothing', async t => {
    for (const path of ['/bkt/%ZZ', '/bkt/a%', '/bkt/a%2', '/bkt/%C3%28', '/bkt/%C0%AF', '/bkt/%ED%A0%80', '/bkt/%FF', '/%ZZ/key']) {
      isError(t, await signed(s, 'PUT', path, {}, 'x'), 400, 'InvalidURI', `PUT ${path}`)
    }
    isError(t, await signed(s, 'PUT', '/bkt/nul%00key', {}, 'x'), 400, 'InvalidArgument', 'an encoded NUL in a key')
    // Unsigned: the query is read before the signature is checked (and the signer here cannot decode it either).
    isError(t, await send(url, 'GET', '/bkt?list-type=2&prefix=%ZZ'), 400, 'InvalidArgument', 'in the query')
    isError(t, await signed(s, 'PUT', '/bkt/copy', { 'x-amz-copy-source': '/bkt/%ZZ' }), 400, 'InvalidArgument', 'in x-amz-copy-source')
    t.same(await keysOf(s, 'bkt'), ['ten'], 'nothing stored')
    await serving(t, s)
  })
})
