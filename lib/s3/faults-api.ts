import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Faults, FaultRule } from './faults.js'

/** Where clients in other processes (and languages) manage fault rules. */
export const FAULTS_PATH = '/_spacebox/faults'

const MAX_BODY = 64 * 1024

/**
 * The fault rules over HTTP, for the admin token: GET lists them, POST adds one (the JSON of a
 * FaultRule) and answers its id, DELETE removes all, or one with `?id=N`.
 */
export async function handleFaultsApi (faults: Faults, req: IncomingMessage, res: ServerResponse, requestId: string,
  isAdmin: ((token: string) => boolean) | undefined): Promise<void> {
  const reply = (status: number, body?: unknown): void => {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-request-id': requestId })
    res.end(text)
  }
  const token = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1]
  if (isAdmin === undefined || token === undefined || !isAdmin(token)) {
    reply(401, { id: 'unauthorized', message: 'Unable to authenticate you', request_id: requestId })
    return
  }
  try {
    if (req.method === 'GET') reply(200, { faults: faults.list() })
    else if (req.method === 'POST') reply(201, { id: faults.add(JSON.parse(await readBody(req)) as FaultRule) })
    else if (req.method === 'DELETE') {
      const id = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('id')
      if (id === null) faults.clear()
      else if (!faults.remove(Number(id))) {
        reply(404, { id: 'not_found', message: 'No such fault rule', request_id: requestId })
        return
      }
      reply(204)
    } else reply(405, { id: 'method_not_allowed', message: `${req.method ?? ''} is not allowed here`, request_id: requestId })
  } catch (err) {
    reply(400, { id: 'bad_request', message: err instanceof Error ? err.message : 'Bad request', request_id: requestId })
  }
}

async function readBody (req: IncomingMessage): Promise<string> {
  let text = ''
  for await (const piece of req) {
    text += (piece as Buffer).toString('utf8')
    if (text.length > MAX_BODY) throw new RangeError('The fault rule is too large')
  }
  return text
}
