// Fails the test command when line coverage of lib/ drops below the bar (tap itself only knows 100%).
import { readFileSync } from 'node:fs'

const MIN_LINES = 90
const summary = JSON.parse(readFileSync(new URL('../.tap/report/coverage-summary.json', import.meta.url), 'utf8'))
const lines = summary.total.lines.pct
if (lines < MIN_LINES) {
  console.error(`coverage gate: ${lines}% of lines covered, below ${MIN_LINES}%`)
  process.exit(1)
}
console.log(`coverage gate: ${lines}% of lines covered (minimum ${MIN_LINES}%)`)
