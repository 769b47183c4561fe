// Concurrency through the S3 adapter: writers, readers, listers, copiers and deleters on
// overlapping keys over HTTP; conditional PUTs racing; multipart completes racing aborts. Objects
// span many small chunks, so a read that mixed two versions would show in its hash.
//
//   npx tap --disable-coverage test/s3/concurrency-http.test.ts
//   SPACEBOX_LONG_TESTS=1 npx tap -t 0 --disable-coverage test/s3/concurrency-http.test.ts   # 5x the operations
//   SPACEBOX_CONCURRENCY_SEED=<seed>: another mix of sizes, keys and modes (the interleaving is the scheduler's)
import t from 'tap'
import { crc32 } from 'node:zlib'
import { Rng } from '../fixtures/crash-model.js'
import { bytes, md5hex, tempDir } from '../helpers.js'
import { serve, type Served } from './helpers.js'
import { sendSigned, unsignedChunks, type Reply } from './wire.js'

const LONG = process.env.SPACEBOX_LONG_TESTS === '1'
const SCALE = LONG ? 5 : 1
const SEED = process.env.SPACEBOX_CONCURRENCY_SEED ?? 'spacebox-http-race-1'
const KEYS = ['k0', 'k1', 'k2', 'k3', 'dir/a', 'dir/b', 'dir/sub/c', 'z']
/** Most writes and reads go to these, so that they collide. */
const HOT = ['k0', 'dir/a']

async function request (s: Served, method: string, path: string, headers: Record<string, string> = {}, body: string | Buffer = '', payload?: string): Promise<Reply> {
  return await sendSigned(s.server.url, s.credentials, method, path, headers, body, payload === undefined ? {} : { payload })
}

async function turns (n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise(resolve => setImmediate(resolve))
}

function pickKey (rng: Rng): string {
  return rng.chance(0.7) ? rng.pick(HOT) : rng.pick(KEYS)
}

/** The body written under `seed`: regenerated, not kept, when a read needs comparing. */
function content (seed: number, size: number): Buffer {
  return bytes(size, seed)
}

