// A key's requests over the last 7 days, one bar per hour, drawn as SVG by hand (no chart library):
// the server sends only the hours that had requests, so the empty hours are filled in here. The
// same figures are offered as a table for screen readers and for exact numbers.
import { bytes, count } from './format.js'
import { h, svg } from './dom.js'
import type { HourUsage } from './types.js'

const HOUR = 3600_000
const HOURS = 7 * 24
const WIDTH = 720
const HEIGHT = 160
const AXIS = 22

/** The hour a timestamp falls in, as epoch milliseconds. */
function hourOf (ms: number): number {
  return Math.floor(ms / HOUR) * HOUR
}

export function usageChart (history: HourUsage[] | undefined, now = Date.now()): HTMLElement {
  if (history === undefined) return h('p', { class: 'muted' }, 'This server keeps no hourly history of the key\'s use.')
  const end = hourOf(now)
  const start = end - (HOURS - 1) * HOUR
  const byHour = new Map<number, HourUsage>()
  for (const entry of history) {
    const at = hourOf(new Date(entry.hour).getTime())
    if (at >= start && at <= end) byHour.set(at, entry)
  }
  if (byHour.size === 0) return h('p', { class: 'muted' }, 'No requests in the last 7 days.')

  const peak = Math.max(...[...byHour.values()].map(e => e.requests), 1)
  const total = [...byHour.values()].reduce((sum, e) => sum + e.requests, 0)
  const slot = WIDTH / HOURS
  const plot = HEIGHT - AXIS
  const graph = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'chart',
    role: 'img',
    'aria-label': `${count(total)} requests in the last 7 days; the busiest hour had ${count(peak)}.`
  })
  graph.append(svg('line', { x1: 0, x2: WIDTH, y1: plot, y2: plot, class: 'chart-axis' }))
  for (let day = 0; day <= 7; day++) {
    // A tick at each local midnight, labelled with the weekday that starts there.
    const midnight = new Date(start + day * 24 * HOUR)
    midnight.setHours(24, 0, 0, 0)
    const x = ((midnight.getTime() - start) / HOUR) * slot
    if (x < 0 || x > WIDTH - 30) continue
    graph.append(svg('line', { x1: x, x2: x, y1: 0, y2: plot, class: 'chart-grid' }))
    graph.append(svg('text', { x: x + 3, y: HEIGHT - 6, class: 'chart-label' }, midnight.toLocaleDateString(undefined, { weekday: 'short' })))
  }
  for (const [at, entry] of byHour) {
    const height = Math.max(1, (entry.requests / peak) * (plot - 8))
    const x = ((at - start) / HOUR) * slot
    const bar = svg('rect', { x: x + 0.5, y: plot - height, width: Math.max(1, slot - 1), height, class: 'chart-bar' })
    bar.append(svg('title', {}, `${new Date(at).toLocaleString()}: ${count(entry.requests)} requests, ${bytes(entry.bytes_in)} in, ${bytes(entry.bytes_out)} out`))
    graph.append(bar)
  }
  graph.append(svg('text', { x: 4, y: 12, class: 'chart-label' }, `peak ${count(peak)}/h`))

  const rows = [...byHour.entries()].sort((a, b) => b[0] - a[0]).map(([at, e]) => h('tr', {},
    h('td', {}, new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })),
    h('td', { class: 'num' }, count(e.requests)), h('td', { class: 'num' }, bytes(e.bytes_in)), h('td', { class: 'num' }, bytes(e.bytes_out))))
  const details = h('details', {}, h('summary', {}, 'Hours with requests, as a table'),
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Hour'), h('th', { scope: 'col' }, 'Requests'), h('th', { scope: 'col' }, 'Bytes in'), h('th', { scope: 'col' }, 'Bytes out'))),
    h('tbody', {}, ...rows))))
  // Scrolls sideways inside its box on a phone rather than shrinking its labels out of sight.
  const scroll = h('div', { class: 'chart-scroll' }, graph)
  // On a narrow screen, start at the right end: the latest hours are the ones people look for.
  requestAnimationFrame(() => { scroll.scrollLeft = scroll.scrollWidth })
  return h('figure', { class: 'chart-figure' }, scroll, h('figcaption', {}, `Requests per hour, last 7 days (${count(total)} in all)`), details)
}
