/**
 * A 256 MiB object streamed over HTTP with the lean client, PUT and GET: spacebox against s3rver,
 * in MiB/s, with each server's CPU time per MiB and its peak RSS growth during the transfer. Each
 * PUT goes to servers started afresh on empty stores; the GETs read an object stored beforehand.
 */
import { Readable } from 'node:stream'
import { type Client, leanClient } from './http-clients.js'
import type { Server } from './http-server.js'
import { lean, startServers } from './http-pairs.js'
import type { Peaks } from './memory.js'
import { type Check, type Figures, type RunOptions, type Scenario, figures } from './scenario.js'
import { keyOf, pattern } from './stores.js'

const MiB = 1024 * 1024
/** What fs.createReadStream yields. */
const PIECE = 64 * 1024
/** The goal: a server's memory stays flat while a large object streams through it. */
const RSS_LIMIT_MIB = 64

/** `mib` MiB as PIECE-sized pieces, cycling over the whole MiBs of `bytes`. */
function body (bytes: Buffer, mib: number): Readable {
  const pool = Math.floor(bytes.length / MiB)
  return Readable.from((function * () {
    for (let i = 0; i < mib; i++) {
      for (let offset = 0; offset < MiB; offset += PIECE) {
        const at = (i % pool) * MiB + offset
        yield bytes.subarray(at, at + PIECE)
      }
    }
  })())
}

interface Transfer { mibPerSecond: number, cpuUs: number, peaks: Peaks }

/** One transfer, timed, with the server's CPU time and memory peaks over it. */
async function transfer (server: Server, mib: number, move: (client: Client) => Promise<void>): Promise<Transfer> {
  const client = leanClient(server, 1)
  try {
    await server.watch()
    const cpu = await server.cpu()
    const started = performance.now()
    await move(client)
    const seconds = (performance.now() - started) / 1000
    const cpuUs = await server.cpu() - cpu
    return { mibPerSecond: mib / seconds, cpuUs, peaks: await server.peaks() }
  } finally {
    await client.close()
  }
}

const growth = (p: Peaks): number => (p.rssPeak - p.rssStart) / MiB
const anonGrowth = (p: Peaks): number => (p.anonPeak - p.anonStart) / MiB
const list = (values: number[]): string => values.map(x => x.toFixed(1)).join(' ')
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0)

/**
 * Figures of the paired transfers. The memory goal is judged on anonymous RSS: LevelDB reads its
 * table files through mmap, so total RSS also counts the (shared, reclaimable) file pages it read.
 */
function report (a: Transfer[], b: Transfer[], mib: number, options: RunOptions): Figures {
  const out = figures(a.map(t => t.mibPerSecond), b.map(t => t.mibPerSecond), 's3rver')
  const perMiB = (t: Transfer[]): number => sum(t.map(x => x.cpuUs)) / (mib * t.length)
  const worst = Math.max(...a.map(t => anonGrowth(t.peaks)))
  const checks: Check[] = [
    { goal: `spacebox server peak RSS growth < ${RSS_LIMIT_MIB} MiB (anonymous)`, value: `${worst.toFixed(1)} MiB`, met: worst < RSS_LIMIT_MIB }
  ]
  options.log(`    server peak RSS growth, MiB: anonymous spacebox ${list(a.map(t => anonGrowth(t.peaks)))} | s3rver ${list(b.map(t => anonGrowth(t.peaks)))}; ` +
    `total spacebox ${list(a.map(t => growth(t.peaks)))} | s3rver ${list(b.map(t => growth(t.peaks)))}`)
  return {
    ...out,
    serverCpu: { unit: 'µs/MiB', spacebox: perMiB(a), baseline: perMiB(b), ratio: perMiB(a) / perMiB(b) },
    checks,
    notes: {
      spaceboxAnonRssGrowthMiB: worst,
      s3rverAnonRssGrowthMiB: Math.max(...b.map(t => anonGrowth(t.peaks))),
      spaceboxRssGrowthMiB: Math.max(...a.map(t => growth(t.peaks))),
      s3rverRssGrowthMiB: Math.max(...b.map(t => growth(t.peaks)))
    }
  }
}

function streamedPut (mib: number, quick: boolean): Scenario {
  return {
    name: `${lean.label}: streamed put ${mib} MiB`,
    unit: 'MiB/s',
    quick,
    // The goal: at least s3rver's throughput.
    minRatio: 1,
    run: async options => {
      const a: Transfer[] = []
      const b: Transfer[] = []
      // Incompressible bytes, made before anything is timed.
      const bytes = pattern(16 * MiB)
      const put = async (client: Client): Promise<void> => { await client.put(keyOf(0), body(bytes, mib), mib * MiB) }
      for (let rep = 0; rep < options.pace.longReps; rep++) {
        const servers = await startServers(lean, options.tmp)
        try {
          a.push(await transfer(servers.a, mib, put))
          b.push(await transfer(servers.b, mib, put))
        } finally {
          await servers.close()
        }
      }
      return report(a, b, mib, options)
    }
  }
}

function streamedGet (mib: number, quick: boolean): Scenario {
  return {
    name: `${lean.label}: streamed get ${mib} MiB`,
    unit: 'MiB/s',
    quick,
    // The goal: at least 1.5 times s3rver's throughput.
    minRatio: 1.5,
    run: async options => {
      const servers = await startServers(lean, options.tmp, { count: 1, size: mib * MiB })
      const get = async (client: Client): Promise<void> => {
        const length = await client.get(keyOf(0))
        if (length !== mib * MiB) throw new Error(`a GET returned ${length} bytes, not ${mib * MiB}`)
      }
      try {
        const a: Transfer[] = []
        const b: Transfer[] = []
        for (let rep = 0; rep < options.pace.longReps; rep++) {
          a.push(await transfer(servers.a, mib, get))
          b.push(await transfer(servers.b, mib, get))
        }
        return report(a, b, mib, options)
      } finally {
        await servers.close()
      }
    }
  }
}

export const scenarios: Scenario[] = [
  streamedPut(256, false),
  streamedGet(256, false)
]
