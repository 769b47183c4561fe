import t from 'tap'
import { Readable } from 'node:stream'
import { Spacebox, SpaceboxError } from '../lib/index.js'
import { readAll } from './helpers.js'

const COUNT = Number(process.env.SPACEBOX_LONG_TESTS === '1' ? 20_000 : 2_000)

/** A seeded generator of hostile arguments: wrong types, edge numbers, odd strings. */
function generator (seed: number): { pick: <T>(items: readonly T[]) => T, value: () => unknown } {
  let x = seed
  const next = (): number => { // mulberry32
    x = (x + 0x6d2b79f5) | 0
    let r = Math.imul(x ^ (x >>> 15), 1 | x)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
  const strings = ['', 'fuzz', 'k', 'a/b/', 'x'.repeat(1025), '\0', '\ud800', '😀', 'bytes=0-1', 'bytes=-0', 'AES256', 'aws:kms', '*', '"etag"', 'COPY', 'REPLACE', 'SB0000000000000000000']
  const scalars = [undefined, null, 0, -1, 1.5, 1e21, Number.NaN, Infinity, true, false, 10_000, 10_001, Symbol('s'), 0n]
  const value = (): unknown => {
    const roll = next()
    if (roll < 0.3) return pick(strings)
    if (roll < 0.5) return pick(scalars)
    if (roll < 0.6) return Buffer.from(pick(strings))
    if (roll < 0.65) return Readable.from([pick(strings)])
    if (roll < 0.7) return [pick(strings), value()]
    if (roll < 0.75) return () => {}
    const object: Record<string, unknown> = {}
    for (const name of ['range', 'ifMatch', 'ifNoneMatch', 'metadata', 'contentType', 'checksums', 'maxKeys', 'prefix', 'delimiter',
      'continuationToken', 'serverSideEncryption', 'customerKey', 'partNumberMarker', 'grants', 'name', 'expiresAt', 'rateLimit',
      'metadataDirective', 'contentMD5', 'checksumAlgorithm', 'contentLength', 'algorithm', 'bucketKeyEnabled', 'key', 'start']) {
      if (next() < 0.15) object[name] = value()
    }
    return object
  }
  return { pick, value }
}

t.test('every public method meets hostile arguments with a clean error, and the store stays sound', async t => {
  const box = await Spacebox.open({ memory: true, chunkSize: 64, minPartSize: 0 })
  t.teardown(async () => { await box.close() })
  await box.createBucket('fuzz')
  await box.putObject('fuzz', 'k', 'stable')
  const { uploadId } = await box.createMultipartUpload('fuzz', 'k')
  const methods = ['createBucket', 'headBucket', 'deleteBucket', 'putObject', 'getObject', 'headObject', 'deleteObject', 'deleteObjects',
    'copyObject', 'listObjectsV2', 'listObjects', 'createMultipartUpload', 'uploadPart', 'uploadPartCopy', 'completeMultipartUpload',
    'abortMultipartUpload', 'listParts', 'listMultipartUploads', 'putBucketEncryption', 'getBucketEncryption', 'deleteBucketEncryption'] as const
  const keyMethods = ['create', 'get', 'list', 'rename', 'update', 'regenerate', 'disable', 'enable', 'delete', 'whoCanAccess'] as const
  const { pick, value } = generator(42)
  const outcomes = new Map<string, number>()
  for (let i = 0; i < COUNT; i++) {
    const args = Array.from({ length: 7 }, () => pick([value(), value(), 'fuzz', 'k', uploadId, 1]))
    const onKeys = i % 5 === 0
    const method = onKeys ? pick(keyMethods) : pick(methods)
    const target = onKeys ? box.keys : box
    let outcome: string
    try {
      const result = await (target as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args)
      if (result !== null && typeof result === 'object' && 'body' in result) await readAll((result as { body: Readable }).body)
      outcome = 'ok'
    } catch (err) {
      if (err instanceof SpaceboxError) outcome = err.code
      else if ((err instanceof TypeError && !/Cannot read|is not a function|is not iterable|Cannot convert/.test(err.message)) || err instanceof RangeError) outcome = err.name
      else {
        t.fail(`${method}(${args.map(a => typeof a).join(', ')}) threw ${String(err)}`)
        outcome = 'stray'
      }
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
  }
  t.notOk(outcomes.has('stray'), `outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`)
  t.ok(outcomes.size > 5, 'the fuzzer reaches many different outcomes')
  // The store still works and holds what it held, unless the fuzzer itself overwrote or deleted it.
  await box.putObject('fuzz', 'after', 'still sound')
  t.equal((await readAll((await box.getObject('fuzz', 'after')).body)).toString(), 'still sound')
  for await (const object of box.listAll('fuzz')) {
    const { body, info } = await box.getObject('fuzz', object.key).catch(() => ({ body: undefined, info: undefined }))
    if (body !== undefined) t.equal((await readAll(body)).length, info?.size, `${object.key.slice(0, 20)} reads whole`)
  }
})
