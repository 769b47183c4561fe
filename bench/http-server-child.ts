/**
 * One S3 server of the HTTP scenarios, in a process of its own so that it shares no event loop and
 * no CPU account with the client:
 *
 *   fork: node --expose-gc http-server-child.js <spacebox|s3rver> <dir>   (with an IPC channel)
 *
 * spacebox serves a store on disk in <dir> through createS3Server; s3rver (3.7.1, silent) keeps
 * its files in <dir>, as it does for its users. Both listen on 127.0.0.1 on a free port with the
 * bench bucket made, send a Ready message, and answer the parent's requests (see ToChild) until
 * the parent disconnects, which closes the server and its store.
 */
import { createRequire } from 'node:module'
import { Spacebox } from '../lib/index.js'
import { createS3Server } from '../lib/s3/index.js'
import { type Peaks, watchMemory } from './memory.js'
import { BUCKET, keyOf, pattern, pool } from './stores.js'

export type ServerKind = 'spacebox' | 's3rver'

export interface Credentials { accessKeyId: string, secretAccessKey: string }

export interface Ready { ready: true, url: string, credentials: Credentials }

/** What the parent asks. */
export type Ask =
  /** The process's CPU time so far (user + system, µs): server CPU per operation is its growth over a sample. */
  | { op: 'cpu' }
  /** Start watching memory (peak RSS); `peaks` stops and answers with what was seen. */
  | { op: 'watch' }
  | { op: 'peaks' }
  /** Store objects keyOf(0..count-1) of `size` bytes directly (no HTTP), 16 at a time: untimed arrangement. */
  | { op: 'fill', count: number, size: number }

/** A request of the parent; the child answers each with a Reply of the same id. */
export type ToChild = { id: number } & Ask

export type Reply = { id: number } & ({ cpuUs: number } | { peaks: Peaks } | { error: string } | { done: true })

/** What a side needs of its server: how to store an object without HTTP, and how to stop. */
interface Served {
  url: string
  credentials: Credentials
  store: (key: string, body: Buffer) => Promise<void>
  close: () => Promise<void>
}

async function serveSpacebox (dir: string): Promise<Served> {
  const box = await Spacebox.open({ location: dir })
  if (!(await box.listBuckets()).some(b => b.name === BUCKET)) await box.createBucket(BUCKET)
  const key = await box.keys.create({ name: 'bench', grants: [{ bucket: '', permission: 'fullaccess' }] })
  const server = await createS3Server(box, { host: '127.0.0.1', port: 0 })
  return {
    url: server.url,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    store: async (name, body) => { await box.putObject(BUCKET, name, body) },
    close: async () => {
      await server.close({ timeout: 1000 })
      await box.close()
    }
  }
}

/** The little of s3rver 3.7.1 used here (it ships no types). */
interface S3rverClass {
  new (options: Record<string, unknown>): {
    run: () => Promise<{ port: number }>
    close: () => Promise<void>
    store: { putObject: (object: unknown) => Promise<unknown> }
  }
}
type S3ObjectClass = new (bucket: string, key: string, content: Buffer, metadata: Record<string, string>) => unknown

async function serveS3rver (dir: string): Promise<Served> {
  const require = createRequire(import.meta.url)
  const S3rver = require('s3rver') as S3rverClass
  // Its own object model, so that filling writes exactly what a PUT would (data, metadata, MD5).
  const S3Object = require('s3rver/lib/models/object.js') as S3ObjectClass
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] })
  const { port } = await server.run()
  return {
    url: `http://127.0.0.1:${port}`,
    // The one key pair s3rver accepts.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    store: async (name, body) => { await server.store.putObject(new S3Object(BUCKET, name, body, {})) },
    close: async () => { await server.close() }
  }
}

const [kind, dir] = process.argv.slice(2)
if ((kind !== 'spacebox' && kind !== 's3rver') || dir === undefined || process.send === undefined) {
  throw new Error('usage: fork http-server-child.js <spacebox|s3rver> <dir>, with an IPC channel')
}
const send = (message: Ready | Reply): void => { process.send?.(message) }
const served = kind === 'spacebox' ? await serveSpacebox(dir) : await serveS3rver(dir)
let watching: { stop: () => Peaks } | undefined

process.on('message', (message: ToChild) => {
  answer(message).then(send, (err: unknown) => {
    send({ id: message.id, error: err instanceof Error ? err.message : String(err) })
  })
})
// The parent is done (or gone): close, and let the process end of itself once every write is
// out (s3rver does not wait for its files) and a --cpu-prof profile is written.
process.once('disconnect', () => { served.close().catch(() => {}) })
send({ ready: true, url: served.url, credentials: served.credentials })

async function answer (message: ToChild): Promise<Reply> {
  const { id } = message
  switch (message.op) {
    case 'cpu': {
      const { user, system } = process.cpuUsage()
      return { id, cpuUs: user + system }
    }
    case 'watch':
      watching = watchMemory()
      return { id, done: true }
    case 'peaks': {
      if (watching === undefined) throw new Error('peaks asked before watch')
      const peaks = watching.stop()
      watching = undefined
      return { id, peaks }
    }
    case 'fill': {
      const body = pattern(message.size)
      await pool(message.count, 16, async i => { await served.store(keyOf(i), body) })
      return { id, done: true }
    }
  }
}
