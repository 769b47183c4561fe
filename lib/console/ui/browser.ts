// A bucket's objects as folders (delimiter "/"), a page at a time: "More" fetches the next page
// rather than the whole bucket. Sorting orders what is loaded; the search is a key prefix inside
// the current folder, so it is answered by the server's index, not by filtering here. Files and
// folders are uploaded with the buttons or by dropping them on the list.
import { CONSOLE_API, get, post, query, seg } from './api.js'
import { confirmDialog, promptDialog } from './dialog.js'
import { announce, errorBox, field, h, table } from './dom.js'
import { bytes, date } from './format.js'
import { bucketTabs, failed, pageHeader, type Crumb } from './layout.js'
import { go, href, type Route } from './router.js'
import type { ObjectPage, ObjectSummary } from './types.js'
import { droppedFiles, UploadList } from './uploads.js'

const PAGE = 200
type SortBy = 'name' | 'size' | 'date'

// One upload list per bucket, kept while the user moves between its folders.
const uploadLists = new Map<string, UploadList>()

/** The download URL of an object: same origin, the session cookie goes with it. */
export function downloadUrl (bucket: string, key: string): string {
  return `${CONSOLE_API}buckets/${seg(bucket)}/download${query({ key })}`
}

/** Breadcrumbs Buckets / bucket / folder / sub / (extra). */
export function folderCrumbs (bucket: string, prefix: string): Crumb[] {
  const crumbs: Crumb[] = [{ label: 'Buckets', href: href(['buckets']) }, { label: bucket, href: href(['buckets', bucket]) }]
  let path = ''
  for (const part of prefix.split('/').slice(0, -1)) {
    path += `${part}/`
    crumbs.push({ label: part === '' ? '(empty name)' : part, href: href(['buckets', bucket], { prefix: path }) })
  }
  return crumbs
}

/** Every key under a prefix (a folder being deleted), page by page. */
async function keysUnder (bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await get<ObjectPage>(`buckets/${seg(bucket)}/objects${query({ prefix, max: 1000, token })}`)
    keys.push(...page.objects.map(o => o.key))
    token = page.next ?? undefined
  } while (token !== undefined)
  return keys
}

/** Delete keys 1000 at a time (the API's limit); throws naming what could not be deleted. */
export async function deleteKeys (bucket: string, keys: string[]): Promise<void> {
  const errors: Array<{ key: string, message: string }> = []
  for (let i = 0; i < keys.length; i += 1000) {
    const answer = await post<{ errors?: Array<{ key: string, message: string }> }>(`buckets/${seg(bucket)}/delete`, { keys: keys.slice(i, i + 1000) })
    errors.push(...(answer.errors ?? []))
  }
  if (errors.length > 0) {
    const first = errors[0]
    throw new Error(`${errors.length} of ${keys.length} could not be deleted${first === undefined ? '' : `, e.g. ${first.key}: ${first.message}`}`)
  }
}

