// Harness: tinybench — maintained (vitest's engine), no dependencies, async tasks, and a bounded-concurrency pump for the "16 in flight" cases.
/**
 * Runs the benchmark scenarios: every `bench/<name>.bench.ts` exporting `scenarios`.
 *
 *   npm run bench                                 the quick set
 *   npm run bench -- --full                       every scenario, longer and more often
 *   npm run bench -- --json bench/results.json    also write the results as JSON
 *   npm run bench -- --only "get 1 KiB"           only scenarios whose name holds the text
 *
 * Every figure that matters is a ratio of spacebox to its baseline (the raw database it runs on,
 * or s3rver for the HTTP scenarios; same bytes, same run), measured in interleaved pairs and taken
 * as the median over repetitions.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { arch, cpus, platform, release, tmpdir, totalmem } from 'node:os'
import { dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Check, Figures, Pace, Scenario } from './scenario.js'

const PACE: Record<'quick' | 'full', Pace> = {
  quick: { reps: 5, sampleMs: 250, warmupMs: 50, longReps: 3 },
  full: { reps: 9, sampleMs: 1000, warmupMs: 200, longReps: 5 }
}

interface Args { full: boolean, json: string | undefined, only: string | undefined }

function parseArgs (argv: string[]): Args {
  const args: Args = { full: false, json: undefined, only: undefined }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--full') args.full = true
    else if (arg === '--json' || arg === '--only') {
      const value = argv[++i]
      if (value === undefined) throw new Error(`${arg} needs a value`)
      if (arg === '--json') args.json = value
      else args.only = value
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npm run bench [-- [--full] [--json FILE] [--only TEXT]]\n')
      process.exit(0)
    } else {
      throw new Error(`unknown argument ${String(arg)} (try --help)`)
    }
  }
  return args
}

function machine (): { node: string, cpu: string, cores: number, os: string, memory: string, libraries: string } {
  const version = (name: string): string => {
    try {
      // Walk up from the package's entry point to its own package.json (not every package exports
      // it; nested ones, as dist-cjs/package.json, name no package).
      for (let dir = dirname(fileURLToPath(import.meta.resolve(name))); dir !== dirname(dir); dir = dirname(dir)) {
        const file = join(dir, 'package.json')
        if (!existsSync(file)) continue
        const found = JSON.parse(readFileSync(file, 'utf8')) as { name?: string, version: string }
        if (found.name === name) return found.version
      }
      return '?'
    } catch {
      return '?'
    }
  }
  return {
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    os: `${platform()} ${release()} ${arch()}`,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    libraries: `level ${version('level')} (classic-level ${version('classic-level')}), memory-level ${version('memory-level')}, tinybench ${version('tinybench')}; ` +
      `HTTP: s3rver ${version('s3rver')}, undici ${version('undici')}, @aws-sdk/client-s3 ${version('@aws-sdk/client-s3')}`
  }
}

/**
 * The scenario modules next to this file. Compiled to dist-bench/, a module is used only while its
 * TypeScript source still exists, so a deleted scenario does not linger as stale output.
 */
async function discover (): Promise<Scenario[]> {
  const file = fileURLToPath(import.meta.url)
  const here = dirname(file)
  const ext = extname(file)
  const sources = resolve(here, '..', '..', 'bench')
  const compiled = ext === '.js' && existsSync(join(sources, 'run.ts'))
  const names = (await readdir(here)).filter(name => name.endsWith(`.bench${ext}`)).sort()
    .filter(name => !compiled || existsSync(join(sources, name.slice(0, -ext.length) + '.ts')))
  const all: Scenario[] = []
  for (const name of names) {
    const module = await import(pathToFileURL(join(here, name)).href) as { scenarios?: Scenario[] }
    if (!Array.isArray(module.scenarios)) throw new Error(`${name} does not export scenarios: Scenario[]`)
    all.push(...module.scenarios)
  }
  const seen = new Set<string>()
  for (const s of all) {
    if (seen.has(s.name)) throw new Error(`two scenarios are named ${s.name}`)
    seen.add(s.name)
  }
  return all
}

