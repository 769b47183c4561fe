import type { IncomingMessage, ServerResponse } from 'node:http'

/*
 * What the server's JSON APIs (the keys API, the console's) share: errors as `{ id, message,
 * request_id }`, bodies read to a bound, answers never cached.
 */

/** Bodies of the JSON APIs are small: keys, grants, CORS rules. */
export const MAX_JSON_BODY = 64 * 1024

/** An answer other than success: its status, an error `id` in DigitalOcean's style, and a message. */
export class ApiError extends Error {
  readonly status: number
  readonly id: string
  readonly headers: Record<string, string>

  constructor (status: number, id: string, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.id = id
    this.headers = headers
  }
}

export type JsonBody = Record<string, unknown>

export function badRequest (message: string): ApiError {
  return new ApiError(400, 'bad_request', message)
}

export function notFound (): ApiError {
  return new ApiError(404, 'not_found', 'The resource you were accessing could not be found.')
}

/** The request body as a JSON object of `fields`: 413 past 64 KiB, 400 when it is not JSON, not an object or has another field. */
export async function readJson (req: IncomingMessage, fields: readonly string[]): Promise<JsonBody> {
  const text = (await readBody(req)).toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw badRequest('The request body must be valid JSON')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('The request body must be a JSON object')
  const unknown = Object.keys(value).find(field => !fields.includes(field))
  if (unknown !== undefined) throw badRequest(`Unknown field ${JSON.stringify(unknown.slice(0, 64))}: the fields are ${fields.join(', ')}`)
  return value as JsonBody
}

async function readBody (req: IncomingMessage): Promise<Buffer> {
  const tooLarge = (): ApiError => new ApiError(413, 'request_entity_too_large', `The request body is larger than ${MAX_JSON_BODY} bytes`, { connection: 'close' })
  if (Number(req.headers['content-length']) > MAX_JSON_BODY) throw tooLarge()
  return await new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    // Past the limit, stop collecting but do not destroy the request: the socket must stay open
    // for the 413, and `connection: close` ends it after that.
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size <= MAX_JSON_BODY) {
        chunks.push(chunk)
        return
      }
      req.off('data', onData)
      reject(tooLarge())
    }
    req.on('data', onData)
    req.once('end', () => { resolve(Buffer.concat(chunks)) })
    req.once('error', reject)
  })
}

/** A JSON answer (none for 204), never cached: some hold a secret key. */
export function sendJson (res: ServerResponse, requestId: string, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, {
    ...(text === '' ? {} : { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }),
    'cache-control': 'no-store',
    'x-request-id': requestId,
    ...headers
  })
  res.end(text)
}

/** An error's answer; a failure after the answer began can only cut the connection. */
export function sendError (res: ServerResponse, requestId: string, error: ApiError): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  sendJson(res, requestId, error.status, { id: error.id, message: error.message, request_id: requestId }, error.headers)
}
