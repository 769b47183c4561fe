import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import type { Spacebox } from '../index.js'
import { ApiError, readJson, sendError, sendJson } from '../s3/json-api.js'
import { handleKeysApi } from '../s3/keys-api.js'
import { protocolOf } from '../s3/request.js'
import { CONSOLE_PATH, type ConsoleMount } from '../s3/server.js'
import { serveApi, toConsoleError } from './api.js'
import { COOKIE, SESSION_MS, Sessions } from './sessions.js'

export interface ConsoleOptions {
  /** Checks a presented admin token (constant time): signing in takes it. */
  isAdmin: (token: string) => boolean
  /** The directory of the built pages (dist/console/ui). */
  assets: string
  /** The region of buckets made without one, as the S3 server's. */
  region?: string
  /** Told of each refused sign-in. Default: a line on stderr. */
  log?: (line: string) => void
  /** Told of failures the client sees only as a 500. */
  onError?: (err: unknown, requestId: string) => void
  now?: () => number
}

/** Headers of every console answer: nothing from elsewhere, no framing, no referrer. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff'
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png'
}

/** Where the pages reach the keys API: under the console's path, where their cookie goes. */
const KEYS_API = '/api/v2/spaces/'

/**
 * The web console: its pages (from `assets`) and JSON API, for sessions signed in with the admin
 * token. Mounted by `createS3Server({ console })` at /_spacebox/console. The pages manage keys
 * through the keys API, served again under the console's path for its sessions: the session's
 * cookie is sent to that path alone.
 */
export function createConsole (box: Spacebox, options: ConsoleOptions): ConsoleMount {
  const now = options.now ?? Date.now
  const sessions = new Sessions(now)
  const log = options.log ?? (line => { console.error(line) })
  const onError = options.onError ?? ((err, requestId) => { console.error(`spacebox: console request ${requestId} failed:`, err) })

  async function handle (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value)
    const url = new URL(req.url ?? '/', 'http://localhost')
    const rest = url.pathname.slice(CONSOLE_PATH.length)
    try {
      if (rest === '') {
        res.writeHead(308, { location: `${CONSOLE_PATH}/` }).end()
        return
      }
      if (rest === '/') {
        await sendFile(req, res, join(options.assets, 'index.html'), 'text/html; charset=utf-8')
        return
      }
      if (rest.startsWith('/assets/')) {
        await sendAsset(req, res, rest.slice('/assets/'.length))
        return
      }
      if (rest === '/api/session') {
        await session(req, res, requestId)
        return
      }
      if (rest.startsWith(KEYS_API)) {
        // The keys API reads its path from req.url: the path it has outside the console.
        req.url = (req.url ?? '').slice(CONSOLE_PATH.length + '/api'.length)
        await handleKeysApi(box, req, res, requestId, { isAdmin: () => false, session: authorizes, baseUrl: r => `${protocolOf(r)}://${r.headers.host ?? 'localhost'}` })
        return
      }
      if (!rest.startsWith('/api/')) throw new ApiError(404, 'not_found', 'No such page of the console')
      const signedIn = sessions.find(req)
      if (signedIn === undefined) throw unauthorized()
      if (!isSafe(req) && !sessions.csrfMatches(req, signedIn)) throw new ApiError(403, 'csrf_failed', 'The request lacks the session\'s CSRF token: reload the page')
      let path: string[]
      try {
        path = rest.slice('/api/'.length).split('/').map(decodeURIComponent)
      } catch {
        throw new ApiError(404, 'not_found', 'The resource you were accessing could not be found.')
      }
      await serveApi({ box, req, res, requestId, path, query: url.searchParams, region: options.region })
    } catch (err) {
      const error = toConsoleError(err)
      if (error === undefined) onError(err, requestId)
      sendError(res, requestId, error ?? new ApiError(500, 'server_error', 'Server was unable to give you a response.'))
    }
  }

  /** POST signs in with the admin token, GET says whether the cookie's session is live, DELETE signs out. */
  async function session (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const cookie = (value: string, maxAge: number): string =>
      `${COOKIE}=${value}; Path=${CONSOLE_PATH}; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${protocolOf(req) === 'https' ? '; Secure' : ''}`
    if (req.method === 'GET') {
      const live = sessions.find(req)
      if (live === undefined) throw unauthorized()
      sendJson(res, requestId, 200, { csrf: live.csrf, expires_at: new Date(live.expires).toISOString() })
      return
    }
    if (req.method === 'DELETE') {
      const live = sessions.find(req)
      if (live !== undefined && !sessions.csrfMatches(req, live)) throw new ApiError(403, 'csrf_failed', 'The request lacks the session\'s CSRF token: reload the page')
      sessions.close(req)
      sendJson(res, requestId, 204, undefined, { 'set-cookie': cookie('', 0) })
      return
    }
    if (req.method !== 'POST') throw new ApiError(405, 'method_not_allowed', `${req.method ?? ''} is not allowed here`, { allow: 'GET, POST, DELETE' })
    const address = req.socket.remoteAddress ?? 'unknown'
    const wait = sessions.blockedFor(address)
    if (wait > 0) throw new ApiError(429, 'too_many_requests', `Too many failed sign-ins: try again in ${wait} s`, { 'retry-after': String(wait) })
    const body = await readJson(req, ['token'])
    if (typeof body.token !== 'string' || !options.isAdmin(body.token)) {
      const count = sessions.failed(address)
      log(`spacebox: console sign-in refused from ${address} (${count} in the last minute)`)
      throw new ApiError(401, 'unauthorized', 'That is not the admin token')
    }
    const { id, session: opened } = sessions.open()
    sendJson(res, requestId, 200, { csrf: opened.csrf, expires_at: new Date(opened.expires).toISOString() }, { 'set-cookie': cookie(id, SESSION_MS / 1000) })
  }

  /** A built file of the pages by its plain name (no folders, no dot files): 404 otherwise. */
  async function sendAsset (req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const extension = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*(\.[a-z]+)$/.exec(name)?.[1]
    const type = extension === undefined ? undefined : TYPES[extension]
    if (type === undefined) throw new ApiError(404, 'not_found', 'No such file')
    await sendFile(req, res, join(options.assets, name), type)
  }

  /** A signed-in session, with its CSRF token when the request changes state: the keys API takes it as the admin token. */
  function authorizes (req: IncomingMessage): boolean {
    const live = sessions.find(req)
    return live !== undefined && (isSafe(req) || sessions.csrfMatches(req, live))
  }

  return { handle }
}

function isSafe (req: IncomingMessage): boolean {
  return req.method === 'GET' || req.method === 'HEAD'
}

function unauthorized (): ApiError {
  return new ApiError(401, 'unauthorized', 'Sign in with the admin token')
}

async function sendFile (req: IncomingMessage, res: ServerResponse, path: string, type: string): Promise<void> {
  const info = await stat(path).catch(() => undefined)
  if (info === undefined || !info.isFile()) throw new ApiError(404, 'not_found', 'No such file (is the console built? npm run build)')
  res.writeHead(200, { 'content-type': type, 'content-length': info.size, 'cache-control': 'no-cache' })
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  createReadStream(path).on('error', () => { res.destroy() }).pipe(res)
}
