// Sign-in with the admin token: typed into a password field and sent in a POST body, never put in
// a URL (where history, logs and the Referer would keep it). The server answers with the session
// cookie (HttpOnly, this page never reads it) and the CSRF token.
import { ApiError, post, setCsrf } from './api.js'
import { errorBox, field, h } from './dom.js'
import type { Session } from './types.js'

export function signInPage (view: HTMLElement, onSignedIn: (session: Session) => void): void {
  const token = h('input', { type: 'password', name: 'token', id: 'token', autocomplete: 'current-password', required: true, spellcheck: 'false' })
  const problem = h('div', { class: 'form-problem' })
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in')
  const form = h('form', { class: 'card sign-in', novalidate: true },
    h('h1', { tabindex: -1 }, 'Sign in to spacebox'),
    h('p', {}, 'Use the admin token that ', h('code', {}, 'spacebox serve'), ' printed when this store was made (', h('code', {}, 'SPACEBOX_ADMIN_TOKEN'), ').'),
    field('Admin token', token),
    problem,
    h('div', { class: 'actions' }, submit))
  form.addEventListener('submit', event => {
    event.preventDefault()
    problem.replaceChildren()
    if (token.value.trim() === '') {
      problem.append(errorBox('Enter the admin token.'))
      token.focus()
      return
    }
    submit.disabled = true
    post<Session>('session', { token: token.value.trim() }, { expect401: true }).then(session => {
      token.value = ''
      setCsrf(session.csrf)
      onSignedIn(session)
    }, (err: unknown) => {
      submit.disabled = false
      let message = err instanceof Error ? err.message : String(err)
      if (err instanceof ApiError && err.status === 401) message = 'That is not the admin token of this server.'
      if (err instanceof ApiError && err.status === 429) {
        message = `Too many failed sign-ins from this address. Try again in ${err.retryAfter ?? 60} seconds.`
      }
      problem.append(errorBox(message))
      token.focus()
      token.select()
    })
  })
  view.replaceChildren(form)
  token.focus()
}