t.test('writers, readers, listers, copiers and deleters racing on overlapping keys never see a torn object', async t => {
  // On disk, where reads and writes go through LevelDB's thread pool and so interleave with other
  // requests (memory-level streams a small object within one turn of the event loop). 8 KiB chunks:
  // a 200 KiB object is 25 of them; a multipart object is a segment per part.
  const s = await serve(t, { open: { location: await tempDir(t), chunkSize: 8 * 1024, minPartSize: 1 } })
  await s.box.createBucket('race')
  const rng = new Rng(SEED)
  /**
   * Every ETag a read may find, from the moment its writer begins to send (a reader may see an
   * object before its PUT is answered): the body's seed and size, and the MD5 of its bytes.
   */
  const written = new Map<string, { seed: number, size: number, md5: string }>([[`"${md5hex('')}"`, { seed: 0, size: 0, md5: md5hex('') }]])
  const problems: string[] = []
  const counts = { puts: 0, multiparts: 0, gets: 0, ranges: 0, pages: 0, copies: 0, deletes: 0 }

  /** A multipart upload of `body` in three parts; resolves the Complete's answer and the ETag it should carry. */
  const multipart = async (key: string, body: Buffer): Promise<{ res: Reply, etag: string }> => {
    const created = await request(s, 'POST', `/race/${key}?uploads`)
    const uploadId = /<UploadId>([^<]+)</.exec(created.text)?.[1] ?? ''
    const cuts = [0, Math.floor(body.length / 3), Math.floor(body.length * 2 / 3), body.length]
    const parts = [0, 1, 2].map(i => body.subarray(cuts[i], cuts[i + 1]))
    const etag = `"${md5hex(Buffer.concat(parts.map(p => Buffer.from(md5hex(p), 'hex'))))}-3"`
    written.set(etag, { ...written.get(`"${md5hex(body)}"`)! })
    const xml: string[] = []
    for (const [i, part] of parts.entries()) {
      const res = await request(s, 'PUT', `/race/${key}?partNumber=${i + 1}&uploadId=${uploadId}`, {}, part, 'UNSIGNED-PAYLOAD')
      xml.push(`<Part><PartNumber>${i + 1}</PartNumber><ETag>${String(res.headers.etag)}</ETag></Part>`)
    }
    const res = await request(s, 'POST', `/race/${key}?uploadId=${uploadId}`, {}, `<CompleteMultipartUpload>${xml.join('')}</CompleteMultipartUpload>`)
    return { res, etag: /<ETag>([^<]+)</.exec(res.text)?.[1]?.replaceAll('&quot;', '"') === etag ? etag : `unexpected ${res.text.slice(0, 200)}` }
  }

  const writer = async (id: number): Promise<void> => {
    for (let i = 0; i < 60 * SCALE; i++) {
      const seed = id * 100_000 + i + 1
      const mode = rng.int(0, 3)
      const size = mode === 3 ? rng.int(3, 600 * 1024) : rng.pick([0, 1, 100, 8 * 1024, 8 * 1024 + 1, rng.int(1, 200 * 1024)])
      const body = content(seed, size)
      const md5 = md5hex(body)
      // A copy of any version, multipart or not, is a single-part object with this ETag.
      written.set(`"${md5}"`, { seed, size, md5 })
      const key = pickKey(rng)
      let res: Reply
      let etag = `"${md5}"`
      if (mode === 0) res = await request(s, 'PUT', `/race/${key}`, {}, body)
      else if (mode === 1) res = await request(s, 'PUT', `/race/${key}`, {}, body, 'UNSIGNED-PAYLOAD')
      else if (mode === 2) {
        res = await request(s, 'PUT', `/race/${key}`, { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(size), 'x-amz-trailer': 'x-amz-checksum-crc32' },
          unsignedChunks([body.subarray(0, size >> 1), body.subarray(size >> 1)].filter(b => b.length > 0), ['x-amz-checksum-crc32', crc32Base64(body)]), 'STREAMING-UNSIGNED-PAYLOAD-TRAILER')
      } else {
        ({ res, etag } = await multipart(key, body))
        counts.multiparts++
        if (res.status === 200 && !etag.startsWith('"')) problems.push(`COMPLETE ${key}: ${etag}`)
        continue
      }
      counts.puts++
      if (res.status !== 200 || res.headers.etag !== etag) problems.push(`PUT ${key}: ${res.status} ${res.code} ${String(res.headers.etag)} for ${etag}`)
    }
  }

  const reader = async (): Promise<void> => {
    for (let i = 0; i < 100 * SCALE; i++) {
      const key = pickKey(rng)
      const ranged = rng.chance(0.3)
      const res = await request(s, 'GET', `/race/${key}`, ranged ? { range: 'bytes=5000-20000' } : {})
      counts.gets++
      if (res.status === 404 && res.code === 'NoSuchKey') continue
      if (res.status === 416) {
        // The version the range missed: one of at most 5000 bytes.
        const size = Number(/^bytes \*\/(\d+)$/.exec(String(res.headers['content-range']))?.[1])
        if (!(res.code === 'InvalidRange' && size <= 5000 && [...written.values()].some(w => w.size === size))) problems.push(`GET ${key}: 416 ${res.code} for a size ${size}`)
        continue
      }
      const etag = String(res.headers.etag)
      const origin = written.get(etag)
      if (origin === undefined) {
        problems.push(`GET ${key}: ${res.status} ${res.code}, an ETag never written: ${etag}`)
        continue
      }
      if (res.status === 200) {
        if (md5hex(res.body) !== origin.md5) problems.push(`GET ${key}: torn: ${res.body.length} bytes that are not the object ${etag}`)
      } else if (res.status === 206) {
        counts.ranges++
        if (!res.body.equals(content(origin.seed, origin.size).subarray(5000, 20001))) problems.push(`GET ${key} bytes=5000-20000: not the bytes of ${etag}`)
      } else {
        problems.push(`GET ${key}: ${res.status} ${res.code}`)
      }
    }
  }

  const lister = async (): Promise<void> => {
    for (let i = 0; i < 30 * SCALE; i++) {
      const seen: string[] = []
      let token: string | undefined
      do {
        const res = await request(s, 'GET', `/race?list-type=2&max-keys=3${rng.chance(0.3) ? '&prefix=dir%2F' : ''}${token === undefined ? '' : `&continuation-token=${encodeURIComponent(token)}`}`)
        counts.pages++
        if (res.status !== 200) {
          problems.push(`LIST: ${res.status} ${res.code}`)
          break
        }
        for (const [, key, etag, size] of res.text.matchAll(/<Key>([^<]*)<\/Key>.*?<ETag>([^<]*)<\/ETag><Size>(\d+)<\/Size>/g)) {
          const origin = written.get(etag!.replaceAll('&quot;', '"'))
          if (origin === undefined || origin.size !== Number(size)) problems.push(`LIST: ${key!} with ${etag!} and size ${size!}, never written so`)
          seen.push(key!)
        }
        token = /<NextContinuationToken>([^<]*)</.exec(res.text)?.[1]
      } while (token !== undefined)
      for (let j = 1; j < seen.length; j++) {
        if (!(Buffer.compare(Buffer.from(seen[j - 1]!), Buffer.from(seen[j]!)) < 0)) problems.push(`LIST: out of order or repeated: ${seen.join(', ')}`)
      }
    }
  }

  const copier = async (): Promise<void> => {
    for (let i = 0; i < 40 * SCALE; i++) {
      const [from, to] = [rng.pick(KEYS), rng.pick(KEYS)]
      if (from === to) continue
      const res = await request(s, 'PUT', `/race/${to}`, { 'x-amz-copy-source': `/race/${from}` })
      counts.copies++
      if (res.status === 404 && res.code === 'NoSuchKey') continue
      const etag = /<ETag>([^<]*)<\/ETag>/.exec(res.text)?.[1]?.replaceAll('&quot;', '"') ?? ''
      if (res.status !== 200 || !written.has(etag)) problems.push(`COPY ${from} → ${to}: ${res.status} ${res.code} ${etag}`)
    }
  }

  const deleter = async (): Promise<void> => {
    for (let i = 0; i < 40 * SCALE; i++) {
      if (rng.chance(0.5)) {
        const res = await request(s, 'DELETE', `/race/${rng.pick(KEYS)}`)
        if (res.status !== 204) problems.push(`DELETE: ${res.status} ${res.code}`)
      } else {
        const xml = `<Delete><Quiet>true</Quiet>${KEYS.filter(() => rng.chance(0.3)).map(k => `<Object><Key>${k}</Key></Object>`).join('')}<Object><Key>z</Key></Object></Delete>`
        const res = await request(s, 'POST', '/race?delete', { 'content-md5': Buffer.from(md5hex(xml), 'hex').toString('base64') }, xml)
        if (res.status !== 200 || res.text.includes('<Error>')) problems.push(`DeleteObjects: ${res.status} ${res.code} ${res.text.slice(0, 200)}`)
      }
      counts.deletes++
    }
  }

  // A request cut off (the server gave up on a damaged object midway) is a finding, not a crash.
  const noted = async (what: string, work: Promise<void>): Promise<void> => { await work.catch((err: Error) => { problems.push(`${what}: ${err.message}`) }) }
  const started = Date.now()
  await Promise.all([
    ...Array.from({ length: 6 }, async (_, id) => { await noted(`writer ${id}`, writer(id)) }),
    ...Array.from({ length: 6 }, async (_, id) => { await noted(`reader ${id}`, reader()) }),
    ...Array.from({ length: 3 }, async (_, id) => { await noted(`lister ${id}`, lister()) }),
    noted('copier', copier()),
    ...Array.from({ length: 2 }, async (_, id) => { await noted(`deleter ${id}`, deleter()) })
  ])
  t.comment(`${JSON.stringify(counts)} in ${Date.now() - started} ms`)
  t.same(problems, [], 'every answer consistent with some whole version')

  // Quiet now: the listing is exactly the keys a GET finds, each whole.
  const listed = (await request(s, 'GET', '/race?list-type=2')).text
  const keys = [...listed.matchAll(/<Key>([^<]*)<\/Key>/g)].map(m => m[1]!)
  for (const key of KEYS) {
    const res = await request(s, 'GET', `/race/${key}`)
    if (res.status === 200) t.equal(md5hex(res.body), written.get(String(res.headers.etag))?.md5, `${key} is whole`)
    t.equal(keys.includes(key), res.status === 200, `${key}: listed if and only if it is there`)
  }
})

