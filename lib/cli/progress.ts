import type { ArchiveEvent, MirrorEvent } from '../index.js'
import { size } from './format.js'
import type { Io } from './io.js'

const TICK_MS = 250
const LINE_MS = 5000

/**
 * What a long command reports as it goes: a bar redrawn on a terminal (objects, bytes, rate, ETA),
 * a plain line every few seconds otherwise, or with `--json` each event and a `progress` event every
 * few seconds on stdout; skipped and failed objects named on stderr; a summary at the end.
 */
export class Progress {
  readonly #io: Io
  readonly #json: boolean
  readonly #tty: boolean
  readonly #started = Date.now()
  #objects = 0
  #bytes = 0
  #done = 0
  #doneBytes = 0
  #timer: NodeJS.Timeout | undefined
  #last = 0
  #drawn = false

  constructor (io: Io, json: boolean) {
    this.#io = io
    this.#json = json
    this.#tty = !json && (io.stderr as { isTTY?: boolean }).isTTY === true
    this.#timer = setInterval(() => { this.#tick() }, TICK_MS)
    this.#timer.unref()
  }

  event (event: MirrorEvent | ArchiveEvent): void {
    switch (event.type) {
      case 'plan':
        this.#objects += event.objects
        this.#bytes += event.bytes
        break
      case 'data':
        this.#doneBytes += event.bytes
        return
      case 'copied':
      case 'object':
        this.#done++
        break
      case 'failed':
        this.#done++
        this.#say(`failed: ${event.bucket}/${event.key}${event.versionId === undefined ? '' : ` (version ${event.versionId})`}: ${event.code}: ${event.message}`)
        break
      case 'skipped':
        if (event.reason === 'unchanged') return
        this.#done++
        this.#say(`skipped: ${event.bucket}/${event.key}: ${event.reason === 'sse-c' ? 'encrypted with a customer key (SSE-C)' : 'encrypted (give --decrypt to take it as plaintext)'}`)
        break
      case 'deleted':
        break
    }
    if (this.#json) this.#io.stdout.write(`${JSON.stringify(event)}\n`)
  }

  stop (): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#clear()
  }

  /** The summary: `line` and the time taken on stdout, or with `--json` the figures as a `summary` event. */
  done (line: string, figures: Record<string, number>): void {
    this.stop()
    const seconds = Math.round((Date.now() - this.#started) / 100) / 10
    if (this.#json) this.#io.stdout.write(`${JSON.stringify({ type: 'summary', ...figures, seconds })}\n`)
    else this.#io.stdout.write(`${line} in ${seconds} s\n`)
  }

  #tick (): void {
    const now = Date.now()
    if (this.#json) {
      if (now - this.#last < LINE_MS) return
      this.#last = now
      this.#io.stdout.write(`${JSON.stringify({ type: 'progress', ...this.#figures(now) })}\n`)
    } else if (this.#tty) {
      this.#io.stderr.write(`\r\x1b[K${this.#line(now)}`)
      this.#drawn = true
    } else if (now - this.#last >= LINE_MS) {
      this.#last = now
      this.#io.stderr.write(`${this.#line(now)}\n`)
    }
  }

  #figures (now: number): { objects: number, of: number, bytes: number, ofBytes: number, rate: number, eta?: number } {
    const seconds = Math.max((now - this.#started) / 1000, 0.001)
    const rate = Math.round(this.#doneBytes / seconds)
    const left = this.#bytes - this.#doneBytes
    return { objects: this.#done, of: this.#objects, bytes: this.#doneBytes, ofBytes: this.#bytes, rate, ...(rate > 0 && left > 0 ? { eta: Math.ceil(left / rate) } : {}) }
  }

  #line (now: number): string {
    const f = this.#figures(now)
    const width = 20
    const filled = f.ofBytes === 0 ? (f.of === 0 ? 0 : Math.floor(width * f.objects / f.of)) : Math.floor(width * Math.min(f.bytes / f.ofBytes, 1))
    const bar = this.#tty ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : ''
    return `${bar}${f.objects}/${f.of} objects, ${size(f.bytes)}/${size(f.ofBytes)}, ${size(f.rate)}/s${f.eta === undefined ? '' : `, ETA ${f.eta} s`}`
  }

  #say (line: string): void {
    if (this.#json) return
    this.#clear()
    this.#io.stderr.write(`${line}\n`)
  }

  #clear (): void {
    if (!this.#drawn) return
    this.#io.stderr.write('\r\x1b[K')
    this.#drawn = false
  }
}
