/**
 * PUT and GET of whole 1 KiB and 1 MiB objects over HTTP, one at a time and 16 in flight:
 * spacebox (on disk) against s3rver through the same client, the lean one or the AWS SDK, and
 * spacebox alone with the SDK's default checksums against the SDK without them.
 */
import type { Client } from './http-clients.js'
import { type HttpPair, awsSdk, awsSdkDefaults, compare, lean, startServers, withClients } from './http-pairs.js'
import type { Scenario, Side } from './scenario.js'
import { keyOf, pattern } from './stores.js'

const KiB = 1024
const MiB = 1024 * KiB

interface HttpCase {
  pair: HttpPair
  size: number
  inFlight: number
  quick: boolean
}

/** Small objects are counted in operations, 1 MiB ones in bytes. */
const perOp = (size: number): number => size >= MiB ? size / MiB : 1

/** Objects stored for the GETs to read: 1000 small ones, or 64 MiB of large ones. */
const count = (size: number): number => size >= MiB ? 64 : 1000

/**
 * Goals of small objects against s3rver: server CPU per operation at most a quarter of its own,
 * and with the lean client (the server, not the client, being the bound) 3 times its throughput.
 */
function goals (c: HttpCase): { minRatio?: number, maxCpuRatio?: number } {
  if (c.size > KiB || c.pair.kinds[1] !== 's3rver') return {}
  return { maxCpuRatio: 0.25, ...(c.pair === lean ? { minRatio: 3 } : {}) }
}

function scenarioOf (c: HttpCase, op: 'put' | 'get', sides: (a: Client, b: Client) => [Side, Side]): Scenario {
  const { minRatio, maxCpuRatio } = goals(c)
  const size = c.size >= MiB ? `${c.size / MiB} MiB` : `${c.size / KiB} KiB`
  return {
    name: `${c.pair.label}: ${op} ${size}, ${c.inFlight === 1 ? 'sequential' : `${c.inFlight} in flight`}`,
    unit: c.size >= MiB ? 'MiB/s' : 'ops/s',
    quick: c.quick,
    ...(minRatio === undefined ? {} : { minRatio }),
    run: async options => {
      const fill = op === 'get' ? { count: count(c.size), size: c.size } : undefined
      const servers = await startServers(c.pair, options.tmp, fill)
      try {
        return await withClients(c.pair, servers, c.inFlight, async (a, b) => {
          const [sa, sb] = sides(a, b)
          const how = { perOp: perOp(c.size), baselineName: c.pair.baselineName, ...(maxCpuRatio === undefined ? {} : { maxCpuRatio }) }
          return await compare({ server: servers.a, side: sa }, { server: servers.b, side: sb }, c.inFlight, options, how)
        })
      } finally {
        await servers.close()
      }
    }
  }
}

/** PUT of new objects (one server may serve both sides, so each side has keys of its own). */
function put (c: HttpCase): Scenario {
  const value = pattern(c.size)
  const side = (client: Client, prefix: string): Side => {
    let n = 0
    return { op: async () => { await client.put(`${prefix}/${keyOf(n++)}`, value, c.size) } }
  }
  return scenarioOf(c, 'put', (a, b) => [side(a, 'a'), side(b, 'b')])
}

/** GET of the stored objects in turn, each body read to its end. */
function get (c: HttpCase): Scenario {
  const side = (client: Client): Side => {
    let n = 0
    return {
      op: async () => {
        const length = await client.get(keyOf(n++ % count(c.size)))
        if (length !== c.size) throw new Error(`a GET returned ${length} bytes, not ${c.size}`)
      }
    }
  }
  return scenarioOf(c, 'get', (a, b) => [side(a), side(b)])
}

type Quick = (op: 'put' | 'get', size: number, inFlight: number) => boolean

/** PUT and GET of 1 KiB and 1 MiB objects through a pair, at each of `inFlights`; quick where `quick` says. */
function scenariosOf (pair: HttpPair, quick: Quick, inFlights = [1, 16]): Scenario[] {
  return [KiB, MiB].flatMap(size => inFlights.flatMap(inFlight => (['put', 'get'] as const).map(op => {
    const c = { pair, size, inFlight, quick: quick(op, size, inFlight) }
    return op === 'put' ? put(c) : get(c)
  })))
}

export const scenarios: Scenario[] = [
  // The quick set: small objects 16 in flight, where the server's cost per request shows, and a GET of 1 MiB.
  ...scenariosOf(lean, (op, size, inFlight) => inFlight === 16 && (size === KiB || op === 'get')),
  ...scenariosOf(awsSdk, () => false),
  ...scenariosOf(awsSdkDefaults, () => false, [1])
]
