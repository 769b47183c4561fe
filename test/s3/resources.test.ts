// Resource bounds of the S3 adapter, measured on a server in a child process of its own
// (test/fixtures/s3-server-child.ts) on an on-disk store, so its RSS is the server's alone:
// a 1 GiB object streamed in and out, a reader that stops reading, a close with requests in flight.
//
//   npx tap --disable-coverage test/s3/resources.test.ts                       # 1 GiB
//   SPACEBOX_LONG_TESTS=1 npx tap -t 0 --disable-coverage test/s3/resources.test.ts   # 4 GiB
import t, { type Test } from 'tap'
import { fork, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import { fileURLToPath } from 'node:url'
import { crc32 } from 'node:zlib'
import { Spacebox } from '../../lib/index.js'
import { bytes, readAll, tempDir } from '../helpers.js'
import { signV4, type Creds } from './wire.js'

const LONG = process.env.SPACEBOX_LONG_TESTS === '1'
const MiB = 1024 * 1024
const SIZE = (LONG ? 4 : 1) * 1024 * MiB
/** The bound on the server's RSS growth while it streams an object either way. */
const MAX_GROWTH = 64 * MiB
const child = fileURLToPath(new URL('../fixtures/s3-server-child.ts', import.meta.url))

interface Memory {
  /** Resident memory less mapped file pages, after a full GC. */
  anon: number
  /** The highest `anon` seen since the last reset. */
  peak: number
  /** Resident mapped file pages (LevelDB's tables). */
  file: number
}

interface ServerChild {
  url: string
  host: string
  credentials: Creds
  location: string
  memory: (reset?: boolean) => Promise<Memory>
  /** How many requests the server has received. */
  requests: () => Promise<number>
  /** Close the server and the store at once: `closing` once the server stops accepting, then the
   * child's report and its exit code. */
  close: (serverTimeout: number, storeTimeout: number) => { closing: Promise<void>, closed: Promise<{ ms: number, error?: string, code: number | null }> }
  stderr: () => string
}

/** The server child on a new store in a temp dir, killed if still there when the test ends. */
async function startServer (t: Test): Promise<ServerChild> {
  const location = await tempDir(t)
  // The TypeScript loader tap gave this process, as test/cli.test.ts runs lib/cli/main.ts.
  const loader = process.execArgv.filter(arg => arg.includes('@tapjs/typescript'))
  const proc: ChildProcess = fork(child, [location], {
    execArgv: [...loader, '--expose-gc'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc']
  })
  t.teardown(() => { proc.kill('SIGKILL') })
  let stderr = ''
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const exited = once(proc, 'exit') as Promise<[number | null]>
  const next = async <M extends { type: string }>(type: M['type']): Promise<M> => await new Promise((resolve, reject) => {
    const onMessage = (message: M): void => {
      if (message.type !== type) return
      proc.off('message', onMessage)
      resolve(message)
    }
    proc.on('message', onMessage)
    exited.then(() => { reject(new Error(`the server child exited: ${stderr}`)) }, reject)
  })
  const ready = await next<{ type: 'ready', url: string, credentials: Creds }>('ready')
  return {
    url: ready.url,
    host: new URL(ready.url).host,
    credentials: ready.credentials,
    location,
    memory: async (reset = false) => {
      const answer = next<Memory & { type: 'memory' }>('memory')
      proc.send({ type: 'memory', reset })
      return await answer
    },
    requests: async () => {
      const answer = next<{ type: 'requests', count: number }>('requests')
      proc.send({ type: 'requests' })
      return (await answer).count
    },
    close: (serverTimeout, storeTimeout) => {
      const closing = next<{ type: 'closing' }>('closing')
      const answer = next<{ type: 'closed', ms: number, error?: string }>('closed')
      proc.send({ type: 'close', serverTimeout, storeTimeout })
      return {
        closing: closing.then(() => {}),
        closed: answer.then(async report => ({ ...report, code: (await exited)[0] }))
      }
    },
    stderr: () => stderr
  }
}

/** Piece `i` of a generated object: a fixed random MiB stamped with its index, so no two pieces are alike. */
function piece (base: Buffer, i: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length)
  base.copy(out, 0, 0, length)
  if (length >= 8) out.writeDoubleBE(i, 0)
  return out
}

interface Sent { status: number, etag: string, code: string, crc: number, ms: number }

/** The response to a request whose body is being written, read whole. */
async function responseOf (req: ClientRequest): Promise<{ res: IncomingMessage, body: Buffer }> {
  return await new Promise((resolve, reject) => {
    req.on('response', res => { readAll(res).then(body => { resolve({ res, body }) }, reject) })
    req.on('error', reject)
  })
}

/**
 * PUT `size` generated bytes, written with backpressure, their CRC32 taken on the way: as an
 * aws-chunked body with an unsigned CRC32 trailer (what the SDKs send by default), or plain with
 * UNSIGNED-PAYLOAD. `pause` ms between MiBs after the first `fast` MiBs makes a slow client.
 */
async function put (s: ServerChild, path: string, size: number, options: { chunked?: boolean, pause?: number, fast?: number } = {}): Promise<Sent> {
  const pieces = Math.ceil(size / MiB)
  const last = size - (pieces - 1) * MiB
  const chunked = options.chunked ?? false
  const frame = (n: number): number => n.toString(16).length + 2 + n + 2
  const trailer = '0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n'.length
  const headers: Record<string, string> = chunked
    ? {
        'content-encoding': 'aws-chunked',
        'content-length': String((pieces - 1) * frame(MiB) + frame(last) + trailer),
        'x-amz-decoded-content-length': String(size),
        'x-amz-trailer': 'x-amz-checksum-crc32'
      }
    : { 'content-length': String(size) }
  const sig = signV4(s.credentials, 'PUT', path, s.host, headers, '', { payload: chunked ? 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' : 'UNSIGNED-PAYLOAD' })
  const { hostname, port } = new URL(s.url)
  const started = Date.now()
  const req = request({ host: hostname, port, method: 'PUT', path, headers: sig.headers, agent: false })
  const response = responseOf(req)
  // A server that answers early (an error) or goes away ends the writing.
  let answered = false
  response.then(() => { answered = true }, () => { answered = true })
  let crc = 0
  let i = 0
  for (const data of content(size)) {
    if (answered) break
    crc = crc32(data, crc)
    const more = chunked ? [req.write(`${data.length.toString(16)}\r\n`), req.write(data), req.write('\r\n')].every(Boolean) : req.write(data)
    if (!more) await Promise.race([once(req, 'drain'), response.catch(() => {})])
    if (options.pause !== undefined && i++ >= (options.fast ?? 0)) await sleep(options.pause)
  }
  if (!answered) {
    const checksum = Buffer.alloc(4)
    checksum.writeUInt32BE(crc >>> 0)
    req.end(chunked ? `0\r\nx-amz-checksum-crc32:${checksum.toString('base64')}\r\n\r\n` : undefined)
  }
  const { res, body } = await response
  return {
    status: res.statusCode ?? 0,
    etag: String(res.headers.etag ?? ''),
    code: /<Code>([^<]*)<\/Code>/.exec(body.toString())?.[1] ?? '',
    crc,
    ms: Date.now() - started
  }
}

/** The MD5 (hex) of the first `size` bytes put() sends. */
function contentMd5 (size: number): string {
  const md5 = createHash('md5')
  for (const data of content(size)) md5.update(data)
  return md5.digest('hex')
}

/** The CRC32 of the first `size` bytes put() sends. */
function contentCrc (size: number): number {
  let crc = 0
  for (const data of content(size)) crc = crc32(data, crc)
  return crc
}

function * content (size: number): Generator<Buffer> {
  const base = bytes(MiB, 7)
  for (let i = 0; i * MiB < size; i++) yield piece(base, i, Math.min(MiB, size - i * MiB))
}

interface Got { status: number, etag: string, md5: string, crc: number, size: number, ms: number }

/** GET an object, hashing what arrives; `onData` sees the running count (and may pause the response). */
async function get (s: ServerChild, path: string, onData?: (res: IncomingMessage, received: number) => void, headers: Record<string, string> = {}): Promise<Got> {
  const sig = signV4(s.credentials, 'GET', path, s.host, headers)
  const { hostname, port } = new URL(s.url)
  const started = Date.now()
  return await new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method: 'GET', path, headers: sig.headers, agent: false }, res => {
      const md5 = createHash('md5')
      let crc = 0
      let size = 0
      res.on('data', (data: Buffer) => {
        md5.update(data)
        crc = crc32(data, crc)
        size += data.length
        onData?.(res, size)
      })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, etag: String(res.headers.etag ?? ''), md5: md5.digest('hex'), crc, size, ms: Date.now() - started }) })
      res.on('error', reject)
      res.on('close', () => { if (!res.complete) reject(new Error(`cut off after ${size} bytes`)) })
    })
    req.on('error', reject)
    req.end()
  })
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

