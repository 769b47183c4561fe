/**
 * A lean S3 client: the calls a mirror makes, signed with SigV4 over node:http(s), bodies streamed
 * with their length and never held in memory. It talks to Amazon S3, DigitalOcean Spaces, MinIO,
 * s3rver or a spacebox server alike (path-style addressing by default).
 */
import { createHash } from 'node:crypto'
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { setTimeout as sleep } from 'node:timers/promises'
import { XMLParser } from 'fast-xml-parser'
import {
  CHECKSUM_ALGORITHMS, STORAGE_CLASSES, type Checksums, type EndpointEntry, type EndpointObject, type EndpointWrite, type MirrorEndpoint, type ObjectCannedAcl, type ReadOptions, type StorageClass, type Tags
} from '../index.js'
import { ALL_USERS, AUTHENTICATED_USERS } from './acl-xml.js'
import { renderXml } from './xml.js'
import { canonicalQuery, canonicalRequest, hmacHex, sha256Hex, signingKey, stringToSign, toAmzDate, uriEncode, utf8View } from './sigv4.js'

export interface S3EndpointOptions {
  /** `http(s)://host[:port]`, the service's address. */
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  /** The region requests are signed for (default us-east-1; `nyc3` and the like for Spaces). */
  region?: string
  /** `https://bucket.host/key` instead of `https://host/bucket/key`. */
  virtualHosted?: boolean
  /** Certificates to trust besides the system's (a self-signed server's). */
  ca?: string | Buffer
  /** Connections kept open to the service (default 16). */
  maxSockets?: number
}

/** An S3 error as the service answered it. */
export class S3ClientError extends Error {
  readonly code: string
  readonly statusCode: number
  constructor (code: string, message: string, statusCode: number) {
    super(message)
    this.name = 'S3ClientError'
    this.code = code
    this.statusCode = statusCode
  }
}

type Query = Record<string, string | undefined>
type RequestBody = { bytes: Buffer } | { stream: AsyncIterable<Uint8Array>, size: number }

const parser = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, trimValues: false, isArray: name => LISTED.has(name) })
const ordered = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, trimValues: false, preserveOrder: true })
const LISTED = new Set(['Bucket', 'Contents', 'Version', 'DeleteMarker', 'CommonPrefixes', 'Part', 'Tag', 'Grant'])
/** Headers an object's write carries over, by their EndpointWrite names. */
const HEADERS = [['contentType', 'content-type'], ['contentEncoding', 'content-encoding'], ['contentDisposition', 'content-disposition'],
  ['contentLanguage', 'content-language'], ['cacheControl', 'cache-control'], ['expires', 'expires']] as const
const ATTEMPTS = 3

/** An S3 endpoint as one side of `box.mirrorTo` / `box.mirrorFrom`. */
export function s3Endpoint (options: S3EndpointOptions): MirrorEndpoint {
  const client = new S3Client(options)
  return {
    listBuckets: async () => await client.listBuckets(),
    ensureBucket: async bucket => await client.ensureBucket(bucket),
    getVersioning: async bucket => await client.getVersioning(bucket),
    putVersioning: async (bucket, status) => { await client.putVersioning(bucket, status) },
    list: (bucket, prefix) => client.list(bucket, prefix),
    listVersions: (bucket, prefix) => client.listVersions(bucket, prefix),
    head: async (bucket, key, options = {}) => await client.head(bucket, key, options),
    get: async (bucket, key, options = {}) => await client.get(bucket, key, options),
    put: async (bucket, key, body, size, write) => await client.put(bucket, key, body, size, write),
    createMultipart: async (bucket, key, write) => await client.createMultipart(bucket, key, write),
    uploadPart: async (bucket, key, uploadId, partNumber, body, size, customerKey) => await client.uploadPart(bucket, key, uploadId, partNumber, body, size, customerKey),
    completeMultipart: async (bucket, key, uploadId, etags) => await client.completeMultipart(bucket, key, uploadId, etags),
    getTags: async (bucket, key, versionId) => await client.getTags(bucket, key, versionId),
    getAcl: async (bucket, key, versionId) => await client.getAcl(bucket, key, versionId),
    abortMultipart: async (bucket, key, uploadId) => { await client.send('DELETE', bucket, key, { uploadId }) },
    delete: async (bucket, key, versionId) => { await client.send('DELETE', bucket, key, { versionId }) }
  }
}

