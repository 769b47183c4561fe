// Modal dialogs on the native <dialog>: showModal() makes the page behind inert and gives Escape;
// on top of that, Tab wraps inside the dialog (rather than leaving for the browser's toolbar) and
// focus goes back where it was when the dialog closes. An action given to a dialog runs inside it,
// so a refusal (a bucket that is not empty) is shown where the user is looking, and the dialog stays.
import { errorBox, h, uid } from './dom.js'

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

interface Frame {
  dialog: HTMLDialogElement
  body: HTMLDivElement
  actions: HTMLDivElement
  /** Resolves when the dialog has closed, with true if it closed by its action. */
  closed: Promise<boolean>
  close: (ok: boolean) => void
}

function frame (title: string, describe?: string): Frame {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
  const titleId = uid('dialog-title')
  const body = h('div', { class: 'dialog-body' })
  const actions = h('div', { class: 'dialog-actions' })
  const dialog = h('dialog', { 'aria-labelledby': titleId }, h('h2', { id: titleId }, title), body, actions)
  if (describe !== undefined) {
    const text = h('p', { id: uid('dialog-text') }, describe)
    body.append(text)
    dialog.setAttribute('aria-describedby', text.id)
  }
  let result = false
  let resolve: (ok: boolean) => void = () => {}
  const closed = new Promise<boolean>(_resolve => { resolve = _resolve })
  dialog.addEventListener('keydown', event => {
    if (event.key !== 'Tab') return
    const items = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(el => el.offsetParent !== null)
    const first = items[0]
    const last = items[items.length - 1]
    if (first === undefined || last === undefined) return
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault()
      last.focus()
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault()
      first.focus()
    }
  })
  dialog.addEventListener('close', () => {
    // Focus goes back to what opened the dialog, unless the user has moved on already.
    const moved = document.activeElement !== null && document.activeElement !== document.body && !dialog.contains(document.activeElement)
    dialog.remove()
    if (opener?.isConnected === true && !moved) opener.focus()
    resolve(result)
  })
  document.body.append(dialog)
  return {
    dialog,
    body,
    actions,
    closed,
    close: ok => {
      result = ok
      dialog.close()
    }
  }
}

export interface ConfirmOptions {
  title: string
  message: string
  confirmLabel: string
  /** A destructive action: the button is red. */
  danger?: boolean
  /** Typing this exactly enables the button (DigitalOcean's confirmation for deletes and regenerates). */
  typeToConfirm?: string
  /** Runs on confirm; an error is shown in the dialog, which stays open. */
  action?: () => Promise<void>
  /** More content under the message (e.g. the list of objects to delete). */
  extra?: Node
}

/** A confirmation. Resolves to true once confirmed (and its action succeeded), false if dismissed. */
export async function confirmDialog (options: ConfirmOptions): Promise<boolean> {
  const f = frame(options.title, options.message)
  if (options.extra !== undefined) f.body.append(options.extra)
  const ok = h('button', { type: 'submit', class: options.danger === true ? 'danger' : 'primary' }, options.confirmLabel)
  const cancel = h('button', { type: 'button', onclick: () => { f.close(false) } }, 'Cancel')
  const problem = h('div', { class: 'dialog-problem' })
  const form = h('form', { method: 'dialog', novalidate: true })
  let input: HTMLInputElement | undefined
  if (options.typeToConfirm !== undefined) {
    const expected = options.typeToConfirm
    input = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', id: uid('confirm-name'), 'data-confirm-name': '' })
    const label = h('label', { for: input.id }, 'Type ', h('strong', { class: 'literal' }, expected), ' to confirm')
    form.append(h('div', { class: 'field' }, label, input))
    ok.disabled = true
    input.addEventListener('input', () => { ok.disabled = input?.value !== expected })
  }
  form.append(problem)
  f.body.append(form)
  f.actions.append(cancel, ok)
  // The buttons sit outside the form for layout; they submit it by id.
  form.id = uid('confirm-form')
  ok.setAttribute('form', form.id)
  form.addEventListener('submit', event => {
    event.preventDefault()
    if (ok.disabled) return
    if (options.action === undefined) {
      f.close(true)
      return
    }
    ok.disabled = true
    ok.setAttribute('aria-busy', 'true')
    problem.replaceChildren()
    options.action().then(() => { f.close(true) }, (err: unknown) => {
      problem.replaceChildren(errorBox(err instanceof Error ? err.message : String(err)))
      ok.disabled = false
      ok.removeAttribute('aria-busy')
      // Disabling the button dropped the focus to the page: give it back inside the dialog.
      ok.focus()
    })
  })
  f.dialog.showModal()
  ;(input ?? cancel).focus()
  return await f.closed
}

