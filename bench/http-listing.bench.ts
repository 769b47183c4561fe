/**
 * ListObjectsV2 over HTTP: the first page of 1000 keys from a bucket of 10,000 (0-byte objects),
 * spacebox against s3rver through the same client. The lean client counts the page's keys in the
 * XML without parsing it; the AWS SDK parses the page, which costs the client more than spacebox.
 */
import type { Client } from './http-clients.js'
import { type HttpPair, awsSdk, compare, lean, startServers, withClients } from './http-pairs.js'
import type { Scenario, Side } from './scenario.js'

const KEYS = 10_000
const PAGE = 1000

function listing (pair: HttpPair, quick: boolean, minRatio?: number): Scenario {
  const side = (client: Client): Side => ({
    op: async () => {
      const keys = await client.list(PAGE)
      if (keys !== PAGE) throw new Error(`a page listed ${keys} keys, not ${PAGE}`)
    }
  })
  return {
    name: `${pair.label}: list page of ${PAGE} from ${KEYS / 1000}k keys`,
    unit: 'pages/s',
    quick,
    ...(minRatio === undefined ? {} : { minRatio }),
    run: async options => {
      const servers = await startServers(pair, options.tmp, { count: KEYS, size: 0 })
      try {
        return await withClients(pair, servers, 1, async (a, b) =>
          await compare({ server: servers.a, side: side(a) }, { server: servers.b, side: side(b) }, 1, options, { perOp: 1, baselineName: pair.baselineName }))
      } finally {
        await servers.close()
      }
    }
  }
}

export const scenarios: Scenario[] = [
  // The goal: a page at least 10 times faster than s3rver's.
  listing(lean, true, 10),
  listing(awsSdk, false)
]
