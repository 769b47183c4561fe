// The grants of a key, edited as rows: a bucket, a permission, an optional key prefix, and for
// read-write whether it may upload public files. Full access is a separate choice, since it is the
// grant { bucket: "", permission: "fullaccess" } alone and cannot be mixed with others.
import { field, h, uid } from './dom.js'
import type { Grant } from './types.js'

export interface GrantsEditor {
  element: HTMLElement
  /** The grants as the keys API takes them, or a message saying what is missing. */
  value: () => Grant[] | string
}

export function grantsEditor (buckets: string[], initial: Grant[] = []): GrantsEditor {
  const full = h('input', { type: 'checkbox', id: uid('full-access') })
  full.checked = initial.some(g => g.permission === 'fullaccess')
  const rows = h('div', { class: 'grant-rows' })
  const add = h('button', { type: 'button', class: 'small' }, 'Add a bucket')
  const scoped = h('fieldset', { class: 'grants' }, h('legend', {}, 'Buckets this key can reach'), rows, h('div', { class: 'actions' }, add))
  const readers: Array<() => Grant | string | null> = []

  const addRow = (grant?: Grant): void => {
    const names = grant !== undefined && !buckets.includes(grant.bucket) ? [...buckets, grant.bucket] : buckets
    const bucket = h('select', { 'data-grant': 'bucket' }, h('option', { value: '' }, 'Choose a bucket'), ...names.map(n => h('option', { value: n, selected: n === grant?.bucket }, n)))
    const permission = h('select', { 'data-grant': 'permission' },
      h('option', { value: 'read', selected: grant?.permission !== 'readwrite' }, 'Read'),
      h('option', { value: 'readwrite', selected: grant?.permission === 'readwrite' }, 'Read and write'))
    const prefix = h('input', { type: 'text', 'data-grant': 'prefix', value: grant?.prefix ?? '', autocomplete: 'off', spellcheck: 'false', placeholder: 'whole bucket' })
    const publish = h('input', { type: 'checkbox', 'data-grant': 'publish', id: uid('publish') })
    publish.checked = grant?.publish === true
    const publishField = h('div', { class: 'field check' }, publish, h('label', { for: publish.id }, 'May upload public files'))
    const syncPublish = (): void => { publishField.hidden = permission.value !== 'readwrite' }
    permission.addEventListener('change', syncPublish)
    syncPublish()
    const remove = h('button', { type: 'button', class: 'small danger-text' }, 'Remove')
    const row = h('div', { class: 'grant-row' }, field('Bucket', bucket), field('Permission', permission), field('Only keys starting with (optional)', prefix), publishField, h('div', { class: 'field submit' }, remove))
    const read = (): Grant | string | null => {
      if (!row.isConnected) return null
      if (bucket.value === '') return 'Choose a bucket in every row, or remove the row.'
      const out: Grant = { bucket: bucket.value, permission: permission.value === 'readwrite' ? 'readwrite' : 'read' }
      if (prefix.value !== '') out.prefix = prefix.value
      if (out.permission === 'readwrite' && publish.checked) out.publish = true
      return out
    }
    remove.setAttribute('aria-label', 'Remove this bucket')
    remove.addEventListener('click', () => {
      row.remove()
      add.focus()
    })
    readers.push(read)
    rows.querySelector('p.muted')?.remove()
    rows.append(row)
  }
  add.addEventListener('click', () => {
    addRow()
    rows.lastElementChild?.querySelector('select')?.focus()
  })
  for (const grant of initial) if (grant.permission !== 'fullaccess') addRow(grant)
  if (buckets.length === 0 && initial.length === 0) rows.append(h('p', { class: 'muted' }, 'There is no bucket yet: a key with no grant reaches nothing until it is given one.'))
  const sync = (): void => { scoped.hidden = full.checked }
  full.addEventListener('change', sync)
  sync()

  const element = h('div', { class: 'grants-editor' },
    h('div', { class: 'field check' }, full, h('label', { for: full.id }, 'Full access: every bucket, now and future, including creating and deleting buckets')),
    scoped)
  return {
    element,
    value: () => {
      if (full.checked) return [{ bucket: '', permission: 'fullaccess' }]
      const out: Grant[] = []
      for (const read of readers) {
        const grant = read()
        if (typeof grant === 'string') return grant
        if (grant !== null) out.push(grant)
      }
      return out
    }
  }
}