export async function browserPage (view: HTMLElement, route: Route): Promise<void> {
  const bucket = route.path[1] ?? ''
  const prefix = route.query.get('prefix') ?? ''
  const search = route.query.get('search') ?? ''
  let objects: ObjectSummary[] = []
  let prefixes: string[] = []
  let next: string | null = null
  let sortBy: SortBy = 'name'
  let ascending = true
  const selected = new Set<string>()

  const uploads = uploadLists.get(bucket) ?? new UploadList(bucket)
  uploadLists.set(bucket, uploads)
  const body = h('tbody')
  const more = h('button', { type: 'button', hidden: true }, 'More')
  const removeSelected = h('button', { type: 'button', class: 'danger-text', disabled: true }, 'Delete selected')
  const selectAll = h('input', { type: 'checkbox', 'aria-label': 'Select everything listed' })
  const summary = h('p', { class: 'muted summary', 'aria-live': 'polite' })
  const listProblem = h('div')

  const load = async (token?: string): Promise<void> => {
    const page = await get<ObjectPage>(`buckets/${seg(bucket)}/objects${query({ prefix: prefix + search, delimiter: '/', max: PAGE, token })}`)
    // A "folder marker" (an empty object named like the folder itself) is the folder, not a file in it.
    objects = objects.concat(page.objects.filter(o => o.key !== prefix))
    prefixes = prefixes.concat(page.prefixes)
    next = page.next
  }
  const reload = async (): Promise<void> => {
    objects = []
    prefixes = []
    next = null
    selected.clear()
    listProblem.replaceChildren()
    try {
      await load()
    } catch (err) {
      listProblem.replaceChildren(failed(err))
    }
    render()
  }
  uploads.onUploaded = () => { if (view.isConnected) reload() }

  const sortButton = (by: SortBy, label: string): HTMLTableCellElement => {
    const button = h('button', { type: 'button', class: 'sort' }, label)
    const th = h('th', { scope: 'col', 'aria-sort': 'none', 'data-sort': by }, button)
    button.addEventListener('click', () => {
      ascending = sortBy === by ? !ascending : true
      sortBy = by
      render()
    })
    return th
  }
  const headers = [h('th', { scope: 'col', class: 'check' }, selectAll), sortButton('name', 'Name'), sortButton('size', 'Size'), sortButton('date', 'Last modified'),
    h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions'))]
  const grid = table(`Objects in ${bucket}/${prefix}`, headers, [])
  grid.querySelector('tbody')?.replaceWith(body)

  const syncSelection = (): void => {
    removeSelected.disabled = selected.size === 0
    removeSelected.textContent = selected.size === 0 ? 'Delete selected' : `Delete ${selected.size} selected`
    const all = objects.length + prefixes.length
    selectAll.checked = all > 0 && selected.size === all
    selectAll.indeterminate = selected.size > 0 && selected.size < all
  }
  const checkbox = (id: string, label: string): HTMLInputElement => {
    const box = h('input', { type: 'checkbox', 'aria-label': `Select ${label}`, 'data-select': id })
    box.checked = selected.has(id)
    box.addEventListener('change', () => {
      if (box.checked) selected.add(id)
      else selected.delete(id)
      syncSelection()
    })
    return box
  }

  function render (): void {
    for (const th of grid.querySelectorAll<HTMLTableCellElement>('th[data-sort]')) {
      th.setAttribute('aria-sort', th.dataset.sort === sortBy ? (ascending ? 'ascending' : 'descending') : 'none')
    }
    const sign = ascending ? 1 : -1
    const byName = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0
    const folders = [...prefixes].sort((a, b) => sortBy === 'name' ? sign * byName(a, b) : byName(a, b))
    const files = [...objects].sort((a, b) => sign * (sortBy === 'size'
      ? a.size - b.size
      : sortBy === 'date' ? Date.parse(a.last_modified) - Date.parse(b.last_modified) : byName(a.key, b.key)) || byName(a.key, b.key))
    body.replaceChildren(
      ...folders.map(p => {
        const name = p.slice(prefix.length)
        return h('tr', { class: 'folder', 'data-key': p },
          h('td', { class: 'check' }, checkbox(p, `folder ${name}`)),
          h('th', { scope: 'row', class: 'name' }, h('a', { href: href(['buckets', bucket], { prefix: p }) }, h('span', { class: 'icon folder-icon', 'aria-hidden': 'true' }), h('span', { class: 'label' }, name))),
          h('td', { class: 'num muted' }, 'Folder'), h('td', {}, '—'), h('td', {}))
      }),
      ...files.map(o => {
        const name = o.key.slice(prefix.length)
        return h('tr', { 'data-key': o.key },
          h('td', { class: 'check' }, checkbox(o.key, name)),
          h('th', { scope: 'row', class: 'name' }, h('a', { href: href(['buckets', bucket, 'object'], { key: o.key }) }, h('span', { class: 'icon file-icon', 'aria-hidden': 'true' }), h('span', { class: 'label' }, name))),
          h('td', { class: 'num', title: `${o.size} bytes` }, bytes(o.size)),
          h('td', {}, date(o.last_modified)),
          h('td', { class: 'row-actions' }, h('a', { href: downloadUrl(bucket, o.key), download: name.split('/').pop() ?? name, class: 'small', 'aria-label': `Download ${name}` }, 'Download')))
      }))
    if (folders.length + files.length === 0) {
      body.append(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, search !== ''
        ? `Nothing here starts with "${search}".`
        : prefix === '' ? 'This bucket is empty. Upload files with the buttons above or drop them here.' : 'This folder is empty: it exists once a file is uploaded into it.')))
    }
    more.hidden = next === null
    summary.textContent = `${folders.length} folder${folders.length === 1 ? '' : 's'}, ${files.length} object${files.length === 1 ? '' : 's'}${next === null ? '' : ' loaded; more below'}`
    syncSelection()
  }

  selectAll.addEventListener('change', () => {
    selected.clear()
    if (selectAll.checked) for (const id of [...prefixes, ...objects.map(o => o.key)]) selected.add(id)
    render()
  })
  more.addEventListener('click', () => {
    if (next === null) return
    more.disabled = true
    load(next).then(render, (err: unknown) => { listProblem.replaceChildren(failed(err)) }).finally(() => { more.disabled = false })
  })
  removeSelected.addEventListener('click', () => { removeChosen() })

  async function removeChosen (): Promise<void> {
    const chosenFolders = [...selected].filter(id => id.endsWith('/') && prefixes.includes(id))
    const chosenKeys = [...selected].filter(id => !chosenFolders.includes(id))
    const names = [...chosenFolders, ...chosenKeys]
    const shown = h('ul', { class: 'names' }, ...names.slice(0, 8).map(n => h('li', {}, n.slice(prefix.length))), names.length > 8 ? h('li', {}, `and ${names.length - 8} more`) : null)
    const what = [chosenKeys.length > 0 ? `${chosenKeys.length} object${chosenKeys.length === 1 ? '' : 's'}` : '', chosenFolders.length > 0 ? `${chosenFolders.length} folder${chosenFolders.length === 1 ? '' : 's'} with everything in them` : ''].filter(Boolean).join(' and ')
    const ok = await confirmDialog({
      title: `Delete ${what}?`,
      message: 'Deleted objects cannot be brought back (in a versioned bucket, their older versions stay).',
      confirmLabel: 'Delete',
      danger: true,
      extra: shown,
      action: async () => {
        const keys = [...chosenKeys]
        for (const folder of chosenFolders) keys.push(...await keysUnder(bucket, folder))
        await deleteKeys(bucket, keys)
      }
    })
    if (ok) {
      announce(`Deleted ${what}`)
      await reload()
    }
  }

  // Uploading: the buttons, and a drop anywhere on the listing.
  const filesInput = h('input', { type: 'file', multiple: true, hidden: true, id: 'upload-files' })
  const folderInput = h('input', { type: 'file', multiple: true, webkitdirectory: true, hidden: true, id: 'upload-folder' })
  const takeInput = (input: HTMLInputElement): void => {
    // webkitRelativePath is "folder/sub/file" for a folder chosen whole, "" for single files.
    uploads.add([...input.files ?? []].map(file => ({ file, key: prefix + (file.webkitRelativePath || file.name) })))
    input.value = ''
  }
  filesInput.addEventListener('change', () => { takeInput(filesInput) })
  folderInput.addEventListener('change', () => { takeInput(folderInput) })
  const uploadFiles = h('button', { type: 'button', class: 'primary', id: 'upload-files-button', onclick: () => { filesInput.click() } }, 'Upload files')
  const uploadFolder = h('button', { type: 'button', id: 'upload-folder-button', onclick: () => { folderInput.click() } }, 'Upload folder')
  const newFolder = h('button', { type: 'button', id: 'new-folder', onclick: () => { createFolder() } }, 'New folder')

  async function createFolder (): Promise<void> {
    const name = await promptDialog({
      title: 'New folder',
      label: 'Folder name',
      hint: `Inside ${bucket}/${prefix}. A folder is a key prefix: it appears once a file is uploaded into it.`,
      confirmLabel: 'Open folder',
      check: v => v.trim() === '' ? 'Give the folder a name.' : undefined
    })
    if (name !== null) go(['buckets', bucket], { prefix: `${prefix}${name.trim().replace(/^\/+|\/+$/g, '')}/` })
  }

  const zone = h('section', { class: 'dropzone', 'aria-label': `Objects in ${prefix === '' ? bucket : prefix}` },
    h('p', { class: 'drop-hint' }, 'Drop files or folders here to upload them into ', h('strong', { class: 'literal' }, `${bucket}/${prefix}`), '.'),
    grid, summary, listProblem, h('div', { class: 'actions' }, more))
  let depth = 0
  zone.addEventListener('dragenter', event => {
    if (event.dataTransfer?.types.includes('Files') !== true) return
    event.preventDefault()
    depth += 1
    zone.classList.add('dragging')
  })
  zone.addEventListener('dragover', event => {
    if (event.dataTransfer?.types.includes('Files') !== true) return
    event.preventDefault()
    event.dataTransfer.dropEffect = 'copy'
  })
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1)
    if (depth === 0) zone.classList.remove('dragging')
  })
  zone.addEventListener('drop', event => {
    event.preventDefault()
    depth = 0
    zone.classList.remove('dragging')
    if (event.dataTransfer === null) return
    droppedFiles(event.dataTransfer).then(files => {
      uploads.add(files.map(({ file, path }) => ({ file, key: prefix + path })))
    }, (err: unknown) => { announce(`Could not read what was dropped: ${String(err)}`, 'error') })
  })

  const searchInput = h('input', { type: 'search', id: 'object-search', value: search, autocomplete: 'off', spellcheck: 'false' })
  const searchForm = h('form', { class: 'search', role: 'search', novalidate: true },
    field('Find by name prefix', searchInput), h('div', { class: 'field submit' }, h('button', { type: 'submit' }, 'Search')))
  searchForm.addEventListener('submit', event => {
    event.preventDefault()
    go(['buckets', bucket], { prefix, search: searchInput.value })
  })

  view.replaceChildren(
    pageHeader(prefix === '' ? bucket : prefix.slice(0, -1).split('/').pop() ?? bucket, folderCrumbs(bucket, prefix), uploadFiles, uploadFolder, newFolder),
    bucketTabs(bucket, 'objects'),
    h('div', { class: 'toolbar' }, searchForm, h('div', { class: 'toolbar-actions' }, removeSelected,
      h('button', { type: 'button', onclick: () => { reload() } }, 'Refresh'))),
    filesInput, folderInput, uploads.element, zone)
  if (bucket === '') view.replaceChildren(errorBox('No bucket named in the address.'))
  body.append(h('tr', {}, h('td', { colspan: 5, class: 'loading' }, 'Loading…')))
  await reload()
}