function crc32Base64 (body: Buffer): string {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(crc32(body) >>> 0)
  return out.toString('base64')
}

t.test('conditional PUTs racing on one key have exactly one winner', async t => {
  const s = await serve(t, { open: { memory: true, chunkSize: 8 * 1024 } })
  await s.box.createBucket('cond')

  t.test('If-None-Match: * — one 200, the rest 412, and the object is the winner\'s', async t => {
    for (let round = 0; round < 10 * SCALE; round++) {
      const bodies = Array.from({ length: 12 }, (_, i) => content(round * 100 + i + 1, 64 * 1024 + i))
      const answers = await Promise.all(bodies.map(async body => await request(s, 'PUT', `/cond/new-${round}`, { 'if-none-match': '*' }, body)))
      const winners = answers.filter(a => a.status === 200)
      t.equal(winners.length, 1, `round ${round}: one winner`)
      t.ok(answers.every(a => a.status === 200 || (a.status === 412 && a.code === 'PreconditionFailed')), `round ${round}: the rest PreconditionFailed (${answers.map(a => a.status).join(' ')})`)
      const stored = await request(s, 'GET', `/cond/new-${round}`)
      t.equal(stored.headers.etag, winners[0]?.headers.etag, `round ${round}: the object is the winner's`)
      t.equal(`"${md5hex(stored.body)}"`, stored.headers.etag)
    }
  })

  t.test('If-Match on the current ETag — one 200, the rest 412: a compare-and-swap', async t => {
    let current = (await request(s, 'PUT', '/cond/cas', {}, 'v0')).headers.etag as string
    for (let round = 0; round < 10 * SCALE; round++) {
      const answers = await Promise.all(Array.from({ length: 12 }, async (_, i) => await request(s, 'PUT', '/cond/cas', { 'if-match': current }, content(round * 100 + i + 1, 20 * 1024))))
      const winners = answers.filter(a => a.status === 200)
      t.equal(winners.length, 1, `round ${round}: one winner`)
      t.ok(answers.every(a => a.status === 200 || a.status === 412), `round ${round}: the rest 412`)
      current = winners[0]?.headers.etag as string
      t.equal((await request(s, 'HEAD', '/cond/cas')).headers.etag, current)
    }
  })
})

