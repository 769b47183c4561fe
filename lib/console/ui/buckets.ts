// The buckets: list, create, delete. A refused name shows the server's own rule (its message says
// which rule the name breaks); a delete needs the bucket's name typed, and says plainly when the
// bucket still holds objects.
import { ApiError, del, get, post, seg } from './api.js'
import { confirmDialog } from './dialog.js'
import { announce, errorBox, field, h, table } from './dom.js'
import { bytes, count, date } from './format.js'
import { failed, loading, pageHeader } from './layout.js'
import { href } from './router.js'
import type { BucketSummary } from './types.js'

export async function bucketsPage (view: HTMLElement): Promise<void> {
  const list = h('div', { class: 'list' }, loading('buckets'))
  const reload = async (): Promise<void> => {
    try {
      const { buckets } = await get<{ buckets: BucketSummary[] }>('buckets')
      list.replaceChildren(buckets.length === 0
        ? h('p', { class: 'empty' }, 'No buckets yet. Create one above.')
        : table('Buckets', ['Name', 'Region', 'Objects', 'Size', 'Created', h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions'))],
          buckets.map(b => row(b, reload))))
    } catch (err) {
      list.replaceChildren(failed(err))
    }
  }
  view.replaceChildren(pageHeader('Buckets'), createForm(reload), list)
  await reload()
}

function row (b: BucketSummary, reload: () => Promise<void>): HTMLTableRowElement {
  const remove = h('button', { type: 'button', class: 'small danger-text' }, 'Delete')
  remove.setAttribute('aria-label', `Delete bucket ${b.name}`)
  remove.addEventListener('click', () => { deleteBucket(b.name, reload) })
  // Counted up to 10 000 objects: past that the figures are lower bounds, and say so.
  const plus = b.more ? '+' : ''
  return h('tr', { 'data-bucket': b.name },
    h('th', { scope: 'row' }, h('a', { href: href(['buckets', b.name]) }, b.name)),
    h('td', {}, b.region),
    h('td', { class: 'num' }, count(b.objects) + plus),
    h('td', { class: 'num', title: `${b.bytes} bytes` }, bytes(b.bytes) + plus),
    h('td', {}, date(b.created)),
    h('td', { class: 'row-actions' },
      h('a', { href: href(['buckets', b.name, 'settings']), class: 'small', 'aria-label': `Settings of ${b.name}` }, 'Settings'),
      h('a', { href: href(['buckets', b.name, 'access']), class: 'small', 'aria-label': `Who can reach ${b.name}` }, 'Access'),
      remove))
}

function createForm (reload: () => Promise<void>): HTMLFormElement {
  const name = h('input', { type: 'text', id: 'bucket-name', name: 'name', autocomplete: 'off', spellcheck: 'false', required: true, maxlength: 63 })
  const region = h('input', { type: 'text', id: 'bucket-region', name: 'region', autocomplete: 'off', spellcheck: 'false', placeholder: 'the server\'s region' })
  const problem = h('div', { class: 'form-problem', id: 'create-bucket-problem' })
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create bucket')
  const form = h('form', { class: 'card inline-form', 'aria-label': 'Create a bucket', novalidate: true },
    h('h2', { class: 'small' }, 'Create a bucket'),
    h('div', { class: 'row' },
      field('Name', name, '3 to 63 characters: lowercase letters, digits, dots and hyphens.'),
      field('Region (optional)', region),
      h('div', { class: 'field submit' }, submit)),
    problem)
  form.addEventListener('submit', event => {
    event.preventDefault()
    problem.replaceChildren()
    const body: { name: string, region?: string } = { name: name.value.trim() }
    if (region.value.trim() !== '') body.region = region.value.trim()
    submit.disabled = true
    post<{ bucket: { name: string } }>('buckets', body).then(async ({ bucket }) => {
      name.value = ''
      announce(`Bucket ${bucket.name} created`)
      await reload()
    }, (err: unknown) => {
      // The server's message names the rule a refused name breaks: show it as it is.
      const message = err instanceof ApiError ? `${body.name === '' ? 'A bucket needs a name' : `"${body.name}" cannot be used`}: ${err.message}` : String(err)
      problem.append(errorBox(message))
      name.setAttribute('aria-invalid', 'true')
      name.focus()
    }).finally(() => { submit.disabled = false })
  })
  name.addEventListener('input', () => { name.removeAttribute('aria-invalid') })
  return form
}

async function deleteBucket (name: string, reload: () => Promise<void>): Promise<void> {
  const deleted = await confirmDialog({
    title: `Delete bucket ${name}?`,
    message: 'The bucket and its settings are deleted for good. Only an empty bucket can be deleted.',
    confirmLabel: 'Delete bucket',
    danger: true,
    typeToConfirm: name,
    action: async () => {
      try {
        await del(`buckets/${seg(name)}`)
      } catch (err) {
        if (err instanceof ApiError && err.id === 'BucketNotEmpty') {
          throw new Error(`Bucket ${name} is not empty. Delete its objects (and any old versions of them) first, then delete the bucket.`)
        }
        throw err
      }
    }
  })
  if (deleted) {
    announce(`Bucket ${name} deleted`)
    await reload()
  }
}
