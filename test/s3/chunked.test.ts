import t from 'tap'
import { createHash, randomBytes, randomInt } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { crc32 } from 'node:zlib'
import { createChunkDecoder, type ChunkedOptions } from '../../lib/s3/chunked.js'
import { chunkStringToSign, hmacHex, signingKey, trailerStringToSign } from '../../lib/s3/sigv4.js'

// The AWS streaming examples (sigv4-streaming, sigv4-streaming-trailers): 66560 bytes of 'a' in 64 KiB + 1 KiB + 0.
const KEY = signingKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1', 's3')
const AMZ_DATE = '20130524T000000Z'
const SCOPE = '20130524/us-east-1/s3/aws4_request'
const PAYLOAD = Buffer.alloc(66560, 'a')
const CRLF = '\r\n'

const awsBody = (signatures: string[], tail: string): Buffer => Buffer.concat([
  Buffer.from(`10000;chunk-signature=${signatures[0]!}${CRLF}`), PAYLOAD.subarray(0, 65536), Buffer.from(CRLF),
  Buffer.from(`400;chunk-signature=${signatures[1]!}${CRLF}`), PAYLOAD.subarray(65536), Buffer.from(CRLF),
  Buffer.from(`0;chunk-signature=${signatures[2]!}${CRLF}${tail}`)
])

const SIGNED_BODY = awsBody([
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'
], CRLF)
const SIGNED: ChunkedOptions = { signed: { key: KEY, amzDate: AMZ_DATE, scope: SCOPE, seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9' }, trailer: false, decodedLength: 66560 }

const TRAILER_BODY = awsBody([
  'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
  '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
  '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992'
], `x-amz-checksum-crc32c:sOO8/Q==${CRLF}x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435${CRLF}${CRLF}`)
const SIGNED_TRAILER: ChunkedOptions = {
  signed: { key: KEY, amzDate: AMZ_DATE, scope: SCOPE, seed: '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e' },
  trailer: true,
  declaredTrailer: 'x-amz-checksum-crc32c',
  decodedLength: 66560
}

type Split = 'whole' | 'bytes' | 'random'

function split (body: Buffer, how: Split): Buffer[] {
  if (how === 'whole') return [body]
  const pieces: Buffer[] = []
  for (let at = 0; at < body.length;) {
    const n = how === 'bytes' ? 1 : Math.min(body.length - at, randomInt(1, randomInt(2) === 0 ? 16 : 70_000))
    pieces.push(body.subarray(at, at + n))
    at += n
  }
  return pieces
}

/** Runs `body` through a decoder in the given pieces; the payload and trailers, or the stream's error. */
async function decode (body: Buffer, options: ChunkedOptions, how: Split = 'whole'): Promise<{ data: Buffer, trailers: Map<string, string>, out: Buffer[] }> {
  const decoder = createChunkDecoder(options)
  const out: Buffer[] = []
  await pipeline(Readable.from(split(body, how)), decoder, new Writable({
    write (chunk: Buffer, _encoding, callback) { out.push(chunk); callback() }
  }))
  return { data: Buffer.concat(out), trailers: decoder.trailers, out }
}

/** The JS SDK's STREAMING-UNSIGNED-PAYLOAD-TRAILER body for these pieces, CRC32 trailer included. */
function unsignedBody (pieces: Buffer[], hexCase: 'lower' | 'upper' = 'lower'): Buffer {
  const parts: Buffer[] = []
  for (const piece of pieces) {
    const size = piece.length.toString(16)
    parts.push(Buffer.from(`${hexCase === 'upper' ? size.toUpperCase() : size}${CRLF}`), piece, Buffer.from(CRLF))
  }
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat(pieces)))
  parts.push(Buffer.from(`0${CRLF}x-amz-checksum-crc32:${crc.toString('base64')}${CRLF}${CRLF}`))
  return Buffer.concat(parts)
}

