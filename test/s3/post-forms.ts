/**
 * Browser form uploads built by hand, byte for byte: multipart bodies, policies signed with SigV4
 * or SigV2 (computed here from the AWS documents, not with the server's code), and a raw HTTP POST.
 */
import { createHmac } from 'node:crypto'
import { request, type IncomingHttpHeaders } from 'node:http'

export const BOUNDARY = '----spaceboxFormBoundary7MA4YWxkTrZu0gW'

/** A field `[name, value]`, or a part with a file name (the file, unless named otherwise). */
export type Part = [string, string] | { name?: string, filename?: string, type?: string, content: string | Buffer }

export function multipart (parts: Part[], boundary = BOUNDARY): Buffer {
  const pieces: Buffer[] = []
  for (const part of parts) {
    if (Array.isArray(part)) {
      pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part[0]}"\r\n\r\n${part[1]}\r\n`))
      continue
    }
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`
    pieces.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name ?? 'file'}"${filename}\r\nContent-Type: ${part.type ?? 'application/octet-stream'}\r\n\r\n`),
      Buffer.from(part.content),
      Buffer.from('\r\n')
    )
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(pieces)
}

export interface Credentials { accessKeyId: string, secretAccessKey: string }

export interface SignOptions {
  /** Default: an hour from now. */
  expiration?: Date | string
  /** The signing time. Default: now. */
  date?: Date
  region?: string
}

export function encodePolicy (doc: unknown): string {
  return Buffer.from(JSON.stringify(doc), 'utf8').toString('base64')
}

function expirationOf (options: SignOptions): string {
  const expiration = options.expiration ?? new Date(Date.now() + 3600_000)
  return typeof expiration === 'string' ? expiration : expiration.toISOString()
}

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest()

/** The signing fields of a SigV4 form, the conditions on them added to the policy as the SDKs add them. */
export function signV4 (credentials: Credentials, conditions: unknown[], options: SignOptions = {}): Array<[string, string]> {
  const amzDate = (options.date ?? new Date()).toISOString().replace(/\.\d{3}/, '').replace(/[-:]/g, '')
  const day = amzDate.slice(0, 8)
  const region = options.region ?? 'us-east-1'
  const credential = `${credentials.accessKeyId}/${day}/${region}/s3/aws4_request`
  const policy = encodePolicy({
    expiration: expirationOf(options),
    conditions: [...conditions, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': amzDate }]
  })
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), 's3'), 'aws4_request')
  return [
    ['x-amz-algorithm', 'AWS4-HMAC-SHA256'], ['x-amz-credential', credential], ['x-amz-date', amzDate],
    ['policy', policy], ['x-amz-signature', createHmac('sha256', key).update(policy).digest('hex')]
  ]
}

/** The signing fields of a SigV2 form: AWSAccessKeyId, policy, signature (base64 HMAC-SHA1 of the policy). */
export function signV2 (credentials: Credentials, conditions: unknown[], options: SignOptions = {}): Array<[string, string]> {
  const policy = encodePolicy({ expiration: expirationOf(options), conditions })
  return [
    ['AWSAccessKeyId', credentials.accessKeyId], ['policy', policy],
    ['signature', createHmac('sha1', credentials.secretAccessKey).update(policy).digest('base64')]
  ]
}

export interface Answer { status: number, headers: IncomingHttpHeaders, body: string }

/**
 * POST `body` to `url` with node:http: exact bytes, any Host, a streamed body. An answer that comes
 * before the body is all sent (a refusal) is returned; the broken pipe that may follow is not an error.
 */
export async function post (url: string, body: Buffer | AsyncIterable<Buffer>, headers: Record<string, string> = {}): Promise<Answer> {
  const target = new URL(url)
  return await new Promise<Answer>((resolve, reject) => {
    let answered = false
    const req = request({
      host: target.hostname,
      port: target.port,
      path: `${target.pathname}${target.search}`,
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        ...(Buffer.isBuffer(body) ? { 'content-length': String(body.length) } : {}),
        ...headers
      }
    }, res => {
      answered = true
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', err => { if (!answered) reject(err) })
    if (Buffer.isBuffer(body)) {
      req.end(body)
      return
    }
    ;(async () => {
      for await (const piece of body) {
        if (answered || req.destroyed) return
        if (!req.write(piece)) {
          await new Promise<void>(resolve => {
            const done = (): void => {
              req.off('drain', done)
              req.off('close', done)
              resolve()
            }
            req.on('drain', done)
            req.on('close', done)
          })
        }
      }
      req.end()
    })().catch(err => { if (!answered) reject(err) })
  })
}

const ENTITIES: Record<string, string> = { '&quot;': '"', '&apos;': "'", '&lt;': '<', '&gt;': '>', '&amp;': '&' }

/** The text of one element of an XML answer, entities decoded. */
export function element (xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]?.replace(/&(quot|apos|lt|gt|amp);/g, e => ENTITIES[e]!)
}
