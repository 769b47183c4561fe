// Uploads from the browser, each with its own progress bar. Up to 16 MiB a file goes in one PUT;
// a larger one as a multipart upload of 8 MiB parts (three at a time), where a part that fails is
// sent again up to 3 times before the whole upload is aborted, so no half-made upload is left.
import { ApiError, del, post, query, seg, upload } from './api.js'
import { h } from './dom.js'
import { bytes } from './format.js'

export const SINGLE_MAX = 16 * 1024 * 1024
export const PART_SIZE = 8 * 1024 * 1024
const RETRIES = 3
const PARALLEL_PARTS = 3
const PARALLEL_FILES = 2

/** A file and the object key it becomes (the folder it was dropped in, then its path inside what was dropped). */
export interface UploadJob { file: File, key: string }

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Worth sending again: the connection failed, or the server was busy or failing. */
function transient (err: unknown): boolean {
  return err instanceof ApiError && err.id !== 'aborted' && (err.status === 0 || err.status === 408 || err.status === 429 || err.status >= 500)
}

/** Run `work` on every item, `limit` at a time. */
async function pool<T> (items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T
      await work(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

async function single (bucket: string, job: UploadJob, progress: (sent: number) => void, signal: AbortSignal): Promise<void> {
  await upload(`buckets/${seg(bucket)}/object${query({ key: job.key })}`, job.file, job.file.type || 'application/octet-stream', progress, signal)
}

async function multipart (bucket: string, job: UploadJob, progress: (sent: number) => void, signal: AbortSignal): Promise<void> {
  const base = `buckets/${seg(bucket)}/uploads`
  const { upload_id: id } = await post<{ upload_id: string }>(base, { key: job.key, content_type: job.file.type || 'application/octet-stream' })
  const count = Math.ceil(job.file.size / PART_SIZE)
  const sent = new Array<number>(count).fill(0)
  const report = (): void => { progress(sent.reduce((a, b) => a + b, 0)) }
  const parts: Array<{ part: number, etag: string }> = []
  try {
    await pool(Array.from({ length: count }, (_, i) => i), PARALLEL_PARTS, async i => {
      const n = i + 1
      const body = job.file.slice(i * PART_SIZE, Math.min(job.file.size, n * PART_SIZE))
      for (let attempt = 0; ; attempt++) {
        try {
          const { etag } = await upload<{ etag: string }>(`${base}/${seg(id)}/parts/${n}${query({ key: job.key })}`, body, 'application/octet-stream', loaded => {
            sent[i] = loaded
            report()
          }, signal)
          parts.push({ part: n, etag })
          return
        } catch (err) {
          sent[i] = 0
          report()
          if (signal.aborted || !transient(err) || attempt === RETRIES) throw err
          await sleep(400 * 2 ** attempt)
        }
      }
    })
    parts.sort((a, b) => a.part - b.part)
    await post(`${base}/${seg(id)}/complete`, { key: job.key, parts })
  } catch (err) {
    // The parts already stored would otherwise sit in the store until an abort sweep.
    await del(`${base}/${seg(id)}${query({ key: job.key })}`).catch(() => {})
    throw err
  }
}

/**
 * The uploads of one bucket, listed under its object browser. `add` starts files (two at a time);
 * `onUploaded` runs when the last file of a batch has finished, to refresh whichever folder is on
 * screen by then (the list outlives a move to another folder, and so do its uploads).
 */
export class UploadList {
  readonly element: HTMLElement
  readonly #list: HTMLUListElement
  readonly #bucket: string
  onUploaded: () => void = () => {}

  constructor (bucket: string) {
    this.#bucket = bucket
    this.#list = h('ul', { class: 'upload-list' })
    const clear = h('button', { type: 'button', class: 'small', id: 'clear-uploads', onclick: () => { this.#clear() } }, 'Clear finished')
    this.element = h('section', { class: 'uploads', 'aria-label': 'Uploads', hidden: true },
      h('div', { class: 'uploads-head' }, h('h2', { class: 'small' }, 'Uploads'), clear), this.#list)
  }

  /** Forget the rows of uploads that are over (failed ones stay, to be read). */
  #clear (): void {
    for (const row of this.#list.querySelectorAll<HTMLElement>('li[data-state="done"], li[data-state="cancelled"]')) row.remove()
    this.element.hidden = this.#list.childElementCount === 0
  }

  add (jobs: UploadJob[]): void {
    if (jobs.length === 0) return
    this.element.hidden = false
    const rows = jobs.map(job => this.#row(job))
    pool(rows, PARALLEL_FILES, async run => { await run() }).then(() => { this.onUploaded() })
  }

  /** Adds the file's row, and returns what uploads it and updates the row; it never rejects. */
  #row (job: UploadJob): () => Promise<void> {
    const total = job.file.size
    const bar = h('progress', { max: Math.max(total, 1), value: 0, 'aria-label': `Upload of ${job.key}` })
    const state = h('span', { class: 'upload-state' }, 'Waiting')
    const controller = new AbortController()
    const cancel = h('button', { type: 'button', class: 'small', onclick: () => { controller.abort() } }, 'Cancel')
    cancel.setAttribute('aria-label', `Cancel upload of ${job.key}`)
    const row = h('li', { class: 'upload', 'data-key': job.key, 'data-state': 'waiting' },
      h('span', { class: 'upload-name' }, job.key), bar, h('span', { class: 'upload-foot' }, state, cancel))
    this.#list.append(row)
    const progress = (sent: number): void => {
      bar.value = Math.min(sent, total)
      state.textContent = `${bytes(Math.min(sent, total))} of ${bytes(total)}`
    }
    return async () => {
      if (controller.signal.aborted) {
        this.#finish(row, state, cancel, 'cancelled', 'Cancelled')
        return
      }
      row.dataset.state = 'uploading'
      progress(0)
      try {
        const send = total > SINGLE_MAX ? multipart : single
        await send(this.#bucket, job, progress, controller.signal)
        bar.value = Math.max(total, 1)
        this.#finish(row, state, cancel, 'done', `Uploaded, ${bytes(total)}`)
      } catch (err) {
        const cancelled = err instanceof ApiError && err.id === 'aborted'
        this.#finish(row, state, cancel, cancelled ? 'cancelled' : 'failed', cancelled ? 'Cancelled' : `Failed: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
  }

  #finish (row: HTMLLIElement, state: HTMLSpanElement, cancel: HTMLButtonElement, outcome: string, message: string): void {
    row.dataset.state = outcome
    state.textContent = message
    if (outcome === 'failed') state.classList.add('error-text')
    cancel.remove()
  }
}

/** Every file of a drop, folders walked, each with its path inside what was dropped ("photos/2024/a.jpg"). */
export async function droppedFiles (data: DataTransfer): Promise<Array<{ file: File, path: string }>> {
  const entries = [...data.items].map(item => item.kind === 'file' ? item.webkitGetAsEntry() : null)
  // A browser without entries (or a synthetic drop) still gives the files, without folders.
  if (entries.every(e => e === null)) return [...data.files].map(file => ({ file, path: file.name }))
  const out: Array<{ file: File, path: string }> = []
  const walk = async (entry: FileSystemEntry, path: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => { (entry as FileSystemFileEntry).file(resolve, reject) })
      out.push({ file, path: path + entry.name })
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader()
      // readEntries answers in batches (100 in Chromium) until it answers an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => { reader.readEntries(resolve, reject) })
        if (batch.length === 0) break
        for (const child of batch) await walk(child, `${path}${entry.name}/`)
      }
    }
  }
  for (const entry of entries) if (entry !== null) await walk(entry, '')
  return out
}