interface Outcome { scenario: Scenario, figures?: Figures, error?: string }

const format = (value: number, unit: string): string =>
  unit === 'ops/s' ? Math.round(value).toLocaleString('en-US') : value.toFixed(1)

function goalText (o: Outcome): string {
  const { minRatio } = o.scenario
  const checks = o.figures?.checks ?? []
  const parts: string[] = []
  if (minRatio !== undefined) parts.push(`≥ ${minRatio} ${o.figures === undefined ? '?' : o.figures.ratio >= minRatio ? 'met' : 'MISSED'}`)
  for (const c of checks) parts.push(`${c.goal}: ${c.met ? 'met' : 'MISSED'}`)
  return parts.join('; ')
}

const cpuText = (value: number): string => value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1)

/**
 * The results as Markdown: one table, and a second one for the scenarios that measured a server's
 * CPU time (HTTP), with those figures in columns of their own.
 */
function table (outcomes: Outcome[]): string {
  const withCpu = outcomes.filter(o => o.figures?.serverCpu !== undefined)
  const others = outcomes.filter(o => !withCpu.includes(o))
  return [rows(others, false), rows(withCpu, true)].filter(t => t.length > 2).map(t => t.join('\n')).join('\n\n')
}

function rows (outcomes: Outcome[], cpu: boolean): string[] {
  const cpuHead = cpu ? ' Server CPU, spacebox | Server CPU, baseline | CPU ratio |' : ''
  const rows = [
    `| Scenario | Unit | spacebox | Baseline | Baseline figure | Ratio | Ratio range |${cpuHead} Goal |`,
    `|---|---|---:|---|---:|---:|---|${cpu ? '---:|---:|---:|' : ''}---|`
  ]
  for (const o of outcomes) {
    const f = o.figures
    const { name, unit } = o.scenario
    if (f === undefined) {
      rows.push(`| ${name} | ${unit} | failed | | | | |${cpu ? ' | | |' : ''} ${o.error ?? ''} |`)
      continue
    }
    const range = `${Math.min(...f.ratios).toFixed(2)}–${Math.max(...f.ratios).toFixed(2)}`
    const c = f.serverCpu
    const cpuCells = c === undefined ? '' : ` ${cpuText(c.spacebox)} ${c.unit} | ${cpuText(c.baseline)} ${c.unit} | ${c.ratio.toFixed(3)} |`
    rows.push(`| ${name} | ${unit} | ${format(f.spacebox, unit)} | ${f.baselineName} | ${format(f.baseline, unit)} | ${f.ratio.toFixed(2)} | ${range} |${cpuCells} ${goalText(o)} |`)
  }
  return rows
}

function goals (outcomes: Outcome[]): string[] {
  const lines: string[] = []
  for (const o of outcomes) {
    const { minRatio, name } = o.scenario
    if (minRatio !== undefined) {
      const met = o.figures !== undefined && o.figures.ratio >= minRatio
      lines.push(`- [${met ? 'met' : 'MISSED'}] ${name}: ratio ${o.figures?.ratio.toFixed(2) ?? 'n/a'} (goal ≥ ${minRatio})`)
    }
    for (const c of o.figures?.checks ?? [] as Check[]) lines.push(`- [${c.met ? 'met' : 'MISSED'}] ${name}: ${c.goal} (${c.value})`)
  }
  return lines
}

