import t from 'tap'
import { chunkKey, objectKey, objectKeyName, objectPrefixRange, segmentRange, upperBound } from '../lib/schema/keys.js'
import { decodeHead, encodeHead, type ObjectHead } from '../lib/schema/records.js'
import { crc32c, crc64Combine, crc64nvme, crcCombine } from '../lib/internal/checksums.js'
import { crc32 } from 'node:zlib'
import { newId } from '../lib/internal/ids.js'

const BUCKET = newId()

t.test('object keys sort in UTF-8 byte order, as S3 lists them', async t => {
  const keys = ['a', 'a!', 'a\u0001', 'a/b', 'a0', 'ab', 'b', 'é', '\uffff', '😀', '\u{10FFFF}', '~', 'A', ' ', '\t']
  const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
  const byStored = [...keys].sort((x, y) => Buffer.compare(objectKey(BUCKET, x), objectKey(BUCKET, y)))
  t.same(byStored, byBytes)
  t.not(JSON.stringify([...keys].sort()), JSON.stringify(byBytes), 'UTF-16 order differs, so byte order is a real choice')
  for (const key of keys) t.equal(objectKeyName(objectKey(BUCKET, key)), key)
})

t.test('prefix ranges hold exactly the keys that start with the prefix', async t => {
  const other = newId()
  const inside = ['photos/', 'photos/a', 'photos/\u{10FFFF}', 'photos/\uffff\uffff']
  const outside = ['photo', 'photos0', 'photos.', 'q']
  const range = objectPrefixRange(BUCKET, 'photos/')
  const within = (k: Buffer): boolean => Buffer.compare(k, range.gte) >= 0 && Buffer.compare(k, range.lt) < 0
  for (const key of inside) t.ok(within(objectKey(BUCKET, key)), `${key} inside`)
  for (const key of outside) t.notOk(within(objectKey(BUCKET, key)), `${key} outside`)
  t.notOk(within(objectKey(other, 'photos/a')), 'another bucket is outside')
  const whole = objectPrefixRange(BUCKET)
  t.ok(Buffer.compare(objectKey(BUCKET, '\u{10FFFF}'), whole.lt) < 0)
  t.same(upperBound(Buffer.from([1, 0xff, 0xff])), Buffer.from([2]), 'trailing 0xff bytes carry')
})

t.test('chunk keys sort by segment, then numerically by index', async t => {
  const ids = [newId(), newId(), newId()]
  t.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, 'ids are time ordered, even within one millisecond')
  t.equal(ids[0]!.length, 24)
  const keys = [chunkKey(ids[0]!, 0), chunkKey(ids[0]!, 9), chunkKey(ids[0]!, 10), chunkKey(ids[0]!, 0xffff), chunkKey(ids[1]!, 0)]
  t.same([...keys].sort(), keys)
  const range = segmentRange(ids[0]!)
  t.ok(keys.slice(0, 4).every(k => k >= range.gte && k < range.lt))
  t.notOk(keys[4]! < range.lt)
})

t.test('object records round-trip, with and without inline bytes', async t => {
  const head: ObjectHead = { v: 1, etag: 'abc', size: 3, modified: 1, contentType: 'text/plain', headers: {}, metadata: { a: 'é' }, checksums: {} }
  const decoded = decodeHead(encodeHead(head, Buffer.from('xyz')))
  t.same(decoded.head, head)
  t.equal(decoded.inline?.toString(), 'xyz')
  const chunked = { ...head, segments: [{ id: newId(), size: 3, chunkSize: 1024 }] }
  t.equal(decodeHead(encodeHead(chunked)).inline, undefined)
})

t.test('CRC32C matches the standard check values, also when continued', async t => {
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
  t.equal(crc32c(Buffer.alloc(0)), 0)
  t.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa, '32 zero bytes (RFC 3720)')
  t.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43, '32 0xff bytes (RFC 3720)')
  const data = Buffer.from('The quick brown fox jumps over the lazy dog, twice over.')
  t.equal(crc32c(data.subarray(13), crc32c(data.subarray(0, 13))), crc32c(data))
})

t.test('CRC64NVME matches its check value, and CRCs combine as if computed over the whole', async t => {
  const hex = (c: { hi: number, lo: number }): string => c.hi.toString(16).padStart(8, '0') + c.lo.toString(16).padStart(8, '0')
  t.equal(hex(crc64nvme(Buffer.from('123456789'))), 'ae8b14860a799888')
  t.equal(hex(crc64nvme(Buffer.alloc(0))), '0000000000000000')
  const a = Buffer.from('The quick brown fox ')
  const b = Buffer.alloc(100_003, 0x5a)
  const whole = Buffer.concat([a, b])
  t.equal(hex(crc64nvme(b, crc64nvme(a))), hex(crc64nvme(whole)), 'continued')
  t.equal(hex(crc64Combine(crc64nvme(a), crc64nvme(b), b.length)), hex(crc64nvme(whole)), 'CRC64NVME combined')
  t.equal(crcCombine('CRC32', crc32(a), crc32(b), b.length), crc32(whole), 'CRC32 combined')
  t.equal(crcCombine('CRC32C', crc32c(a), crc32c(b), b.length), crc32c(whole), 'CRC32C combined')
  t.same(crc64Combine(crc64nvme(a), crc64nvme(Buffer.alloc(0)), 0), crc64nvme(a), 'nothing appended')
})
