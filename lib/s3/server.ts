import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { TlsOptions } from 'node:tls'
import type { Spacebox } from '../index.js'
import type { Settings } from './call.js'
import { newRequestId, serveS3, type Exchange } from './dispatch.js'
import { handleKeysApi, isKeysApiPath } from './keys-api.js'
import { FAULTS_PATH, handleFaultsApi } from './faults-api.js'
import { handleUploadsApi, UPLOADS_PATH } from './uploads-api.js'
import type { Faults } from './faults.js'
import { protocolOf } from './request.js'
import { listenerBucketOf, serveWebsite, websiteBucketOf } from './website.js'

/** Where a mounted console lives. */
export const CONSOLE_PATH = '/_spacebox/console'

/** A web console mounted beside S3 (see lib/console): it answers every request under CONSOLE_PATH. */
export interface ConsoleMount {
  handle: (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void>
}

export interface S3HandlerOptions {
  /** Region of buckets created without a LocationConstraint. Default: the store's. */
  region?: string
  /** Base hostnames for virtual-hosted addressing (`bucket.<hostname>`). Default `['localhost']`;
   * `bucket.<region>.digitaloceanspaces.com` and `bucket.s3[.<region>].amazonaws.com` always work. */
  hostnames?: string[]
  /** Token of the key-management API (`/v2/spaces/keys`), or its SHA-256 in hex. Without it that API is off. */
  adminToken?: string | { sha256: string }
  /** The clock signatures are checked against (ms since the epoch). Default Date.now. */
  clock?: () => number
  /**
   * Serve bucket websites only (what the `websitePort` listener does): every request is a website
   * request for the bucket its Host names (`bucket.<hostname>`, a website host, or else the whole
   * host name, as a custom domain names its bucket). Without it, only Hosts of the form
   * `<bucket>.<region>-static.<domain>` or `<bucket>.s3-website[-.]<region>.amazonaws.com` are.
   */
  websitesOnly?: boolean
  /** 'spaces' answers like DigitalOcean Spaces where the two differ (NotImplemented for bucket encryption). Default 'aws'. */
  profile?: 'aws' | 'spaces'
  /** A web console to serve at /_spacebox/console (`spacebox serve` mounts lib/console's). */
  console?: ConsoleMount
  /** Fault rules to apply to matching requests (testing); also served at `/_spacebox/faults` to the admin token. */
  faults?: Faults
  /** Called when each S3 request has been answered, with what it was and how it ended. */
  onExchange?: (record: ExchangeRecord) => void
  /**
   * Told of every failure a client sees only as a 500 or a cut connection: a bug, a broken store,
   * a throwing `onExchange`. The server goes on. Default: a line on stderr with the request id.
   */
  onError?: (err: unknown, requestId: string) => void
}

/** One S3 request: what it was, what the client saw of the answer, its size each way and its duration. */
export interface ExchangeRecord extends Exchange {
  requestId: string
  /** The status sent; undefined when the connection was cut before any answer (a `resetConnection` fault, a client gone). */
  status: number | undefined
  /** The request body's declared size (Content-Length, framing included). */
  bytesIn: number
  /** Bytes of the response on the wire, headers included. */
  bytesOut: number
  ms: number
}

export interface S3ServerOptions extends S3HandlerOptions {
  /** Default 127.0.0.1: loopback unless asked otherwise. */
  host?: string
  /** Default 0: any free port. */
  port?: number
  /** Most connections open at once; further ones are closed as they arrive. Default 1024. */
  maxConnections?: number
  /** Ms a request's line and headers may take to arrive, counted from its first byte (or from the
   * connection); then 408 and the connection is closed. Checked every second (at most; every
   * quarter of the timeout when that is shorter). Default 20 000. */
  headersTimeout?: number
  /** Ms a connection may stay silent while the server waits on the client: a body that stopped
   * arriving, a reader that stopped reading, a connection that sends nothing. Then it is closed. Time
   * the server spends on its own work (a large copy) does not count. Default 60 000. */
  idleTimeout?: number
  /** Bytes of request line and headers accepted; more is 431 and the connection is closed. Default 16 KiB. */
  maxHeaderSize?: number
  /** A second listener, on this port (0: any free one) of the same host, that serves bucket websites only (see `websitesOnly`). */
  websitePort?: number
  /** Serve HTTPS: a certificate and its key (PEM), as `https.createServer` takes them. Both listeners use it. */
  tls?: TlsOptions
}

export interface S3Server {
  url: string
  port: number
  server: Server
  /** Stop accepting; let requests in flight finish (cut after `timeout` ms, default 10 s). */
  close: (options?: { timeout?: number }) => Promise<void>
  /** With `websitePort`: the websites listener's URL (a bucket's site is `http://<bucket>.localhost:<port>/`). */
  websiteUrl?: string
  websitePort?: number
}

/** The adapter as a plain `(req, res)` handler, to mount in any node:http server. */
export function createS3Handler (box: Spacebox, options: S3HandlerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const settings: Settings = {
    region: options.region,
    hostnames: (options.hostnames ?? ['localhost']).map(h => h.toLowerCase()),
    now: options.clock ?? Date.now,
    profile: options.profile ?? 'aws',
    faults: options.faults,
    onError: options.onError ?? logError
  }
  const isAdmin = adminCheck(options.adminToken)
  const { onError } = settings
  return (req, res) => {
    const started = performance.now()
    const requestId = newRequestId()
    res.setHeader('x-amz-request-id', requestId)
    res.setHeader('x-amz-id-2', requestId)
    res.setHeader('server', 'spacebox')
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/'
    // No request may end the process: whatever escapes a handler is logged and the connection cut.
    const fail = (err: unknown): void => {
      onError(err, requestId)
      res.destroy()
    }
    const site = options.websitesOnly === true ? listenerBucketOf(req.headers.host, settings.hostnames) : websiteBucketOf(req.headers.host)
    if (site !== undefined || options.websitesOnly === true) {
      serveWebsite(box, settings, req, res, requestId, site).catch(fail)
      return
    }
    const { console: mounted } = options
    if (mounted !== undefined && (path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`))) {
      mounted.handle(req, res, requestId).catch(fail)
      return
    }
    if (isAdmin !== undefined && isKeysApiPath(path)) {
      handleKeysApi(box, req, res, requestId, { isAdmin, baseUrl: r => `${protocolOf(r)}://${r.headers.host ?? 'localhost'}` }).catch(fail)
      return
    }
    if (path === UPLOADS_PATH && isAdmin !== undefined) {
      handleUploadsApi(box, req, res, requestId, isAdmin, onError).catch(fail)
      return
    }
    if (path === FAULTS_PATH && options.faults !== undefined) {
      handleFaultsApi(options.faults, req, res, requestId, isAdmin).catch(fail)
      return
    }
    const socket = req.socket
    const written = socket.bytesWritten
    serveS3(box, settings, req, res, requestId).then(exchange => {
      const { onExchange } = options
      if (onExchange === undefined) return
      const report = (): void => {
        try {
          onExchange({
            ...exchange,
            requestId,
            status: res.headersSent ? res.statusCode : undefined,
            bytesIn: Number(req.headers['content-length'] ?? req.headers['x-amz-decoded-content-length'] ?? 0) || 0,
            bytesOut: socket.bytesWritten - written,
            ms: performance.now() - started
          })
        } catch (err) {
          onError(err, requestId)
        }
      }
      if (res.writableFinished || res.destroyed) report()
      else res.once('close', report)
    }).catch(fail)
  }
}

function logError (err: unknown, requestId: string): void {
  console.error(`spacebox: request ${requestId} failed:`, err)
}

/**
 * Close connections silent for `ms` (Node's socket timeout) unless the silence is the server's own:
 * a request whose body is all in and whose answer has not begun is being worked on (a copy of
 * gigabytes), and the client is right to wait.
 */
function closeIdle (server: Server, ms: number): void {
  const current = new WeakMap<Socket, { req: IncomingMessage, res: ServerResponse }>()
  const track = (req: IncomingMessage, res: ServerResponse): void => { current.set(req.socket, { req, res }) }
  server.on('request', track)
  server.on('checkContinue', track)
  server.on('checkExpectation', track)
  server.timeout = ms
  server.on('timeout', (socket: Socket) => {
    const exchange = current.get(socket)
    if (exchange !== undefined && exchange.req.complete && !exchange.res.headersSent && !exchange.res.destroyed) return
    socket.destroy()
  })
}

/** Compare a presented token with the configured one through their hashes: constant time, any length. */
export function adminCheck (token: S3HandlerOptions['adminToken']): ((presented: string) => boolean) | undefined {
  if (token === undefined) return undefined
  const expected = Buffer.from(typeof token === 'string' ? sha256(token) : token.sha256, 'hex')
  return presented => {
    const actual = Buffer.from(sha256(presented), 'hex')
    return actual.length === expected.length && timingSafeEqual(actual, expected)
  }
}

function sha256 (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/**
 * Serve S3 (and, with an admin token, the key-management API) over HTTP. Uploads of many
 * gigabytes take long, so there is no whole-request timeout: headers must arrive within
 * `headersTimeout`, and a connection is closed once the client has been silent for `idleTimeout`.
 */
export async function createS3Server (box: Spacebox, options: S3ServerOptions = {}): Promise<S3Server> {
  const handler = createS3Handler(box, options)
  const headersTimeout = options.headersTimeout ?? 20_000
  const settings = {
    requestTimeout: 0,
    headersTimeout,
    // Node looks for expired headers only this often (every 30 s by default, which would give a
    // slow-loris client up to 30 s more than the timeout).
    connectionsCheckingInterval: Math.max(1, Math.min(1000, Math.ceil(headersTimeout / 4))),
    keepAliveTimeout: 5_000,
    maxHeaderSize: options.maxHeaderSize ?? 16 * 1024
  }
  const server: Server = options.tls === undefined ? createServer(settings, handler) : createTlsServer({ ...options.tls, ...settings }, handler)
  server.maxConnections = options.maxConnections ?? 1024
  // Answer `Expect: 100-continue` only after the request is authorised (the handler sends the 100).
  server.on('checkContinue', handler)
  // S3 ignores an Expect it does not understand (an empty one included); node:http would answer 417.
  server.on('checkExpectation', handler)
  closeIdle(server, options.idleTimeout ?? 60_000)
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const shown = host.includes(':') ? `[${host}]` : host
  const main: S3Server = {
    url: `${options.tls === undefined ? 'http' : 'https'}://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${port}`,
    port,
    server,
    close: async ({ timeout = 10_000 } = {}) => {
      const closed = new Promise<void>(resolve => server.close(() => resolve()))
      server.closeIdleConnections()
      const timer = setTimeout(() => server.closeAllConnections(), timeout)
      await closed
      clearTimeout(timer)
    }
  }
  const { websitePort, ...rest } = options
  if (websitePort === undefined || options.websitesOnly === true) return main
  // The websites listener: a second server with the same options, told to serve nothing else.
  const site = await createS3Server(box, { ...rest, port: websitePort, websitesOnly: true }).catch(async (err: unknown) => {
    await main.close()
    throw err
  })
  return {
    ...main,
    websiteUrl: site.url,
    websitePort: site.port,
    close: async closing => { await Promise.all([main.close(closing), site.close(closing)]) }
  }
}
