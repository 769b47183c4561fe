#!/usr/bin/env node
import { run } from './run.js'

// The first SIGINT or SIGTERM stops `serve` gracefully (and cuts a `keys` request short); a
// second one finds no handler and kills the process at once, as usual.
const stop = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { stop.abort() })
process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: stop.signal })
