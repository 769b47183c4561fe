/**
 * A pull parser for multipart/form-data bodies (RFC 7578), shaped for S3's POST Object: the
 * fields before the file are read whole under one byte budget, the file streams out as it arrives,
 * and whatever follows it can be skipped. Nothing larger than a field, plus the few bytes that may
 * start a delimiter, is ever held.
 */
import { S3Error } from './errors.js'

/** What a part's headers say about it. */
export interface PartHead {
  /** The `name` of its Content-Disposition, as sent. */
  name: string
  /** The `filename` parameter, as sent (undefined when absent). */
  filename: string | undefined
}

const CRLF = Buffer.from('\r\n')
const HEADERS_END = Buffer.from('\r\n\r\n')
const DASHES = 0x2d
const EMPTY = Buffer.alloc(0)

/** The boundary of a `multipart/form-data` Content-Type, or undefined for any other type. */
export function boundaryOf (contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined
  const [type, ...params] = contentType.split(';')
  if (type?.trim().toLowerCase() !== 'multipart/form-data') return undefined
  for (const param of params) {
    const eq = param.indexOf('=')
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue
    const value = unquote(param.slice(eq + 1).trim())
    // RFC 2046: 1 to 70 characters; anything longer is no browser's.
    return value.length >= 1 && value.length <= 200 ? value : ''
  }
  return ''
}

export function malformed (): S3Error {
  return new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.')
}

/**
 * Reads parts in order. `next()` and `value()` refuse to read past `limit` bytes of the body
 * (MaxPostPreDataLengthExceeded): what comes before the file is bounded; the file is not.
 */
export class FormReader {
  readonly #source: AsyncIterator<Buffer>
  readonly #delimiter: Buffer
  readonly #limit: number
  // The body is read as if it began with CRLF, so that every delimiter, the first included, is CRLF--boundary.
  #buf: Buffer = CRLF
  #consumed = -CRLF.length
  #ended = false

  constructor (source: AsyncIterable<Buffer>, boundary: string, limit: number) {
    this.#source = source[Symbol.asyncIterator]()
    this.#delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1')
    this.#limit = limit
  }

  /** Bytes of the body consumed so far. */
  get position (): number {
    return this.#consumed
  }

  /**
   * The next part's head, skipping whatever is left of the current part (or the preamble);
   * undefined after the closing delimiter.
   */
  async next (): Promise<PartHead | undefined> {
    this.#advance(await this.#find(this.#delimiter))
    this.#advance(this.#delimiter.length)
    await this.#fill(2)
    if (this.#buf[0] === DASHES && this.#buf[1] === DASHES) return undefined
    // Transport padding (spaces, tabs) may follow the boundary before its CRLF.
    const eol = await this.#find(CRLF)
    if (this.#buf.subarray(0, eol).toString('latin1').trim() !== '') throw malformed()
    this.#advance(eol)
    // Headers end with an empty line: CRLF CRLF from the end of the boundary line, so a part with none ends at once.
    const end = await this.#find(HEADERS_END)
    const head = this.#buf.subarray(CRLF.length, end).toString('utf8')
    this.#advance(end + HEADERS_END.length)
    return parseHead(head)
  }

  /** The current part's content, whole: a field's value. */
  async value (): Promise<Buffer> {
    const end = await this.#find(this.#delimiter)
    const value = Buffer.from(this.#buf.subarray(0, end))
    this.#advance(end)
    return value
  }

  /** The current part's content as it arrives: the file. Ends at the part's end, leaving the rest unread. */
  async * stream (): AsyncGenerator<Buffer> {
    // Up to this many bytes at the end of what has arrived may be the start of the delimiter.
    const hold = this.#delimiter.length - 1
    for (;;) {
      const at = this.#buf.indexOf(this.#delimiter)
      if (at !== -1) {
        const last = this.#buf.subarray(0, at)
        this.#advance(at)
        if (last.length > 0) yield last
        return
      }
      if (this.#buf.length > hold) {
        const piece = this.#buf.subarray(0, this.#buf.length - hold)
        this.#advance(piece.length)
        yield piece
      }
      if (!await this.#read()) throw malformed()
    }
  }

  /** Read the rest of the body, keeping nothing. */
  async drain (): Promise<void> {
    this.#buf = EMPTY
    while (await this.#read()) this.#buf = EMPTY
  }

  /** Index of `pattern` in the buffer, reading as needed, but not past the limit. */
  async #find (pattern: Buffer): Promise<number> {
    let from = 0
    for (;;) {
      const at = this.#buf.indexOf(pattern, from)
      if (at !== -1) {
        if (this.#consumed + at > this.#limit) throw tooLarge(this.#limit)
        return at
      }
      if (this.#consumed + this.#buf.length > this.#limit) throw tooLarge(this.#limit)
      from = Math.max(0, this.#buf.length - pattern.length + 1)
      if (!await this.#read()) throw malformed()
    }
  }

  /** Read until at least `n` bytes are buffered, but not past the limit. */
  async #fill (n: number): Promise<void> {
    while (this.#buf.length < n) {
      if (this.#consumed + this.#buf.length > this.#limit) throw tooLarge(this.#limit)
      if (!await this.#read()) throw malformed()
    }
  }

  /** One more chunk into the buffer; false at the end of the body. */
  async #read (): Promise<boolean> {
    if (this.#ended) return false
    let next: IteratorResult<Buffer>
    try {
      next = await this.#source.next()
    } catch {
      // A client gone mid-body: its answer, were there anyone to read it; not a server failure.
      throw new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.')
    }
    const { value, done } = next
    if (done === true) {
      this.#ended = true
      return false
    }
    const chunk = value
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    return true
  }

  #advance (n: number): void {
    this.#buf = this.#buf.subarray(n)
    this.#consumed += n
  }
}

/** S3's answer to fields before the file larger than it accepts (20 KB): code and message as S3 sends them. */
function tooLarge (limit: number): S3Error {
  return new S3Error('MaxPostPreDataLengthExceeded', 'Your POST request fields preceeding the upload file was too large.', { MaxPostPreDataLengthBytes: limit })
}

/** The name and filename of a part's Content-Disposition; other headers do not matter to S3. */
function parseHead (head: string): PartHead {
  let disposition: string | undefined
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon === -1) throw malformed()
    if (line.slice(0, colon).trim().toLowerCase() === 'content-disposition') disposition = line.slice(colon + 1)
  }
  if (disposition === undefined) throw malformed()
  const params = dispositionParams(disposition)
  const name = params.get('name')
  if (params.get('') !== 'form-data' || name === undefined) throw malformed()
  return { name, filename: params.get('filename') }
}

/**
 * `form-data; name="a"; filename="b"` as a map ('' holds the type, lower-cased). Values are taken
 * as sent: browsers escape '"' and newlines as %22 and %0D%0A and leave a backslash alone, so a
 * Windows path (`C:\dir\x`) keeps its backslashes rather than losing them to unescaping.
 */
function dispositionParams (value: string): Map<string, string> {
  const params = new Map<string, string>()
  const type = /^\s*([^;\s]*)\s*/.exec(value)!
  params.set('', type[1]!.toLowerCase())
  const param = /;\s*([^=;\s]+)\s*=\s*(?:"([^"]*)"|([^;]*))/g
  let match: RegExpExecArray | null
  while ((match = param.exec(value)) !== null) {
    const name = match[1]!.toLowerCase()
    if (!params.has(name)) params.set(name, match[2] ?? match[3]!.trim())
  }
  return params
}

function unquote (value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value
}