async function main (): Promise<number> {
  const args = parseArgs(process.argv.slice(2))
  const set = args.full ? 'full' : 'quick'
  const pace = PACE[set]
  const m = machine()
  const out = (line: string): void => { process.stdout.write(line + '\n') }
  out(`spacebox benchmarks, ${set} set`)
  out(`Node ${m.node} · ${m.cpu} · ${m.cores} cores · ${m.memory} · ${m.os}`)
  out(`${m.libraries}`)
  out(`pairs interleaved spacebox/baseline × ${pace.reps} (${pace.sampleMs} ms each; streamed: ${pace.longReps}); figures are medians, ratio = spacebox / baseline (higher is better)`)
  out('')

  const scenarios = (await discover())
    .filter(s => args.full || s.quick)
    .filter(s => args.only === undefined || s.name.includes(args.only))
  const root = await mkdtemp(join(tmpdir(), 'spacebox-bench-'))
  const shared = join(root, 'shared')
  await mkdir(shared)
  const cleanup = (): void => { rmSync(root, { recursive: true, force: true }) }
  process.once('SIGINT', () => { cleanup(); process.exit(130) })
  const outcomes: Outcome[] = []
  const started = performance.now()
  try {
    for (const scenario of scenarios) {
      const tmp = await mkdtemp(join(root, 'scenario-'))
      const t0 = performance.now()
      try {
        const f = await scenario.run({ full: args.full, pace, tmp, shared, log: out })
        outcomes.push({ scenario, figures: f })
        const seconds = ((performance.now() - t0) / 1000).toFixed(1)
        out(`${scenario.name}: spacebox ${format(f.spacebox, scenario.unit)} ${scenario.unit}, ${f.baselineName} ${format(f.baseline, scenario.unit)} ${scenario.unit}, ratio ${f.ratio.toFixed(2)} [${f.ratios.map(r => r.toFixed(2)).join(' ')}] (${seconds} s)`)
        if (f.serverCpu !== undefined) {
          const c = f.serverCpu
          out(`    server CPU: spacebox ${cpuText(c.spacebox)} ${c.unit}, ${f.baselineName} ${cpuText(c.baseline)} ${c.unit}, ratio ${c.ratio.toFixed(3)}`)
        }
        if (f.notes !== undefined) out(`    notes: ${Object.entries(f.notes).map(([k, v]) => `${k} ${Number.isInteger(v) || Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(4)}`).join(', ')}`)
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        outcomes.push({ scenario, error: message })
        out(`${scenario.name}: FAILED ${message}`)
      } finally {
        await rm(tmp, { recursive: true, force: true })
      }
    }
  } finally {
    cleanup()
  }

  out('')
  out(table(outcomes))
  out('')
  out('Goals')
  for (const line of goals(outcomes)) out(line)
  out('')
  out(`${outcomes.length} scenario(s) in ${((performance.now() - started) / 1000).toFixed(0)} s`)

  if (args.json !== undefined) {
    const json = {
      node: m.node,
      cpu: m.cpu,
      cores: m.cores,
      os: m.os,
      date: new Date().toISOString(),
      set,
      scenarios: outcomes.map(o => ({
        name: o.scenario.name,
        unit: o.scenario.unit,
        ...(o.figures === undefined
          ? { error: o.error }
          : {
              spacebox: o.figures.spacebox,
              baseline: o.figures.baseline,
              baselineName: o.figures.baselineName,
              ratio: o.figures.ratio,
              ratios: o.figures.ratios,
              ...(o.scenario.minRatio === undefined ? {} : { minRatio: o.scenario.minRatio, met: o.figures.ratio >= o.scenario.minRatio }),
              ...(o.figures.serverCpu === undefined ? {} : { serverCpu: o.figures.serverCpu }),
              ...(o.figures.checks === undefined ? {} : { checks: o.figures.checks }),
              ...(o.figures.notes === undefined ? {} : { notes: o.figures.notes })
            })
      }))
    }
    await mkdir(dirname(resolve(args.json)), { recursive: true })
    await writeFile(args.json, JSON.stringify(json, null, 2) + '\n')
    out(`wrote ${args.json}`)
  }
  return outcomes.some(o => o.error !== undefined) ? 1 : 0
}

process.exitCode = await main()