/** A signed aws-chunked body of these pieces, chained from `seed`, with optional signed trailers. */
function signedBody (pieces: Buffer[], seed: string, trailers?: Record<string, string>): Buffer {
  const parts: Buffer[] = []
  let previous = seed
  for (const piece of [...pieces, Buffer.alloc(0)]) {
    previous = hmacHex(KEY, chunkStringToSign(AMZ_DATE, SCOPE, previous, createHash('sha256').update(piece).digest('hex')))
    parts.push(Buffer.from(`${piece.length.toString(16)};chunk-signature=${previous}${CRLF}`), piece, Buffer.from(piece.length > 0 ? CRLF : ''))
  }
  if (trailers !== undefined) {
    const canonical = Object.keys(trailers).sort().map(name => `${name}:${trailers[name]!}\n`).join('')
    const signature = hmacHex(KEY, trailerStringToSign(AMZ_DATE, SCOPE, previous, createHash('sha256').update(canonical).digest('hex')))
    parts.push(Buffer.from(Object.entries(trailers).map(([n, v]) => `${n}:${v}${CRLF}`).join('') + `x-amz-trailer-signature:${signature}${CRLF}`))
  }
  parts.push(Buffer.from(CRLF))
  return Buffer.concat(parts)
}

const randomPieces = (): Buffer[] => Array.from({ length: randomInt(1, 8) }, () => randomBytes(randomInt(1, randomInt(2) === 0 ? 20 : 100_000)))
const SEED = 'f'.repeat(64)
const seeded = (trailer: boolean): ChunkedOptions => ({ signed: { key: KEY, amzDate: AMZ_DATE, scope: SCOPE, seed: SEED }, trailer })

t.test('the AWS signed example decodes to its payload however the body is split', async t => {
  t.equal(SIGNED_BODY.length, 66824, 'the documented content-length')
  for (const how of ['whole', 'bytes', 'random', 'random'] as const) {
    const { data, trailers } = await decode(SIGNED_BODY, SIGNED, how)
    t.ok(data.equals(PAYLOAD), how)
    t.equal(trailers.size, 0)
  }
})

t.test('the AWS signed-trailer example decodes and verifies its trailer signature', async t => {
  for (const how of ['whole', 'bytes', 'random'] as const) {
    const { data, trailers } = await decode(TRAILER_BODY, SIGNED_TRAILER, how)
    t.ok(data.equals(PAYLOAD), how)
    t.same([...trailers], [['x-amz-checksum-crc32c', 'sOO8/Q==']])
  }
})

t.test('payload slices pass through without copies', async t => {
  const { out } = await decode(SIGNED_BODY, SIGNED)
  t.ok(out.every(piece => piece.buffer === SIGNED_BODY.buffer), 'views of the input')
})

t.test('the JS SDK unsigned trailer body decodes in any split, hex in either case', async t => {
  for (let i = 0; i < 20; i++) {
    const pieces = randomPieces()
    const payload = Buffer.concat(pieces)
    const body = unsignedBody(pieces, i % 2 === 0 ? 'lower' : 'upper')
    const options: ChunkedOptions = { trailer: true, declaredTrailer: 'x-amz-checksum-crc32', decodedLength: payload.length }
    const { data, trailers } = await decode(body, options, i === 0 ? 'bytes' : 'random')
    t.ok(data.equals(payload))
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(payload))
    t.equal(trailers.get('x-amz-checksum-crc32'), crc.toString('base64'))
  }
})

t.test('random signed bodies, with and without signed trailers, decode in random splits', async t => {
  for (let i = 0; i < 10; i++) {
    const pieces = randomPieces()
    t.ok((await decode(signedBody(pieces, SEED), seeded(false), 'random')).data.equals(Buffer.concat(pieces)))
    const trailers = { 'x-amz-checksum-sha256': createHash('sha256').update(Buffer.concat(pieces)).digest('base64') }
    const { data, trailers: got } = await decode(signedBody(pieces, SEED, trailers), { ...seeded(true), declaredTrailer: 'x-amz-checksum-sha256' }, 'random')
    t.ok(data.equals(Buffer.concat(pieces)))
    t.same(Object.fromEntries(got), trailers)
  }
})