class S3Client {
  readonly #url: URL
  readonly #options: S3EndpointOptions
  readonly #region: string
  readonly #agent: HttpAgent

  constructor (options: S3EndpointOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object')
    const url = new URL(options.endpoint)
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.search !== '' || url.hash !== '') {
      throw new TypeError('endpoint must be http(s)://host[:port], without credentials, query or fragment')
    }
    for (const name of ['accessKeyId', 'secretAccessKey'] as const) {
      if (typeof options[name] !== 'string' || options[name] === '') throw new TypeError(`${name} must be a non-empty string`)
    }
    this.#url = url
    this.#options = options
    this.#region = options.region ?? 'us-east-1'
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16 }
    this.#agent = url.protocol === 'https:' ? new HttpsAgent({ ...agentOptions, ...(options.ca === undefined ? {} : { ca: options.ca }) }) : new HttpAgent(agentOptions)
  }

  async listBuckets (): Promise<string[]> {
    const doc = await this.#xml('GET', undefined, undefined, {})
    const buckets = (doc.ListAllMyBucketsResult?.Buckets?.Bucket ?? []) as Array<{ Name: string }>
    return buckets.map(b => b.Name)
  }

  /** A bucket there already is left alone (a key may reach one it could not create). */
  async ensureBucket (bucket: string): Promise<boolean> {
    try {
      (await this.send('HEAD', bucket, undefined, {})).resume()
      return false
    } catch (err) {
      if (!(err instanceof S3ClientError) || err.statusCode !== 404) throw err
    }
    const body = this.#region === 'us-east-1'
      ? undefined
      : Buffer.from(renderXml('CreateBucketConfiguration', { LocationConstraint: this.#region }))
    try {
      await this.send('PUT', bucket, undefined, {}, {}, body === undefined ? undefined : { bytes: body })
      return true
    } catch (err) {
      if (err instanceof S3ClientError && err.code === 'BucketAlreadyOwnedByYou') return false
      throw err
    }
  }

  async getVersioning (bucket: string): Promise<'Enabled' | 'Suspended' | undefined> {
    const status = (await this.#xml('GET', bucket, undefined, { versioning: '' })).VersioningConfiguration?.Status
    return status === 'Enabled' || status === 'Suspended' ? status : undefined
  }

  async putVersioning (bucket: string, status: 'Enabled' | 'Suspended'): Promise<void> {
    const body = Buffer.from(renderXml('VersioningConfiguration', { Status: status }))
    await this.send('PUT', bucket, undefined, { versioning: '' }, {}, { bytes: body })
  }

  async * list (bucket: string, prefix: string): AsyncGenerator<EndpointEntry> {
    let token: string | undefined
    do {
      const query = { 'list-type': '2', prefix, 'encoding-type': 'url', 'continuation-token': token }
      const result = (await this.#xml('GET', bucket, undefined, query)).ListBucketResult ?? {}
      const decode = decoder(result.EncodingType)
      for (const o of (result.Contents ?? []) as Array<Record<string, string>>) {
        yield { key: decode(o.Key ?? ''), size: Number(o.Size), etag: o.ETag ?? '', lastModified: new Date(o.LastModified ?? 0) }
      }
      token = result.IsTruncated === 'true' ? result.NextContinuationToken : undefined
    } while (token !== undefined)
  }

  /** Versions and delete markers in the order the service lists them (which a grouped parse would lose). */
  async * listVersions (bucket: string, prefix: string): AsyncGenerator<EndpointEntry> {
    let keyMarker: string | undefined
    let versionIdMarker: string | undefined
    do {
      const query = { versions: '', prefix, 'encoding-type': 'url', 'key-marker': keyMarker, 'version-id-marker': versionIdMarker }
      const items = childrenOf(ordered.parse(await this.#text('GET', bucket, undefined, query)), 'ListVersionsResult')
      const fields = new Map<string, string>()
      // EncodingType comes before the entries, as S3 and its peers write it.
      let decode = decoder(undefined)
      for (const item of items) {
        const [name] = Object.keys(item)
        if (name === 'Version' || name === 'DeleteMarker') {
          const v = Object.fromEntries(childrenOf(item[name], undefined).map(child => { const [n = ''] = Object.keys(child); return [n, textOf(child[n])] }))
          yield {
            key: decode(v.Key ?? ''),
            versionId: v.VersionId ?? 'null',
            deleteMarker: name === 'DeleteMarker',
            size: Number(v.Size ?? 0),
            etag: v.ETag ?? '',
            lastModified: new Date(v.LastModified ?? 0)
          }
        } else if (name !== undefined) {
          fields.set(name, textOf(item[name]))
          if (name === 'EncodingType') decode = decoder(fields.get(name))
        }
      }
      const truncated = fields.get('IsTruncated') === 'true'
      keyMarker = truncated ? decode(fields.get('NextKeyMarker') ?? '') : undefined
      versionIdMarker = truncated ? fields.get('NextVersionIdMarker') : undefined
    } while (keyMarker !== undefined)
  }

  async head (bucket: string, key: string, options: ReadOptions & { partNumber?: number }): Promise<EndpointObject> {
    const query = { versionId: options.versionId, partNumber: options.partNumber === undefined ? undefined : String(options.partNumber) }
    const res = await this.send('HEAD', bucket, key, query, { 'x-amz-checksum-mode': 'ENABLED', ...customerKeyHeaders(options.customerKey) })
    res.resume()
    return objectOf(res)
  }

  async getTags (bucket: string, key: string, versionId: string | undefined): Promise<Tags> {
    const tags = (await this.#xml('GET', bucket, key, { tagging: '', versionId })).Tagging?.TagSet?.Tag ?? []
    return Object.fromEntries((tags as Array<{ Key?: string, Value?: string }>).map(tag => [tag.Key ?? '', tag.Value ?? '']))
  }

  /** The canned ACL the grants amount to: what a mirror can write back with x-amz-acl. */
  async getAcl (bucket: string, key: string, versionId: string | undefined): Promise<ObjectCannedAcl> {
    const grants = ((await this.#xml('GET', bucket, key, { acl: '', versionId })).AccessControlPolicy?.AccessControlList?.Grant ?? []) as
      Array<{ Grantee?: { URI?: string }, Permission?: string }>
    const to = (uri: string, permission: string): boolean => grants.some(g => g.Grantee?.URI === uri && (g.Permission === permission || g.Permission === 'FULL_CONTROL'))
    if (to(ALL_USERS, 'READ')) return to(ALL_USERS, 'WRITE') ? 'public-read-write' : 'public-read'
    return to(AUTHENTICATED_USERS, 'READ') ? 'authenticated-read' : 'private'
  }

  async get (bucket: string, key: string, options: ReadOptions & { range?: [number, number] }): Promise<IncomingMessage> {
    const headers = { ...customerKeyHeaders(options.customerKey), ...(options.range === undefined ? {} : { range: `bytes=${options.range[0]}-${options.range[1]}` }) }
    return await this.send('GET', bucket, key, { versionId: options.versionId }, headers)
  }

  async put (bucket: string, key: string, body: AsyncIterable<Uint8Array>, size: number, write: EndpointWrite): Promise<{ etag: string }> {
    const res = await this.send('PUT', bucket, key, {}, writeHeaders(write, true), { stream: body, size })
    res.resume()
    return { etag: String(res.headers.etag ?? '') }
  }

  async createMultipart (bucket: string, key: string, write: EndpointWrite): Promise<string> {
    const uploadId = (await this.#xml('POST', bucket, key, { uploads: '' }, writeHeaders(write, false))).InitiateMultipartUploadResult?.UploadId
    if (typeof uploadId !== 'string') throw new S3ClientError('InvalidResponse', 'CreateMultipartUpload answered no UploadId', 200)
    return uploadId
  }

  async uploadPart (bucket: string, key: string, uploadId: string, partNumber: number, body: AsyncIterable<Uint8Array>, size: number, customerKey?: Buffer): Promise<string> {
    const res = await this.send('PUT', bucket, key, { partNumber: String(partNumber), uploadId }, customerKeyHeaders(customerKey), { stream: body, size })
    res.resume()
    return String(res.headers.etag ?? '')
  }

  async completeMultipart (bucket: string, key: string, uploadId: string, etags: string[]): Promise<{ etag: string }> {
    const body = Buffer.from(renderXml('CompleteMultipartUpload', { Part: etags.map((etag, i) => ({ PartNumber: i + 1, ETag: etag })) }))
    // S3 may answer 200 and then an error in the body, after a long assembly.
    const doc = await this.#xml('POST', bucket, key, { uploadId }, {}, { bytes: body })
    if (doc.Error !== undefined) throw new S3ClientError(String(doc.Error.Code), String(doc.Error.Message ?? ''), 200)
    return { etag: String(doc.CompleteMultipartUploadResult?.ETag ?? '') }
  }

  async #text (method: string, bucket: string | undefined, key: string | undefined, query: Query, headers: OutgoingHttpHeaders = {}, body?: RequestBody): Promise<string> {
    const res = await this.send(method, bucket, key, query, headers, body)
    return await readText(res)
  }

  async #xml (method: string, bucket: string | undefined, key: string | undefined, query: Query, headers: OutgoingHttpHeaders = {}, body?: RequestBody): Promise<any> {
    return parser.parse(await this.#text(method, bucket, key, query, headers, body))
  }

  /**
   * One signed request; its response once the status says it succeeded (an error answer is thrown
   * as S3ClientError). A request with bytes (or none) is tried again after a network error, a 500
   * or a 503; a streamed body cannot be sent twice.
   */
  async send (method: string, bucket: string | undefined, key: string | undefined, query: Query, headers: OutgoingHttpHeaders = {},
    body?: RequestBody): Promise<IncomingMessage> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.#once(method, bucket, key, query, headers, body)
        if (res.statusCode !== undefined && res.statusCode < 300) return res
        throw await errorOf(res, method)
      } catch (err) {
        const retry = body === undefined || 'bytes' in body
        const transient = !(err instanceof S3ClientError) || err.statusCode === 500 || err.statusCode === 503
        if (!retry || !transient || attempt >= ATTEMPTS) throw err
        await sleep(100 * 4 ** (attempt - 1))
      }
    }
  }

  async #once (method: string, bucket: string | undefined, key: string | undefined, query: Query, extra: OutgoingHttpHeaders, body?: RequestBody): Promise<IncomingMessage> {
    const virtual = this.#options.virtualHosted === true && bucket !== undefined
    const host = virtual ? `${bucket}.${this.#url.host}` : this.#url.host
    const path = `${this.#url.pathname.replace(/\/$/, '')}${virtual || bucket === undefined ? '' : `/${uriEncode(bucket, true)}`}${key === undefined ? (virtual || bucket === undefined ? '/' : '') : `/${uriEncode(key, false)}`}`
    const rawQuery = Object.entries(query).filter((pair): pair is [string, string] => pair[1] !== undefined)
      .map(([name, value]) => `${uriEncode(name, true)}=${uriEncode(value, true)}`).join('&')
    const amzDate = toAmzDate(Date.now())
    const payload = body === undefined ? sha256Hex('') : 'bytes' in body ? sha256Hex(body.bytes) : 'UNSIGNED-PAYLOAD'
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(extra)) if (value !== undefined) headers[name.toLowerCase()] = String(value)
    headers.host = host
    headers['x-amz-date'] = amzDate
    headers['x-amz-content-sha256'] = payload
    if (this.#options.sessionToken !== undefined) headers['x-amz-security-token'] = this.#options.sessionToken
    if (body !== undefined && 'bytes' in body) headers['content-md5'] = createHash('md5').update(body.bytes).digest('base64')
    const signed = Object.keys(headers).sort()
    const canonical = canonicalRequest(method, path, canonicalQuery(rawQuery), signed.map(name => `${name}:${(headers[name] as string).trim().replace(/[ \t]+/g, ' ')}\n`).join(''), signed, payload)
    const day = amzDate.slice(0, 8)
    const scope = `${day}/${this.#region}/s3/aws4_request`
    const signature = hmacHex(signingKey(this.#options.secretAccessKey, day, this.#region, 's3'), stringToSign(amzDate, scope, canonical))
    const wire: OutgoingHttpHeaders = {}
    // Header values go as UTF-8 bytes, which node:http sends one per latin-1 character.
    for (const [name, value] of Object.entries(headers)) wire[name] = Buffer.from(value, 'utf8').toString('latin1')
    wire.authorization = `AWS4-HMAC-SHA256 Credential=${this.#options.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`
    wire['content-length'] = body === undefined ? 0 : 'bytes' in body ? body.bytes.length : body.size

    const request = this.#url.protocol === 'https:' ? httpsRequest : httpRequest
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: this.#url.hostname.replace(/^\[(.*)\]$/, '$1'), port: this.#url.port, method, path: rawQuery === '' ? path : `${path}?${rawQuery}`, headers: wire, agent: this.#agent }, resolve)
      req.on('error', reject)
      if (body === undefined) req.end()
      else if ('bytes' in body) req.end(body.bytes)
      else pipeBody(body.stream, req).catch(err => { req.destroy(err as Error) })
    })
  }
}

async function pipeBody (body: AsyncIterable<Uint8Array>, req: import('node:http').ClientRequest): Promise<void> {
  for await (const chunk of body) {
    if (req.write(chunk)) continue
    await new Promise<void>((resolve, reject) => {
      const drained = (): void => { req.off('close', closed); resolve() }
      const closed = (): void => { req.off('drain', drained); reject(new Error('the connection closed while sending')) }
      req.once('drain', drained).once('close', closed)
    })
  }
  req.end()
}

async function readText (res: IncomingMessage): Promise<string> {
  const pieces: Buffer[] = []
  for await (const chunk of res) pieces.push(chunk as Buffer)
  return Buffer.concat(pieces).toString('utf8')
}

/** The service's error: its XML's code and message, or for a HEAD (no body) one named after the status. */
async function errorOf (res: IncomingMessage, method: string): Promise<S3ClientError> {
  const status = res.statusCode ?? 0
  const text = await readText(res).catch(() => '')
  const error = method === 'HEAD' || text === '' ? undefined : (parser.parse(text) as { Error?: { Code?: string, Message?: string } }).Error
  // A HEAD's answer has no body: S3's code is known from the status alone for these.
  const fallback = status === 404 ? 'NotFound' : status === 403 ? 'AccessDenied' : status === 412 ? 'PreconditionFailed' : status === 400 ? 'InvalidRequest' : `Http${status}`
  return new S3ClientError(error?.Code ?? fallback, error?.Message ?? `HTTP ${status}`, status)
}

function objectOf (res: IncomingMessage): EndpointObject {
  const h = res.headers
  const text = (name: string): string | undefined => typeof h[name] === 'string' ? utf8View(h[name]) : undefined
  const metadata: Record<string, string> = {}
  for (const [name, value] of Object.entries(h)) if (name.startsWith('x-amz-meta-') && typeof value === 'string') metadata[name.slice(11)] = unfolded(utf8View(value))
  const checksums: Checksums = {}
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = text(`x-amz-checksum-${algorithm.toLowerCase()}`)
    if (value !== undefined && !value.includes('-') && h['x-amz-checksum-type'] !== 'COMPOSITE') checksums[algorithm] = value
  }
  const out: EndpointObject = {
    size: Number(h['content-length'] ?? 0),
    etag: text('etag') ?? '',
    lastModified: new Date(text('last-modified') ?? 0),
    contentType: text('content-type') ?? 'application/octet-stream',
    metadata,
    checksums
  }
  for (const [field, name] of HEADERS) {
    const value = text(name)
    if (value !== undefined && field !== 'contentType') out[field] = value
  }
  const storageClass = text('x-amz-storage-class') ?? 'STANDARD'
  if ((STORAGE_CLASSES as readonly string[]).includes(storageClass)) out.storageClass = storageClass as StorageClass
  const sse = text('x-amz-server-side-encryption')
  if (text('x-amz-server-side-encryption-customer-algorithm') !== undefined) out.encryption = 'SSE-C'
  else if (sse === 'AES256' || sse === 'aws:kms') out.encryption = sse
  return out
}

/** A write's headers; a whole body's also carry its checksums, for the service to check the bytes against. */
function writeHeaders (write: EndpointWrite, whole: boolean): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [field, name] of HEADERS) {
    const value = write[field]
    if (value !== undefined) out[name] = value
  }
  for (const [name, value] of Object.entries(write.metadata)) out[`x-amz-meta-${name}`] = value
  if (write.storageClass !== undefined && write.storageClass !== 'STANDARD') out['x-amz-storage-class'] = write.storageClass
  if (write.acl !== undefined && write.acl !== 'private') out['x-amz-acl'] = write.acl
  Object.assign(out, customerKeyHeaders(write.customerKey))
  if (write.tags !== undefined && Object.keys(write.tags).length > 0) {
    out['x-amz-tagging'] = Object.entries(write.tags).map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&')
  }
  if (whole) for (const [algorithm, value] of Object.entries(write.checksums)) if (value !== undefined) out[`x-amz-checksum-${algorithm.toLowerCase()}`] = value
  return out
}

/** SSE-C's three headers for a key, on every request that reads or writes the object's bytes. */
function customerKeyHeaders (key: Buffer | undefined): Record<string, string> {
  if (key === undefined) return {}
  return {
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key': key.toString('base64'),
    'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(key).digest('base64')
  }
}

/** A metadata value S3 sent as an RFC 2047 encoded word (`=?UTF-8?B?...?=`), as it does any that is not ASCII. */
function unfolded (value: string): string {
  const word = /^=\?UTF-8\?([BQ])\?([^?]*)\?=$/i.exec(value)
  if (word === null) return value
  const [, encoding = '', text = ''] = word
  if (encoding.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8')
  return Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8')
}

/**
 * How to read a listing's keys: percent-encoded with a space as `+` where the answer says
 * `EncodingType` url; as they are where the service ignored the request for it (s3rver does).
 */
function decoder (encodingType: unknown): (value: string) => string {
  return encodingType === 'url' ? value => decodeURIComponent(value.replace(/\+/g, ' ')) : value => value
}

/** The children of a `preserveOrder` element (`name` for the document's root). */
function childrenOf (node: unknown, name: string | undefined): Array<Record<string, unknown>> {
  if (!Array.isArray(node)) return []
  if (name === undefined) return node as Array<Record<string, unknown>>
  const root = (node as Array<Record<string, unknown>>).find(item => name in item)
  return root === undefined ? [] : childrenOf(root[name], undefined)
}

function textOf (node: unknown): string {
  const [first] = childrenOf(node, undefined)
  return first !== undefined && typeof first['#text'] === 'string' ? first['#text'] : ''
}
