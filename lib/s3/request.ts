import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { S3Error } from './errors.js'

/** What a request addresses, read from the raw request line and Host, never normalised. */
export interface Target {
  /** Path exactly as received, before the first '?'. */
  rawPath: string
  /** Query exactly as received, after the first '?'. */
  rawQuery: string
  /** Decoded query parameters (form decoding: '+' is a space); the first of repeated names wins. */
  query: Map<string, string>
  bucket?: string
  key?: string
  /** The bucket came from the Host name. */
  virtualHosted: boolean
  /** The path as the client addressed it, with the bucket: what SigV2 signs. */
  resource: string
}

/**
 * Split `req.url` at the first '?' by hand: the WHATWG URL parser would remove dot segments and
 * turn '\' into '/', silently changing keys. With a bucket from the Host (`bucket.<base>`), the
 * whole path is the key; otherwise the first path segment is the bucket.
 */
export function parseTarget (req: IncomingMessage, baseHosts: readonly string[]): Target {
  const url = req.url ?? '/'
  const mark = url.indexOf('?')
  const rawPath = mark === -1 ? url : url.slice(0, mark)
  const rawQuery = mark === -1 ? '' : url.slice(mark + 1)
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI', 'Couldn\'t parse the specified URI.')
  const query = parseQuery(rawQuery)
  const path = decodePath(rawPath)
  const hostBucket = bucketFromHost(req.headers.host, baseHosts)
  if (hostBucket !== undefined) {
    const key = path.slice(1)
    return { rawPath, rawQuery, query, bucket: hostBucket, ...(key === '' ? {} : { key }), virtualHosted: true, resource: `/${hostBucket}${rawPath}` }
  }
  const slash = path.indexOf('/', 1)
  const bucket = slash === -1 ? path.slice(1) : path.slice(1, slash)
  const key = slash === -1 ? '' : path.slice(slash + 1)
  return {
    rawPath,
    rawQuery,
    query,
    virtualHosted: false,
    resource: rawPath,
    ...(bucket === '' ? {} : { bucket }),
    ...(key === '' ? {} : { key })
  }
}

/** Percent-decode a path as UTF-8; '+' stays '+'. InvalidURI for broken escapes or bytes. */
function decodePath (raw: string): string {
  if (!raw.includes('%')) return raw
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new S3Error('InvalidURI', 'Couldn\'t parse the specified URI.')
  }
}

/**
 * The query as decoded [name, value] pairs in order (form decoding: '+' is a space); empty pieces
 * dropped, no '=' means value ''. InvalidArgument for an escape that does not decode.
 */
export function queryPairs (raw: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (const piece of raw.split('&')) {
    if (piece === '') continue
    const eq = piece.indexOf('=')
    pairs.push([formDecode(eq === -1 ? piece : piece.slice(0, eq)), eq === -1 ? '' : formDecode(piece.slice(eq + 1))])
  }
  return pairs
}

/** The decoded query parameters by name; the first of repeated names wins. */
export function parseQuery (raw: string): Map<string, string> {
  const query = new Map<string, string>()
  for (const [name, value] of queryPairs(raw)) if (!query.has(name)) query.set(name, value)
  return query
}

/** A request header's value; repeated headers (which S3 does not define for these) take the first. */
export function header (headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function formDecode (s: string): string {
  const spaced = s.replaceAll('+', ' ')
  try {
    return decodeURIComponent(spaced)
  } catch {
    throw new S3Error('InvalidArgument', 'The query string could not be decoded.')
  }
}

// Virtual-hosted names of the services spacebox stands in for: `bucket.nyc3.digitaloceanspaces.com`,
// `bucket.s3.amazonaws.com`, `bucket.s3.eu-west-1.amazonaws.com`.
const SERVICE_HOSTS = [/^(.+)\.[a-z]+\d\.digitaloceanspaces\.com$/, /^(.+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$/]

/** The bucket named by a virtual-hosted Host (`bucket.base[:port]`), if the Host is one. */
export function bucketFromHost (host: string | undefined, baseHosts: readonly string[]): string | undefined {
  if (host === undefined) return undefined
  const name = host.replace(/:\d+$/, '').toLowerCase()
  for (const base of baseHosts) {
    if (name.length > base.length + 1 && name.endsWith(`.${base}`)) return name.slice(0, -base.length - 1)
  }
  for (const pattern of SERVICE_HOSTS) {
    const match = pattern.exec(name)
    if (match !== null) return match[1]
  }
  return undefined
}

/** The scheme the client used to reach this server. */
export function protocolOf (req: IncomingMessage): 'http' | 'https' {
  return (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http'
}
