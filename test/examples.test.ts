import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Run a documented example as a user would, against the built package (`spacebox/testing`). */
async function run (args: string[]): Promise<{ code: number | null, output: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, NODE_OPTIONS: '', TAP: '0' } })
    let output = ''
    child.stdout.on('data', (d: Buffer) => { output += d.toString() })
    child.stderr.on('data', (d: Buffer) => { output += d.toString() })
    child.on('error', reject)
    child.on('close', code => resolve({ code, output }))
  })
}

t.test('the built package is there (npm test builds it before the tests run)', async t => {
  t.ok(existsSync(`${root}dist/testing/index.js`), 'dist/testing/index.js')
})

t.test('the node:test example in README passes', async t => {
  const { code, output } = await run(['--test', '--test-reporter=tap', 'examples/testing-node-test.mjs'])
  t.equal(code, 0, output)
  t.match(output, /# pass 2/)
})

t.test('the tap example in README passes', async t => {
  const { code, output } = await run(['examples/testing-tap.mjs'])
  t.equal(code, 0, output)
  t.match(output, /# \{ total: 1, pass: 1 \}|ok 1 - listing shows what was uploaded/)
})
