/**
 * The parent's handle on a server child (http-server-child.ts): start it, ask it for its CPU time
 * and memory peaks, fill it, stop it.
 *
 * Set BENCH_CPU_PROF=<dir> to have spacebox's server children write V8 CPU profiles there
 * (node --cpu-prof), to see where a server spends its time.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Ask, Credentials, Ready, Reply, ServerKind, ToChild } from './http-server-child.js'
import type { Peaks } from './memory.js'

export type { Credentials, ServerKind }

const CHILD = fileURLToPath(new URL('./http-server-child.js', import.meta.url))

export interface Server {
  kind: ServerKind
  /** `http://127.0.0.1:<port>` */
  url: string
  credentials: Credentials
  /** The process's CPU time so far (user + system), in µs. */
  cpu: () => Promise<number>
  /** Start watching the process's peak RSS; `peaks()` ends the watch and tells what it saw. */
  watch: () => Promise<void>
  peaks: () => Promise<Peaks>
  /** Store objects keyOf(0..count-1) of `size` bytes through the server's own store (no HTTP, untimed). */
  fill: (count: number, size: number) => Promise<void>
  /** Close the server and its store and wait for the process to end. */
  close: () => Promise<void>
}

/** Start a server on (or again on) the store in `dir`. */
export async function startServer (kind: ServerKind, dir: string): Promise<Server> {
  const execArgv = ['--expose-gc']
  // s3rver 3.7.1 makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its
  // legacy provider: without it, any truncated listing fails on Node 20.
  if (kind === 's3rver') execArgv.push('--openssl-legacy-provider')
  const profiles = process.env.BENCH_CPU_PROF
  if (kind === 'spacebox' && profiles !== undefined && profiles !== '') execArgv.push('--cpu-prof', `--cpu-prof-dir=${profiles}`)
  const child = fork(CHILD, [kind, dir], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (message: Ready) => { resolve(message) })
    child.once('exit', code => { reject(new Error(`${kind} server exited (${String(code)}) before it was ready`)) })
    child.once('error', reject)
  })
  const ask = asker(child, kind)
  return {
    kind,
    url: ready.url,
    credentials: ready.credentials,
    cpu: async () => (await ask({ op: 'cpu' }) as { cpuUs: number }).cpuUs,
    watch: async () => { await ask({ op: 'watch' }) },
    peaks: async () => (await ask({ op: 'peaks' }) as { peaks: Peaks }).peaks,
    fill: async (count, size) => { await ask({ op: 'fill', count, size }) },
    close: async () => {
      if (child.connected) child.disconnect()
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** Requests to the child, each answered by the Reply of its id. */
function asker (child: ChildProcess, kind: ServerKind): (ask: Ask) => Promise<Reply> {
  let last = 0
  const waiting = new Map<number, { resolve: (reply: Reply) => void, reject: (err: Error) => void }>()
  child.on('message', (reply: Reply) => {
    const pending = waiting.get(reply.id)
    if (pending === undefined) return
    waiting.delete(reply.id)
    if ('error' in reply) pending.reject(new Error(`${kind} server: ${reply.error}`))
    else pending.resolve(reply)
  })
  child.once('exit', code => {
    for (const pending of waiting.values()) pending.reject(new Error(`${kind} server exited (${String(code)})`))
    waiting.clear()
  })
  return async ask => await new Promise<Reply>((resolve, reject) => {
    const id = ++last
    waiting.set(id, { resolve, reject })
    const message: ToChild = { ...ask, id }
    child.send(message)
  })
}
