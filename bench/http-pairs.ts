/**
 * What the HTTP scenarios compare and how: two servers (spacebox and s3rver, each in a process of
 * its own), a client of the same kind for each in this process, measured in interleaved pairs with
 * each server's CPU time per operation, which a slow client cannot hide.
 */
import { join } from 'node:path'
import { type Client, leanClient, sdkClient } from './http-clients.js'
import { type Server, type ServerKind, startServer } from './http-server.js'
import { type Check, type Figures, type RunOptions, type Side, Tally, figures, interleave, sample } from './scenario.js'

/** How long each side runs untimed before its first measured pair. */
const WARM_MS = 4000

export interface HttpPair {
  /** Heads the scenario's name. */
  label: string
  baselineName: string
  /** The servers of side a and side b; one process serves both when they are of one kind. */
  kinds: readonly [ServerKind, ServerKind]
  /** A client of side a or b for its server, for up to `inFlight` requests at once. */
  client: (side: 'a' | 'b', server: Server, inFlight: number) => Client
}

export const lean: HttpPair = {
  label: 'http, lean client',
  baselineName: 's3rver',
  kinds: ['spacebox', 's3rver'],
  client: (_side, server, inFlight) => leanClient(server, inFlight)
}

/** The AWS SDK with checksums only where required, on both servers: s3rver takes nothing else. */
export const awsSdk: HttpPair = {
  label: 'http, AWS SDK',
  baselineName: 's3rver',
  kinds: ['spacebox', 's3rver'],
  client: (_side, server) => sdkClient(server, 'when required')
}

/** spacebox alone: the SDK with its defaults (CRC32 on every put and get) against the SDK without. */
export const awsSdkDefaults: HttpPair = {
  label: 'http, AWS SDK defaults (spacebox only)',
  baselineName: 'spacebox, SDK checksums when required',
  kinds: ['spacebox', 'spacebox'],
  client: (side, server) => sdkClient(server, side === 'a' ? 'defaults' : 'when required')
}

export interface Servers {
  a: Server
  b: Server
  close: () => Promise<void>
}

let dirs = 0

/**
 * The pair's servers on fresh stores in `tmp`, started side by side. With `fill`, each store gets
 * those objects and its server is started again on it, so that nothing left over from filling (a
 * LevelDB compaction, writes s3rver did not wait for) runs while measuring.
 */
export async function startServers (pair: HttpPair, tmp: string, fill?: { count: number, size: number }): Promise<Servers> {
  const kinds = pair.kinds[0] === pair.kinds[1] ? [pair.kinds[0]] : [...pair.kinds]
  const paths = kinds.map(kind => join(tmp, `${kind}-${++dirs}`))
  const start = async (): Promise<Server[]> => {
    const started = await Promise.allSettled(kinds.map(async (kind, i) => await startServer(kind, paths[i] as string)))
    const servers = started.flatMap(s => s.status === 'fulfilled' ? [s.value] : [])
    const failed = started.find(s => s.status === 'rejected')
    if (failed !== undefined) {
      await Promise.all(servers.map(async s => { await s.close() }))
      throw failed.reason
    }
    return servers
  }
  let servers = await start()
  if (fill !== undefined) {
    try {
      await Promise.all(servers.map(async s => { await s.fill(fill.count, fill.size) }))
    } finally {
      await Promise.all(servers.map(async s => { await s.close() }))
    }
    servers = await start()
  }
  return {
    a: servers[0] as Server,
    b: servers.at(-1) as Server,
    close: async () => { await Promise.all(servers.map(async s => { await s.close() })) }
  }
}

/** One side of a comparison: the operation, on its server through its client. */
export interface Endpoint {
  server: Server
  side: Side
}

export interface Compared {
  /** Throughput per operation: 1 for ops/s, the object's MiB for MiB/s. */
  perOp: number
  baselineName: string
  /** The most server CPU per operation spacebox may spend, as a fraction of the baseline's. */
  maxCpuRatio?: number
}

/**
 * Throughput of a and b in interleaved pairs (`inFlight` operations at once), with each server's
 * CPU time per operation over every sample of its side (warm-up included: it costs the same), and
 * the client's (this process's) in the notes.
 */
export async function compare (a: Endpoint, b: Endpoint, inFlight: number, options: RunOptions, how: Compared): Promise<Figures> {
  // This process's CPU too: on 2 cores the client is often what bounds the throughput.
  const tally = (server: Server): Tally => new Tally(async () => {
    const { user, system } = process.cpuUsage()
    return { cpuUs: await server.cpu(), clientUs: user + system }
  })
  const ta = tally(a.server)
  const tb = tally(b.server)
  // A server process is new to each scenario, and reaches steady speed only after thousands of
  // requests, well past the interleaved pairs' own short warm-up: here spacebox's 1 KiB PUTs after
  // about 1.5 s, s3rver's after about 4 s (its throughput triples meanwhile).
  const warm = { ...options.pace, sampleMs: WARM_MS }
  await sample(a.side, inFlight, warm)
  await sample(b.side, inFlight, warm)
  const ops = await interleave(ta.wrap(a.side), tb.wrap(b.side), inFlight, options.pace)
  const out = figures(ops.a.map(x => x * how.perOp), ops.b.map(x => x * how.perOp), how.baselineName)
  const cpu = { unit: 'µs/op', spacebox: ta.per('cpuUs'), baseline: tb.per('cpuUs'), ratio: ta.per('cpuUs') / tb.per('cpuUs') }
  const checks: Check[] = how.maxCpuRatio === undefined
    ? []
    : [{ goal: `server CPU/op ≤ ${how.maxCpuRatio} × ${how.baselineName}'s`, value: `${cpu.ratio.toFixed(3)} ×`, met: cpu.ratio <= how.maxCpuRatio }]
  const notes = { 'client CPU µs/op, spacebox side': ta.per('clientUs'), [`client CPU µs/op, ${how.baselineName} side`]: tb.per('clientUs') }
  return { ...out, serverCpu: cpu, notes, ...(checks.length === 0 ? {} : { checks }) }
}

/** Run `body` with a client of each side, closing them afterwards. */
export async function withClients<T> (pair: HttpPair, servers: Servers, inFlight: number, body: (a: Client, b: Client) => Promise<T>): Promise<T> {
  const a = pair.client('a', servers.a, inFlight)
  const b = pair.client('b', servers.b, inFlight)
  try {
    return await body(a, b)
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}
