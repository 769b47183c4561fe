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

// A process that both imports and requires spacebox loads both builds: each must know the other's
// errors, or a store of one served by the other's adapter would answer them as 500s.
t.test('the ES and CommonJS builds recognise each other\'s errors', async t => {
  const script = `
    const cjs = require('./dist/cjs/index.js')
    const { createS3Server } = require('./dist/cjs/s3/index.js')
    const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3')
    import('./dist/index.js').then(async esm => {
      const box = await esm.Spacebox.open({ memory: true })
      await box.createBucket('bkt')
      const err = await box.headBucket('nope').catch(e => e)
      const key = await box.keys.create({ name: 'k', grants: [{ bucket: 'bkt', permission: 'read' }] })
      const server = await createS3Server(box)
      const s3 = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } })
      const status = await s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'missing' })).catch(e => e.name + ' ' + e.$metadata.httpStatusCode)
      console.log(JSON.stringify([cjs.isSpaceboxError(err, 'NoSuchBucket'), err instanceof cjs.SpaceboxError, new Error('x') instanceof cjs.SpaceboxError, status]))
      s3.destroy()
      await server.close()
      await box.close()
    })`
  const { code, output } = await run(['-e', script])
  t.equal(code, 0, output)
  // The last line: the SDK may warn on stderr first.
  t.same(JSON.parse(output.trim().split('\n').at(-1) ?? ''), [true, true, false, 'NoSuchKey 404'])
})
