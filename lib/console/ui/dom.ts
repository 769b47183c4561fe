// Building the page. Everything a user or a client chose (bucket names, object keys, metadata, key
// names, server messages) reaches the DOM as text nodes or attribute values: this module has no way
// to parse a string as HTML, so no caller can by accident.

type Child = Node | string | number | null | undefined | false
type Handler = (event: never) => unknown
type Value = string | number | boolean | null | undefined | Handler
export type Attrs = Record<string, Value>

function apply (el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue
    if (typeof value === 'function') {
      el.addEventListener(name.slice(2), value as EventListener)
    } else if (name === 'class') {
      el.setAttribute('class', String(value))
    } else {
      el.setAttribute(name, value === true ? '' : String(value))
    }
  }
}

function append (el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    el.append(typeof child === 'number' ? String(child) : child)
  }
}

/** An HTML element with attributes (`on*` functions become listeners) and text or element children. */
export function h<K extends keyof HTMLElementTagNameMap> (tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  apply(el, attrs)
  append(el, children)
  return el
}

/** The same for SVG, which needs its namespace. */
export function svg<K extends keyof SVGElementTagNameMap> (tag: K, attrs: Attrs = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag)
  apply(el, attrs)
  append(el, children)
  return el
}

/** Replace an element's children. */
export function fill (el: Element, ...children: Child[]): void {
  el.replaceChildren()
  append(el, children)
}

let ids = 0
/** A fresh id for pairing a <label for> with its control. */
export function uid (prefix: string): string {
  ids += 1
  return `${prefix}-${ids}`
}

/** A labelled control: <div class=field><label for>…</label>control<p hint></p></div>. */
export function field (label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  if (control.id === '') control.id = uid('field')
  const wrap = h('div', { class: 'field' }, h('label', { for: control.id }, label), control)
  if (hint !== undefined) {
    const hintEl = h('p', { class: 'hint', id: `${control.id}-hint` }, hint)
    control.setAttribute('aria-describedby', hintEl.id)
    wrap.append(hintEl)
  }
  return wrap
}

/** A table whose rows scroll sideways inside its own box on a narrow screen, never the page. */
export function table (caption: string, headers: Array<string | HTMLElement>, rows: HTMLTableRowElement[], captionHidden = true): HTMLDivElement {
  const head = h('tr', {}, ...headers.map(x => typeof x === 'string' ? h('th', { scope: 'col' }, x) : x))
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h('table', {}, h('caption', { class: captionHidden ? 'visually-hidden' : null }, caption), h('thead', {}, head), h('tbody', {}, ...rows)))
}

/** An error box next to what failed; role=alert reads it out at once. */
export function errorBox (message: string): HTMLParagraphElement {
  return h('p', { class: 'error', role: 'alert' }, message)
}

const live = (): HTMLElement | null => document.getElementById('status')
let clearTimer: number | undefined

/** Say something in the page's aria-live region (and show it), e.g. "Bucket photos created". */
export function announce (message: string, kind: 'ok' | 'error' = 'ok'): void {
  const el = live()
  if (el === null) return
  // The region stays in the page (an empty one is invisible by CSS): a region shown only when it
  // has something to say is not read out by every screen reader.
  el.textContent = message
  el.dataset.kind = kind
  window.clearTimeout(clearTimer)
  clearTimer = window.setTimeout(() => { el.textContent = '' }, kind === 'error' ? 12_000 : 6_000)
}

/** Disable a button while an action runs, so a double click does not send it twice. */
export async function busy<T> (button: HTMLButtonElement, work: () => Promise<T>): Promise<T> {
  button.disabled = true
  button.setAttribute('aria-busy', 'true')
  try {
    return await work()
  } finally {
    button.disabled = false
    button.removeAttribute('aria-busy')
  }
}