t.test('lenient framing: LF-only trailer lines, no final blank line, no trailers, extensions', async t => {
  const unsigned: ChunkedOptions = { trailer: true, declaredTrailer: 'x-amz-checksum-crc32' }
  for (const tail of ['x-amz-checksum-crc32:AAAAAA==\n\n', 'x-amz-checksum-crc32:AAAAAA==\r\n', 'x-amz-checksum-crc32:AAAAAA==', 'x-amz-checksum-crc32 :  AAAAAA==  \r\n\r\n', 'X-Amz-Checksum-CRC32:AAAAAA==\r\n\r\n']) {
    const { data, trailers } = await decode(Buffer.from(`3\r\nabc\r\n0\r\n${tail}`), unsigned, 'bytes')
    t.equal(data.toString(), 'abc')
    t.equal(trailers.get('x-amz-checksum-crc32'), 'AAAAAA==', JSON.stringify(tail))
  }
  for (const body of ['3\r\nabc\r\n0\r\n', '3\r\nabc\r\n0\r\n\r\n', '3;foo=bar;baz\r\nabc\r\n0;x=y\r\n\r\n', '00003\r\nabc\r\n0\r\n\r\n']) {
    t.equal((await decode(Buffer.from(body), { trailer: false }, 'bytes')).data.toString(), 'abc', JSON.stringify(body))
  }
  t.equal((await decode(Buffer.from('0\r\n\r\n'), { trailer: true, decodedLength: 0 })).data.length, 0, 'an empty payload')
  t.equal((await decode(Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-sha1:x\r\n\r\n'), { trailer: true })).trailers.get('x-amz-checksum-sha1'), 'x', 'an undeclared trailer in trailer mode')
})

t.test('tampered chunk data or signatures give SignatureDoesNotMatch', async t => {
  const data = Buffer.from(SIGNED_BODY)
  data[1000] = 0x62
  await t.rejects(decode(data, SIGNED), { code: 'SignatureDoesNotMatch' }, 'a changed byte')
  for (const signature of ['ad80c730', '0055627c', 'b6c6ea8a']) {
    const at = SIGNED_BODY.indexOf(signature)
    const body = Buffer.from(SIGNED_BODY)
    body[at] = body[at] === 0x30 ? 0x31 : 0x30
    await t.rejects(decode(body, SIGNED, 'random'), { code: 'SignatureDoesNotMatch' }, signature)
  }
  await t.rejects(decode(SIGNED_BODY, { ...SIGNED, signed: { ...SIGNED.signed!, seed: 'e'.repeat(64) } }), { code: 'SignatureDoesNotMatch' }, 'another seed')
  await t.rejects(decode(Buffer.from('3\r\nabc\r\n0\r\n\r\n'), seeded(false)), { code: 'SignatureDoesNotMatch' }, 'no chunk signature')
  const swapped = signedBody([Buffer.from('abc'), Buffer.from('def')], SEED).toString().replace('abc', 'def').replace(/def(?=\r\n0;)/, 'abc')
  await t.rejects(decode(Buffer.from(swapped), seeded(false)), { code: 'SignatureDoesNotMatch' }, 'reordered data')
})

t.test('tampered or missing signed trailers give SignatureDoesNotMatch', async t => {
  await t.rejects(decode(Buffer.from(TRAILER_BODY.toString('latin1').replace('sOO8/Q==', 'sOO8/R=='), 'latin1'), SIGNED_TRAILER), { code: 'SignatureDoesNotMatch' })
  const unsignedTrailer = TRAILER_BODY.toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, '')
  await t.rejects(decode(Buffer.from(unsignedTrailer, 'latin1'), SIGNED_TRAILER), { code: 'SignatureDoesNotMatch' })
})

t.test('a body that ends early, or decodes to another length, gives IncompleteBody', async t => {
  for (const cut of [0, 5, 100, 65536, SIGNED_BODY.length - 90, SIGNED_BODY.length - 3]) {
    await t.rejects(decode(SIGNED_BODY.subarray(0, cut), SIGNED, 'random'), { code: 'IncompleteBody' }, `cut at ${cut}`)
  }
  await t.rejects(decode(Buffer.from('5\r\nabc'), { trailer: false }), { code: 'IncompleteBody' })
  await t.rejects(decode(SIGNED_BODY, { ...SIGNED, decodedLength: 66561 }), { code: 'IncompleteBody' }, 'shorter than declared')
  await t.rejects(decode(SIGNED_BODY, { ...SIGNED, decodedLength: 1000 }), { code: 'IncompleteBody' }, 'longer than declared')
})

t.test('trailer problems give MalformedTrailerError', async t => {
  const declared: ChunkedOptions = { trailer: true, declaredTrailer: 'x-amz-checksum-crc32' }
  await t.rejects(decode(Buffer.from('3\r\nabc\r\n0\r\n\r\n'), declared), { code: 'MalformedTrailerError' }, 'declared trailer missing')
  await t.rejects(decode(Buffer.from('3\r\nabc\r\n0\r\n'), declared), { code: 'MalformedTrailerError' }, 'declared trailer missing, no blank line')
  await t.rejects(decode(Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32c:AAAAAA==\r\n\r\n'), declared), { code: 'MalformedTrailerError' }, 'another trailer')
  await t.rejects(decode(Buffer.from('3\r\nabc\r\n0\r\nno colon here\r\n\r\n'), declared), { code: 'MalformedTrailerError' }, 'no colon')
  await t.rejects(decode(Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n'), { trailer: false }), { code: 'MalformedTrailerError' }, 'trailers nobody announced')
})

t.test('malformed framing and oversized metadata give InvalidRequest', async t => {
  const plain: ChunkedOptions = { trailer: true }
  await t.rejects(decode(Buffer.from('zz\r\nabc\r\n0\r\n\r\n'), plain), { code: 'InvalidRequest' }, 'non-hex size')
  await t.rejects(decode(Buffer.from('0x3\r\nabc\r\n0\r\n\r\n'), plain), { code: 'InvalidRequest' }, '0x prefix')
  await t.rejects(decode(Buffer.from('\r\nabc\r\n0\r\n\r\n'), plain), { code: 'InvalidRequest' }, 'empty size')
  await t.rejects(decode(Buffer.from('3\r\nabcd\r\n0\r\n\r\n'), plain), { code: 'InvalidRequest' }, 'data longer than its size')
  await t.rejects(decode(Buffer.from('3\r\nabc0\r\n\r\n'), plain), { code: 'InvalidRequest' }, 'no CRLF after data')
  await t.rejects(decode(Buffer.from('3\r\nabc\r\n0\r\n\r\nextra'), plain), { code: 'InvalidRequest' }, 'bytes after the end')
  await t.rejects(decode(Buffer.from(`3;${'x'.repeat(1100)}\r\nabc\r\n0\r\n\r\n`), plain, 'random'), { code: 'InvalidRequest' }, 'a chunk header over 1 KiB')
  await t.rejects(decode(Buffer.from('1'.repeat(2000)), plain, 'random'), { code: 'InvalidRequest' }, 'an endless size line')
  const manyTrailers = Array.from({ length: 400 }, (_, i) => `x-amz-meta-${i}:${'v'.repeat(40)}\r\n`).join('')
  await t.rejects(decode(Buffer.from(`3\r\nabc\r\n0\r\n${manyTrailers}\r\n`), plain, 'random'), { code: 'InvalidRequest' }, 'trailers over 16 KiB')
})

t.test('a slow consumer holds the decoder back instead of letting it buffer', async t => {
  const total = 32 * 1024 * 1024
  const piece = Buffer.alloc(64 * 1024, 'x')
  let produced = 0
  let consumed = 0
  let maxInFlight = 0
  async function * source (): AsyncGenerator<Buffer> {
    for (let sent = 0; sent < total; sent += piece.length) {
      const framed = Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')])
      produced += piece.length
      maxInFlight = Math.max(maxInFlight, produced - consumed)
      yield framed
    }
    yield Buffer.from('0\r\n\r\n')
  }
  const slow = new Writable({
    highWaterMark: 16 * 1024,
    write (chunk: Buffer, _encoding, callback) {
      consumed += chunk.length
      setImmediate(callback)
    }
  })
  await pipeline(source(), createChunkDecoder({ trailer: false, decodedLength: total }), slow)
  t.equal(consumed, total)
  t.ok(maxInFlight < 1024 * 1024, `at most ${(maxInFlight / 1024).toFixed(0)} KiB between producer and consumer`)
})