export interface PromptOptions {
  title: string
  label: string
  value?: string
  hint?: string
  confirmLabel: string
  /** Returns a message when the value cannot be used. */
  check?: (value: string) => string | undefined
  action?: (value: string) => Promise<void>
}

/** Ask for one line of text. Resolves to it, or null if dismissed. */
export async function promptDialog (options: PromptOptions): Promise<string | null> {
  const f = frame(options.title)
  const input = h('input', { type: 'text', id: uid('prompt'), value: options.value ?? '', autocomplete: 'off', spellcheck: 'false' })
  const problem = h('div', { class: 'dialog-problem' })
  const form = h('form', { id: uid('prompt-form'), novalidate: true },
    h('div', { class: 'field' }, h('label', { for: input.id }, options.label), input, options.hint === undefined ? null : h('p', { class: 'hint' }, options.hint)),
    problem)
  const ok = h('button', { type: 'submit', class: 'primary', form: form.id }, options.confirmLabel)
  f.body.append(form)
  f.actions.append(h('button', { type: 'button', onclick: () => { f.close(false) } }, 'Cancel'), ok)
  let value: string | null = null
  form.addEventListener('submit', event => {
    event.preventDefault()
    const text = input.value
    const wrong = options.check?.(text)
    if (wrong !== undefined) {
      problem.replaceChildren(errorBox(wrong))
      input.focus()
      return
    }
    const finish = (): void => { value = text; f.close(true) }
    if (options.action === undefined) {
      finish()
      return
    }
    ok.disabled = true
    options.action(text).then(finish, (err: unknown) => {
      problem.replaceChildren(errorBox(err instanceof Error ? err.message : String(err)))
      ok.disabled = false
      input.focus()
    })
  })
  f.dialog.showModal()
  input.focus()
  input.select()
  return await f.closed ? value : null
}

/** Copy text to the clipboard, saying so; falls back to selecting it when the browser refuses. */
async function copy (text: string, source: HTMLInputElement, button: HTMLButtonElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text)
    button.textContent = 'Copied'
  } catch {
    source.focus()
    source.select()
    button.textContent = 'Selected: press Ctrl+C'
  }
  window.setTimeout(() => { button.textContent = 'Copy' }, 3000)
}

function secretField (label: string, value: string, id: string): HTMLDivElement {
  const input = h('input', { type: 'text', readonly: true, id, value, spellcheck: 'false', class: 'mono' })
  const button = h('button', { type: 'button', class: 'copy', 'aria-label': `Copy ${label.toLowerCase()}` }, 'Copy')
  button.addEventListener('click', () => { copy(value, input, button) })
  return h('div', { class: 'field' }, h('label', { for: id }, label), h('div', { class: 'copy-row' }, input, button))
}

/** The one time a secret is shown: after create and regenerate. */
export async function secretDialog (title: string, keyName: string, accessKey: string, secret: string): Promise<void> {
  const f = frame(title)
  f.dialog.classList.add('secret-dialog')
  f.body.append(
    h('p', {}, 'Key ', h('strong', { class: 'literal' }, keyName), ' is ready. Use these credentials in your S3 client.'),
    secretField('Access key', accessKey, 'secret-access-key'),
    secretField('Secret key', secret, 'secret-secret-key'),
    h('p', { class: 'warning', role: 'note' }, h('strong', {}, 'This secret is shown only once. '),
      'Copy it now: spacebox will not show it again. If it is lost, regenerate the key to get a new one.')
  )
  const done = h('button', { type: 'button', class: 'primary', onclick: () => { f.close(true) } }, 'I have copied the secret')
  f.actions.append(done)
  f.dialog.showModal()
  f.dialog.querySelector<HTMLButtonElement>('button.copy')?.focus()
  await f.closed
}
