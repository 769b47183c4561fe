/**
 * The little of POSIX tar (ustar) an archive needs: regular files with short names, written and
 * read as streams. A size past ustar's 11 octal digits goes in a pax header, as GNU and BSD tar
 * read it. Anything else a reader meets (links, devices, a bad header checksum) is refused.
 */
import { invalid } from './format.js'

const BLOCK = 512
const MAX_OCTAL_SIZE = 0o77777777777
const ZEROS = Buffer.alloc(BLOCK * 2)

function header (name: string, size: number, type: '0' | 'x', mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK)
  block.write(name, 0, 100, 'utf8')
  block.write('0000644\0', 100, 'ascii')
  block.write('0000000\0', 108, 'ascii')
  block.write('0000000\0', 116, 'ascii')
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii')
  block.write(`${Math.floor(mtime / 1000).toString(8).padStart(11, '0')}\0`, 136, 'ascii')
  block.write(' '.repeat(8), 148, 'ascii')
  block.write(type, 156, 'ascii')
  block.write('ustar\0' + '00', 257, 'ascii')
  block.write(`${checksumOf(block).toString(8).padStart(6, '0')}\0 `, 148, 'ascii')
  return block
}

function checksumOf (block: Buffer): number {
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i] as number
  return sum
}

function padding (size: number): Buffer {
  return ZEROS.subarray(0, (BLOCK - (size % BLOCK)) % BLOCK)
}

/** The blocks that start a file of `size` bytes (a pax header first when ustar cannot hold the size). */
export function fileHeader (name: string, size: number, mtime = Date.now()): Buffer {
  if (Buffer.byteLength(name) > 99) throw new TypeError('tar names here are short')
  if (size <= MAX_OCTAL_SIZE) return header(name, size, '0', mtime)
  let record = ` size=${size}\n`
  // A pax record's length counts its own digits.
  let length = record.length
  while (`${length}${record}`.length !== length) length = `${length}${record}`.length
  record = `${length}${record}`
  // The ustar size says 0; the pax record before it gives the real one.
  return Buffer.concat([header('PaxHeaders/' + name.slice(0, 80), record.length, 'x', mtime), Buffer.from(record), padding(record.length), header(name, 0, '0', mtime)])
}

/** The zeros after a file's last byte, up to the next block. */
export function filePadding (size: number): Buffer {
  return padding(size)
}

/** Two empty blocks: the end of an archive. */
export function endOfArchive (): Buffer {
  return ZEROS
}

export interface TarEntry { name: string, size: number }

/**
 * Reads an archive from a byte stream, file by file. After each entry the caller reads its bytes
 * with `take` (in as many pieces as it likes); whatever it leaves is skipped.
 */
export class TarReader {
  readonly #source: AsyncIterator<Uint8Array>
  #buffer: Buffer = Buffer.alloc(0)
  #left = 0

  constructor (source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]()
  }

  async * entries (): AsyncGenerator<TarEntry> {
    let size: number | undefined
    for (;;) {
      const block = await this.#read(BLOCK, true)
      if (block === undefined || block.every(b => b === 0)) return
      if (checksumOf(block) !== parseInt(block.toString('ascii', 148, 156).replace(/\0.*$/, '').trim(), 8)) throw invalid('a header\'s checksum is wrong')
      const type = String.fromCharCode(block[156] as number)
      const name = block.toString('utf8', 0, 100).replace(/\0.*$/s, '')
      const stated = parseInt(block.toString('ascii', 124, 136).replace(/\0.*$/, '').trim() || '0', 8)
      if (!Number.isSafeInteger(stated)) throw invalid(`${name}: a size is unreadable`)
      if (type === 'x') {
        if (stated > 64 * 1024) throw invalid('a pax header is too large')
        const text = (await this.#read(stated, false) as Buffer).toString('utf8')
        await this.#read((BLOCK - (stated % BLOCK)) % BLOCK, false)
        const found = /(?:^|\n)\d+ size=(\d+)\n/.exec(text)
        size = found === null ? undefined : Number(found[1])
        continue
      }
      if (type !== '0' && type !== '\0') throw invalid(`${name} is not a plain file`)
      const entrySize = size ?? stated
      size = undefined
      this.#left = entrySize
      yield { name, size: entrySize }
      if (this.#left > 0) await drain(this.take(this.#left))
      await this.#read((BLOCK - (entrySize % BLOCK)) % BLOCK, false)
    }
  }

  /** The next `length` bytes of the current entry, as they arrive. */
  async * take (length: number): AsyncGenerator<Buffer> {
    if (length > this.#left) throw invalid('an entry is shorter than its record says')
    this.#left -= length
    while (length > 0) {
      if (this.#buffer.length === 0 && !await this.#refill()) throw invalid('it ends in the middle of an entry')
      const piece = this.#buffer.subarray(0, Math.min(length, this.#buffer.length))
      this.#buffer = this.#buffer.subarray(piece.length)
      length -= piece.length
      yield piece
    }
  }

  /** The source's next piece into the empty buffer; false at its end. */
  async #refill (): Promise<boolean> {
    const next = await this.#source.next()
    if (next.done === true) return false
    this.#buffer = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
    return true
  }

  /** Exactly `length` bytes, gathered (headers and padding only); undefined at a clean end when allowed. */
  async #read (length: number, endAllowed: boolean): Promise<Buffer | undefined> {
    const pieces: Buffer[] = []
    let have = 0
    while (have < length) {
      if (this.#buffer.length === 0 && !await this.#refill()) {
        if (endAllowed && have === 0) return undefined
        throw invalid('it ends in the middle of a header')
      }
      const piece = this.#buffer.subarray(0, Math.min(length - have, this.#buffer.length))
      this.#buffer = this.#buffer.subarray(piece.length)
      pieces.push(piece)
      have += piece.length
    }
    return Buffer.concat(pieces)
  }
}

async function drain (pieces: AsyncIterable<Buffer>): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  for await (const _ of pieces);
}
