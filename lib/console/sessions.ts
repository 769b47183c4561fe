import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const COOKIE = 'spacebox_console'

/** A session lasts this long from sign-in, whatever its use: the console holds every key. */
export const SESSION_MS = 8 * 3_600_000
/** Sessions kept at once; signing in past it ends the oldest. */
const MAX_SESSIONS = 1000
/** Failed sign-ins allowed per address and window, and the window. */
const MAX_FAILURES = 5
const FAILURE_WINDOW_MS = 60_000
/** Addresses whose failures are remembered at once (a flood from many addresses stays bounded). */
const MAX_ADDRESSES = 10_000

export interface Session {
  csrf: string
  expires: number
}

/**
 * The console's sessions, in this server's memory only: a restart signs everyone out, and a
 * session of one server means nothing to another. Ids are kept as their SHA-256, so a lookup's
 * timing says nothing about a stored id; CSRF tokens are compared in constant time.
 */
export class Sessions {
  readonly #now: () => number
  readonly #sessions = new Map<string, Session>()
  readonly #failures = new Map<string, { count: number, since: number }>()

  constructor (now: () => number) {
    this.#now = now
  }

  /** A new session: the cookie's value (given once) and its CSRF token. */
  open (): { id: string, session: Session } {
    if (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value as string)
    const id = randomBytes(32).toString('base64url')
    const session = { csrf: randomBytes(32).toString('base64url'), expires: this.#now() + SESSION_MS }
    this.#sessions.set(digest(id), session)
    return { id, session }
  }

  /** The request's live session, if its cookie names one. */
  find (req: IncomingMessage): Session | undefined {
    const id = cookieOf(req, COOKIE)
    if (id === undefined) return undefined
    const key = digest(id)
    const session = this.#sessions.get(key)
    if (session === undefined) return undefined
    if (session.expires <= this.#now()) {
      this.#sessions.delete(key)
      return undefined
    }
    return session
  }

  close (req: IncomingMessage): void {
    const id = cookieOf(req, COOKIE)
    if (id !== undefined) this.#sessions.delete(digest(id))
  }

  /** Whether a request may change state: its X-CSRF-Token is its session's. */
  csrfMatches (req: IncomingMessage, session: Session): boolean {
    const header = req.headers['x-csrf-token']
    if (typeof header !== 'string') return false
    const given = Buffer.from(header)
    const expected = Buffer.from(session.csrf)
    return given.length === expected.length && timingSafeEqual(given, expected)
  }

  /** Seconds until `address` may try again, or 0 when it may sign in now. */
  blockedFor (address: string): number {
    const entry = this.#failures.get(address)
    if (entry === undefined) return 0
    const left = entry.since + FAILURE_WINDOW_MS - this.#now()
    if (left <= 0) {
      this.#failures.delete(address)
      return 0
    }
    return entry.count >= MAX_FAILURES ? Math.ceil(left / 1000) : 0
  }

  /** Count a failed sign-in; the number in the current window. */
  failed (address: string): number {
    const now = this.#now()
    let entry = this.#failures.get(address)
    if (entry === undefined || entry.since + FAILURE_WINDOW_MS <= now) {
      if (this.#failures.size >= MAX_ADDRESSES) this.#prune(now)
      entry = { count: 0, since: now }
      this.#failures.set(address, entry)
    }
    entry.count++
    return entry.count
  }

  /** Forget windows that ended; if every one is live, the oldest. */
  #prune (now: number): void {
    for (const [address, entry] of this.#failures) if (entry.since + FAILURE_WINDOW_MS <= now) this.#failures.delete(address)
    if (this.#failures.size >= MAX_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value as string)
  }
}

function digest (id: string): string {
  return createHash('sha256').update(id).digest('base64url')
}

/** One cookie's value from the Cookie header (the first of that name). */
function cookieOf (req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=')
    if (at !== -1 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim()
  }
  return undefined
}