t.test('a multipart complete racing an abort ends in one clean state', async t => {
  const s = await serve(t, { open: { memory: true, minPartSize: 1, chunkSize: 8 * 1024 } })
  await s.box.createBucket('mpu')
  const outcomes = new Map<string, number>()
  for (let round = 0; round < 48 * SCALE; round++) {
    const key = `obj-${round}`
    const created = await request(s, 'POST', `/mpu/${key}?uploads`)
    const uploadId = /<UploadId>([^<]+)</.exec(created.text)?.[1] ?? ''
    const parts = [content(round + 1, 40 * 1024), content(round + 1000, 30 * 1024)]
    const etags: string[] = []
    for (const [i, part] of parts.entries()) etags.push((await request(s, 'PUT', `/mpu/${key}?partNumber=${i + 1}&uploadId=${uploadId}`, {}, part)).headers.etag as string)
    const xml = `<CompleteMultipartUpload>${etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
    // The complete sets out first in some rounds, the abort in others, a few turns of the event
    // loop apart: the two meet in the engine at every offset.
    const [completeDelay, abortDelay] = round % 2 === 0 ? [0, (round >> 1) % 8] : [(round >> 1) % 8, 0]
    const [complete, abort] = await Promise.all([
      turns(completeDelay).then(async () => await request(s, 'POST', `/mpu/${key}?uploadId=${uploadId}`, {}, xml)),
      turns(abortDelay).then(async () => await request(s, 'DELETE', `/mpu/${key}?uploadId=${uploadId}`))
    ])
    const outcome = `complete ${complete.status} ${complete.code}, abort ${abort.status} ${abort.code}`
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
    const stored = await request(s, 'GET', `/mpu/${key}`)
    if (complete.status === 200) {
      t.equal(stored.status, 200, `${key}: completed (${outcome}), so it is there`)
      t.same(stored.body, Buffer.concat(parts), `${key}: the parts, whole`)
      t.equal(stored.headers.etag, /<ETag>([^<]+)</.exec(complete.text)?.[1]?.replaceAll('&quot;', '"'))
      t.ok(abort.status === 204 || abort.code === 'NoSuchUpload', `${key}: the abort found nothing left to abort, or was too late to matter (${outcome})`)
    } else {
      t.equal(complete.code, 'NoSuchUpload', `${key}: the complete lost to the abort (${outcome})`)
      t.equal(abort.status, 204)
      t.equal(stored.status, 404, `${key}: aborted, so it is absent`)
    }
    t.equal((await s.box.listMultipartUploads('mpu', { prefix: key })).uploads.length, 0, `${key}: no upload left`)
  }
  t.comment([...outcomes].map(([o, n]) => `${o}: ${n}`).join('; '))
})