function mib (n: number): string {
  return `${(n / MiB).toFixed(1)} MiB`
}

/** `promise`, or a failure naming `what` once `ms` have passed: a hang fails the test rather than stalling it. */
async function within<T> (ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what}: no end after ${ms} ms`)) }, ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

t.test(`a ${SIZE / 1024 / MiB} GiB object through the adapter, then a close with requests in flight`, async t => {
  const s = await startServer(t)
  const path = '/big/object'
  let sent: Sent | undefined

  t.test('a PUT (aws-chunked, CRC32 trailer) streams in while the server grows less than 64 MiB', async t => {
    const before = await s.memory(true)
    sent = await put(s, path, SIZE, { chunked: true })
    const after = await s.memory()
    t.equal(sent.status, 200, `PUT answered 200 ${sent.code}`)
    t.comment(`PUT ${mib(SIZE)} in ${sent.ms} ms (${(SIZE / MiB / sent.ms * 1000).toFixed(0)} MiB/s); mapped file pages ${mib(before.file)} → ${mib(after.file)}`)
    t.ok(after.peak - before.anon < MAX_GROWTH, `the server grew ${mib(after.peak - before.anon)}, under ${mib(MAX_GROWTH)}`)
  })

  t.test('a GET streams every byte out, hashing to the ETag, while the server grows less than 64 MiB', async t => {
    const before = await s.memory(true)
    const got = await get(s, path)
    const after = await s.memory()
    t.equal(got.status, 200)
    t.equal(got.size, SIZE, 'every byte came back')
    t.equal(got.etag, sent?.etag, 'the ETag the PUT answered')
    t.equal(`"${got.md5}"`, got.etag, 'the bytes read hash (MD5) to the ETag')
    t.equal(got.crc, sent?.crc, 'and are the bytes sent (CRC32)')
    t.comment(`GET ${mib(SIZE)} in ${got.ms} ms (${(SIZE / MiB / got.ms * 1000).toFixed(0)} MiB/s); mapped file pages ${mib(before.file)} → ${mib(after.file)}`)
    t.ok(after.peak - before.anon < MAX_GROWTH, `the server grew ${mib(after.peak - before.anon)}, under ${mib(MAX_GROWTH)}`)
  })

  t.test('a reader that stops reading holds the server at its pace: memory stays flat, and the GET completes when it resumes', async t => {
    // 256 MiB of the object: were the server to buffer what the client does not read, it would show.
    const length = Math.min(SIZE, 256 * MiB)
    const before = await s.memory(true)
    let stopped: (res: IncomingMessage) => void = () => {}
    const stop = new Promise<IncomingMessage>(resolve => { stopped = resolve })
    let received = 0
    let paused = false
    const reading = get(s, path, (res, count) => {
      received = count
      if (count >= 16 * MiB && !paused) {
        paused = true
        res.pause()
        stopped(res)
      }
    }, { range: `bytes=0-${length - 1}` })
    const res = await stop
    // Let the socket buffers fill, then watch the server while the client reads nothing.
    await sleep(300)
    const pausedAt = received
    const start = await s.memory(true)
    await sleep(1500)
    const end = await s.memory()
    t.equal(received, pausedAt, 'nothing more was delivered while paused')
    t.ok(end.anon - start.anon < 4 * MiB, `flat while paused: ${mib(end.anon - start.anon)} over 1.5 s`)
    t.ok(end.peak - before.anon < MAX_GROWTH, `${mib(end.peak - before.anon)} over the server's memory before the GET of ${mib(length)}`)
    res.resume()
    const got = await reading
    t.equal(got.status, 206)
    t.equal(got.size, length, 'the rest arrived after resuming')
    t.equal(got.crc, contentCrc(length), 'the bytes of the range')
  })

  t.test('closing the server and the store with requests in flight ends each one cleanly, and the store reopens whole', async t => {
    const earlier = await s.requests()
    const small: Array<{ key: string, size: number, etag: string }> = []
    for (let i = 0; i < 8; i++) {
      const size = 1000 + i * 700
      const done = await put(s, `/big/small-${i}`, size)
      t.equal(done.status, 200, `small-${i} acknowledged`)
      small.push({ key: `small-${i}`, size, etag: done.etag })
    }
    // Uploads that cannot be done in the store's grace period, and readers that stopped reading;
    // then, just before the close, uploads the grace period covers and readers that cannot finish.
    const writes = [0, 1, 2].map(i => ({ key: `slow-${i}`, size: 64 * MiB, outcome: put(s, `/big/slow-${i}`, 64 * MiB, { chunked: i === 0, pause: 50, fast: 2 }) }))
    const stalled: IncomingMessage[] = []
    const reads = [0, 1].map(() => get(s, path, (res, count) => {
      if (count >= MiB && !stalled.includes(res)) {
        res.pause()
        stalled.push(res)
      }
    }))
    await sleep(300)
    const finishing = [0, 1].map(i => ({ key: `finishing-${i}`, size: 8 * MiB + i, outcome: put(s, `/big/finishing-${i}`, 8 * MiB + i, { chunked: i === 1, pause: 50, fast: 2 }) }))
    writes.push(...finishing)
    reads.push(...[0, 1].map(() => get(s, path)))
    // Close once the server has every one of these requests.
    for (let waited = 0; await s.requests() - earlier < small.length + writes.length + reads.length && waited < 5000; waited += 10) await sleep(10)
    // The store gives calls 2 s; the server's own cut comes far later, so that a machine busy with
    // other suites cannot pass for a request that did not end on its own.
    const { closing, closed } = s.close(15_000, 2000)
    setTimeout(() => { for (const res of stalled) res.resume() }, 500)
    await closing
    await t.rejects(get(s, '/big/small-0'), { code: 'ECONNREFUSED' }, 'a connection after the close began is refused')

    const [written, read] = await within(20_000, 'the requests in flight', Promise.all([Promise.allSettled(writes.map(w => w.outcome)), Promise.allSettled(reads)]))
    const report = await within(20_000, 'the close', closed)
    t.equal(report.error, undefined, 'the server and the store closed without an error')
    t.equal(report.code, 0, 'the server process exited on its own')
    t.ok(report.ms < 12_000, `closed in ${report.ms} ms: every request ended on its own, none had to be cut at the server's 15 s`)
    t.notMatch(s.stderr(), /Error|Unhandled|uncaught/i, 'nothing went to stderr')
    const describe = (o: PromiseSettledResult<{ status: number }>): string => o.status === 'fulfilled' ? String(o.value.status) : (o.reason as Error).message
    t.comment(`uploads: ${written.map(describe).join('; ')}; reads: ${read.map(describe).join('; ')}`)
    for (const [i, outcome] of written.entries()) {
      if (i >= writes.length - finishing.length) t.ok(outcome.status === 'fulfilled' && outcome.value.status === 200, `${writes[i]!.key}, in the grace period, completed`)
      else t.ok(outcome.status === 'rejected' || outcome.value.status === 503, `${writes[i]!.key}, past the grace period, failed: ${describe(outcome)}`)
    }
    for (const outcome of read) {
      if (outcome.status === 'fulfilled') t.equal(`"${outcome.value.md5}"`, outcome.value.etag, 'a read that completed is whole')
    }

    const box = await Spacebox.open({ location: s.location })
    t.teardown(async () => { await box.close() })
    for (const { key, size, etag } of small) {
      const info = await box.headObject('big', key)
      t.equal(info.etag, etag, `${key}, acknowledged before the close, is there`)
      t.equal(info.size, size)
    }
    t.equal((await box.headObject('big', 'object')).etag, sent?.etag, 'the object being read is untouched')
    for (const [i, write] of writes.entries()) {
      const outcome = written[i]!
      const acknowledged = outcome.status === 'fulfilled' && outcome.value.status === 200
      const found = await box.getObject('big', write.key).catch(() => undefined)
      if (found === undefined) {
        t.notOk(acknowledged, `${write.key}: absent, and it was not acknowledged`)
        continue
      }
      const md5 = createHash('md5').update(await readAll(found.body)).digest('hex')
      t.equal(found.info.size, write.size, `${write.key}: stored whole (${acknowledged ? 'acknowledged' : 'committed as the connection went'})`)
      t.equal(md5, contentMd5(write.size), `${write.key}: the bytes sent`)
      t.equal(found.info.etag, `"${md5}"`, `${write.key}: with their ETag`)
    }
    t.same((await box.listMultipartUploads('big')).uploads, [], 'no upload left open')
  })
})
