/** Bytes in IEC units, as the README and the bench give them. */
export function size (bytes: number | undefined): string {
  if (bytes === undefined) return 'unknown'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit] as string}`
}

/** Rows under a header, in columns as wide as their widest cell; `(none)` for no rows. */
export function table (head: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)'
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  return [head, ...rows].map(r => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')
}
