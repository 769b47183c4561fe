/**
 * Mirror throughput between two local spacebox servers (each a child process on a store on disk):
 * spacebox's own mirror (the s3Endpoint client, in this process) against `rclone sync` (Debian's
 * rclone, run as a process) on the same bytes in the same run, each into a fresh destination
 * store. Two populations: 1,000 objects of 4 KiB (per-object cost), one object of 1 GiB (a
 * stream). Skipped, with a message, where rclone is not installed (.ci/run installs it).
 */
import { execFile, execFileSync } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { mirror } from '../lib/index.js'
import { s3Endpoint } from '../lib/s3/index.js'
import { type Figures, type RunOptions, type Scenario, figures } from './scenario.js'
import { type Server, startServer } from './http-server.js'
import { BUCKET } from './stores.js'

const run = promisify(execFile)
const MiB = 1024 * 1024

function rclonePath (): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v rclone'], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

function remote (name: string, server: Server): Record<string, string> {
  const prefix = `RCLONE_CONFIG_${name}_`
  return {
    [`${prefix}TYPE`]: 's3',
    [`${prefix}PROVIDER`]: 'Other',
    [`${prefix}ENDPOINT`]: server.url,
    [`${prefix}FORCE_PATH_STYLE`]: 'true',
    [`${prefix}REGION`]: 'us-east-1',
    [`${prefix}ACCESS_KEY_ID`]: server.credentials.accessKeyId,
    [`${prefix}SECRET_ACCESS_KEY`]: server.credentials.secretAccessKey
  }
}

/** One copy of the source's bucket into a fresh destination server: its wall time in ms. */
async function timed (side: 'spacebox' | 'rclone', source: Server, tmp: string, rep: number, rclone: string, concurrency: number): Promise<number> {
  const dir = join(tmp, `${side}-${rep}`)
  await mkdir(dir, { recursive: true })
  const target = await startServer('spacebox', dir)
  try {
    const started = process.hrtime.bigint()
    if (side === 'spacebox') {
      const out = await mirror(s3Endpoint({ endpoint: source.url, ...source.credentials }), s3Endpoint({ endpoint: target.url, ...target.credentials }),
        { bucket: BUCKET, targetBucket: 'copy', concurrency })
      if (out.failed.length > 0) throw new Error(`mirror failed: ${JSON.stringify(out.failed[0])}`)
    } else {
      const config = join(tmp, 'rclone.conf')
      await writeFile(config, '')
      // rclone will not start while AWS_CA_BUNDLE is set (it cannot apply it to its transport).
      const { AWS_CA_BUNDLE: _, ...env } = process.env
      await run(rclone, ['--config', config, 'sync', `SRC:${BUCKET}`, 'DST:copy', '--transfers', String(concurrency), '--checkers', String(concurrency * 2), '--retries', '1'], {
        env: { ...env, ...remote('SRC', source), ...remote('DST', target) },
        timeout: 10 * 60_000
      })
    }
    return Number(process.hrtime.bigint() - started) / 1e6
  } finally {
    await target.close()
    await rm(dir, { recursive: true, force: true })
  }
}

function scenario (name: string, count: number, size: number, quick: boolean, unit: 'objects/s' | 'MiB/s'): Scenario {
  return {
    name,
    unit,
    quick,
    run: async (options: RunOptions): Promise<Figures> => {
      const rclone = rclonePath()
      if (rclone === undefined) throw new Error('rclone is not installed here (apt-get install rclone); .ci/run installs it')
      const sourceDir = join(options.tmp, 'source')
      await mkdir(sourceDir)
      const source = await startServer('spacebox', sourceDir)
      try {
        await source.fill(count, size)
        const ours: number[] = []
        const theirs: number[] = []
        const per = (ms: number): number => unit === 'MiB/s' ? count * size / MiB / (ms / 1000) : count / (ms / 1000)
        for (let rep = 0; rep < options.pace.longReps; rep++) {
          // Interleaved, so that a noisy moment falls on both sides alike.
          ours.push(per(await timed('spacebox', source, options.tmp, rep, rclone, 4)))
          theirs.push(per(await timed('rclone', source, options.tmp, rep, rclone, 4)))
          options.log(`    rep ${rep + 1}: spacebox ${(ours.at(-1) as number).toFixed(1)} ${unit}, rclone sync ${(theirs.at(-1) as number).toFixed(1)} ${unit}`)
        }
        return figures(ours, theirs, `rclone sync ${execFileSync(rclone, ['version'], { encoding: 'utf8' }).split('\n')[0]?.split(' ')[1] ?? ''}`)
      } finally {
        await source.close()
      }
    }
  }
}

export const scenarios: Scenario[] = [
  scenario('mirror 1,000 × 4 KiB between servers', 1000, 4096, true, 'objects/s'),
  scenario('mirror 1 GiB between servers', 1, 1024 * MiB, false, 'MiB/s')
]
