import t from 'tap'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { Spacebox } from '../lib/index.js'
import { run } from '../lib/cli/run.js'
import { formatGrant, parseGrant } from '../lib/cli/grants.js'
import { tempDir } from './helpers.js'

type Tap = { teardown: (fn: () => unknown) => void }

/** One `spacebox` run in this process, its output collected; `stop()` is what SIGINT does in main.ts. */
interface Cli {
  code: Promise<number>
  out: () => string
  err: () => string
  /** Wait until stdout matches (or the command ends first: then fail). */
  until: (pattern: RegExp) => Promise<RegExpExecArray>
  stop: () => Promise<number>
}

function cli (argv: string[], env: Record<string, string> = {}): Cli {
  let out = ''
  let err = ''
  let done = false
  const stop = new AbortController()
  const code = run(argv, { stdout: { write: s => { out += s } }, stderr: { write: s => { err += s } }, env, signal: stop.signal })
  code.then(() => { done = true }, () => { done = true })
  return {
    code,
    out: () => out,
    err: () => err,
    async until (pattern) {
      for (let waited = 0; waited < 10_000; waited += 10) {
        const match = pattern.exec(out)
        if (match !== null) return match
        if (done) throw new Error(`spacebox ${argv.join(' ')} ended (${await code}) before printing ${String(pattern)}: ${out}${err}`)
        await sleep(10)
      }
      throw new Error(`timed out waiting for ${String(pattern)}`)
    },
    async stop () {
      stop.abort()
      return await code
    }
  }
}

/** A server started with `spacebox serve`, stopped at the end of the test. */
async function served (t: Tap, argv: string[]): Promise<{ cli: Cli, url: string }> {
  const server = cli(['serve', '--port', '0', ...argv])
  t.teardown(async () => { await server.stop() })
  const [, url = ''] = await server.until(/serving (http:\/\/\S+)/)
  return { cli: server, url }
}

async function keys (url: string, token: string, ...argv: string[]): Promise<{ code: number, out: string, err: string }> {
  const command = cli(['keys', ...argv, '--endpoint', url], { SPACEBOX_ADMIN_TOKEN: token })
  return { code: await command.code, out: command.out(), err: command.err() }
}

const TOKEN = /SPACEBOX_ADMIN_TOKEN=(sbx_[A-Za-z0-9_-]{43})\n/
const CREDENTIALS = /AWS_ACCESS_KEY_ID=(\S+)\n\s+export AWS_SECRET_ACCESS_KEY=(\S+)\n/

t.test('help, and bad arguments exit 2 with the usage on stderr', async t => {
  for (const argv of [['help'], ['--help'], ['-h'], ['serve', '--help'], ['keys', 'create', '--help']]) {
    const command = cli(argv)
    t.equal(await command.code, 0, argv.join(' '))
    t.match(command.out(), /^Usage:\n {2}spacebox serve/)
    t.equal(command.err(), '')
  }
  const env = { SPACEBOX_ADMIN_TOKEN: 'sbx_x' }
  const bad: string[][] = [
    [],
    ['frobnicate'],
    ['serve', '--bogus'],
    ['serve', 'extra'],
    ['serve', '--port', 'abc'],
    ['serve', '--port', '70000'],
    ['serve', '--data', 'x', '--memory'],
    ['serve', '--grant', 'photos:read'],
    ['serve', '--full-access'],
    ['serve', '--key', 'k'],
    ['serve', '--key', 'k', '--grant', 'photos:write'],
    ['serve', '--key', 'k', '--grant', 'photos'],
    ['serve', '--key', 'k', '--grant', ':read'],
    ['serve', '--key', 'k', '--grant', '*:read'],
    ['serve', '--key', 'k', '--grant', '*:fullaccess:pre/'],
    ['serve', '--key', 'k', '--full-access', '--grant', 'photos:read'],
    ['keys'],
    ['keys', 'frob'],
    ['keys', 'get'],
    ['keys', 'get', 'a', 'b'],
    ['keys', 'rename', 'a'],
    ['keys', 'list', 'extra'],
    ['keys', 'list', '--name', 'x'],
    ['keys', 'get', 'a', '--grant', 'b:read'],
    ['keys', 'create', '--grant', 'photos:read'],
    ['keys', 'create', '--name', 'x'],
    ['keys', 'create', '--name', 'x', '--grant', '*:readwrite'],
    ['keys', 'list', '--endpoint']
  ]
  for (const argv of bad) {
    const command = cli(argv, env)
    t.equal(await command.code, 2, argv.join(' ') || '(nothing)')
    t.match(command.err(), /^spacebox: .+\n\nUsage:/, 'a reason, then the usage')
    t.equal(command.out(), '')
  }
  const tokenless = cli(['keys', 'list'])
  t.equal(await tokenless.code, 2)
  t.match(tokenless.err(), /SPACEBOX_ADMIN_TOKEN/, 'says where the token comes from')
})

t.test('grants on the command line', async t => {
  t.same(parseGrant('photos:read'), { bucket: 'photos', permission: 'read' })
  t.same(parseGrant('photos:readwrite:2024/a:b'), { bucket: 'photos', permission: 'readwrite', prefix: '2024/a:b' }, 'the prefix may hold colons')
  t.same(parseGrant('photos:read:'), { bucket: 'photos', permission: 'read' }, 'an empty prefix is the whole bucket')
  t.same(parseGrant('*:fullaccess'), { bucket: '', permission: 'fullaccess' })
  t.same(parseGrant('photos:readwrite+publish:pub/'), { bucket: 'photos', permission: 'readwrite', publish: true, prefix: 'pub/' }, 'a readwrite grant that may publish')
  t.throws(() => parseGrant('photos:read+publish'), /PERMISSION one of read, readwrite, readwrite\+publish, fullaccess/)
  for (const spec of ['photos:read', 'photos:fullaccess:x/', '*:fullaccess', 'photos:readwrite+publish']) t.equal(formatGrant(parseGrant(spec)), spec)
})

t.test('first start of a data directory makes an admin token and keeps only its hash', async t => {
  const data = join(await tempDir(t), 'data')
  const first = await served(t, ['--data', data])
  const [, token = ''] = await first.cli.until(TOKEN)
  t.match(first.cli.out(), /only its SHA-256 is kept/)
  const file = await readFile(join(data, 'admin.json'), 'utf8')
  t.notOk(file.includes(token) || file.includes(token.slice(4)), 'admin.json holds no token text')
  t.equal(JSON.parse(file).sha256, createHash('sha256').update(token).digest('hex'))
  t.equal((await stat(join(data, 'admin.json'))).mode & 0o777, 0o600, 'admin.json is the owner\'s alone')
  t.equal((await stat(data)).mode & 0o777, 0o700, 'so is the data directory')

  const listed = await keys(first.url, token, 'list')
  t.equal(listed.code, 0, listed.err)
  t.equal(listed.out, '(none)\n', 'no key is made unless asked')
  t.equal(await first.cli.stop(), 0, 'stops cleanly')
  t.match(first.cli.out(), /Stopping/)

  const second = await served(t, ['--data', data])
  t.notMatch(second.cli.out(), /SPACEBOX_ADMIN_TOKEN|sbx_/, 'a second start prints no token')
  t.equal((await keys(second.url, token, 'list')).code, 0, 'the first token still works')
  t.equal((await keys(second.url, `${token}x`, 'list')).code, 1, 'another does not')
  t.equal(await readFile(join(data, 'admin.json'), 'utf8'), file, 'admin.json is unchanged')

  await second.cli.stop()
  await writeFile(join(data, 'admin.json'), 'garbage')
  const broken = cli(['serve', '--data', data, '--port', '0'])
  t.equal(await broken.code, 1, 'a damaged admin.json is not silently replaced')
  t.match(broken.err(), /admin\.json is not a spacebox admin token file/)
})

t.test('serve warns on stderr when an existing data directory is open to other local users', async t => {
  const data = join(await tempDir(t), 'data')
  const first = await served(t, ['--data', data])
  t.equal(first.cli.err(), '', 'no warning for a directory it made itself')
  t.equal((await stat(join(data, 'store'))).mode & 0o777, 0o700, 'the store directory inside is the owner\'s alone too')
  t.equal((await stat(join(data, 'store.key'))).mode & 0o777, 0o600, 'and so is the master key file')
  t.equal(await first.cli.stop(), 0)

  await chmod(data, 0o755)
  const second = await served(t, ['--data', data])
  t.ok(second.cli.err().startsWith(`spacebox: warning: ${data} is open to other local users (mode 755)`), 'a warning naming the directory and its mode')
  t.equal(second.cli.err().split('\n').length, 2, 'one line: the store and key file inside are still the owner\'s alone')
  t.equal((await stat(data)).mode & 0o777, 0o755, 'the mode of an existing store is left to its owner')
  t.equal(await second.cli.stop(), 0)

  const empty = join(await tempDir(t), 'empty')
  await mkdir(empty)
  await chmod(empty, 0o755)
  const fresh = await served(t, ['--data', empty])
  t.equal(fresh.cli.err(), '', 'no warning for an empty directory: the store is made fresh there')
  t.equal((await stat(empty)).mode & 0o777, 0o700, 'so it is made the owner\'s alone')
  t.equal(await fresh.cli.stop(), 0)
})

t.test('--memory prints a fresh token every start', async t => {
  const tokens: string[] = []
  for (let i = 0; i < 2; i++) {
    const server = await served(t, ['--memory'])
    const [, token = ''] = await server.cli.until(TOKEN)
    t.match(server.cli.out(), /in memory/)
    t.equal((await keys(server.url, token, 'list')).code, 0)
    tokens.push(token)
    t.equal(await server.cli.stop(), 0)
  }
  t.not(tokens[0], tokens[1])
})

t.test('--bucket and --key make what the quick start needs, once', async t => {
  const data = join(await tempDir(t), 'data')
  const argv = ['--data', data, '--bucket', 'photos', '--bucket', 'logs', '--key', 'site', '--grant', 'photos:readwrite', '--grant', 'logs:read:app/']
  const first = await served(t, argv)
  const [, id = '', secret = ''] = await first.cli.until(CREDENTIALS)
  t.match(first.cli.out(), /Bucket photos: created\nBucket logs: created/)
  t.match(first.cli.out(), /Access key "site" \(photos:readwrite logs:read:app\/\)/)

  // The printed credentials work over S3, as the quick start's `aws s3 cp` uses them.
  const s3 = new S3Client({ endpoint: first.url, region: 'nyc3', forcePathStyle: true, credentials: { accessKeyId: id, secretAccessKey: secret } })
  t.teardown(() => { s3.destroy() })
  await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'cat.jpg', Body: 'meow' }))
  const got = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'cat.jpg' }))
  t.equal(await got.Body?.transformToString(), 'meow')
  t.equal(await first.cli.stop(), 0)

  const again = await served(t, argv)
  t.match(again.cli.out(), /Bucket photos: exists/)
  t.match(again.cli.out(), new RegExp(`Access key "site" exists: ${id}`))
  t.notOk(again.cli.out().includes(secret), 'the secret is not shown again')
  t.equal(await again.cli.stop(), 0)

  const box = await Spacebox.open({ location: join(data, 'store') })
  t.teardown(async () => { await box.close() })
  t.equal(box.keys.list({ name: 'site' }).length, 1, 'a restart makes no second key')
  const scoped = box.withCredentials({ accessKeyId: id, secretAccessKey: secret })
  t.equal((await scoped.headObject('photos', 'cat.jpg')).size, 4, 'the engine takes the printed credentials')
  await t.rejects(scoped.putObject('logs', 'app/x', 'y'), { code: 'AccessDenied' }, 'within their grants')
})

t.test('keys commands against a live server', async t => {
  const data = join(await tempDir(t), 'data')
  const server = await served(t, ['--data', data, '--bucket', 'photos'])
  const [, token = ''] = await server.cli.until(TOKEN)
  const k = async (...argv: string[]): Promise<{ code: number, out: string, err: string }> => await keys(server.url, token, ...argv)

  const created = await k('create', '--name', 'uploader', '--grant', 'photos:readwrite:in/')
  t.equal(created.code, 0, created.err)
  const id = /^Access key +(SB\w+)$/m.exec(created.out)?.[1] ?? ''
  const secret = /^Secret +(\S+) +\(shown this once\)$/m.exec(created.out)?.[1] ?? ''
  t.match(created.out, /^Grants +photos:readwrite:in\/$/m)
  t.match(created.out, /^Status +active$/m)

  await sleep(5) // a later created_at, for the listing's order
  const full = JSON.parse((await k('create', '--name', 'root', '--full-access', '--json')).out)
  t.same(full.key.grants, [{ bucket: '', permission: 'fullaccess' }])
  t.type(full.key.secret_key, 'string')

  const list = await k('list')
  t.equal(list.code, 0)
  t.match(list.out, /^ACCESS KEY +NAME +GRANTS +CREATED +STATUS\n/)
  t.match(list.out, new RegExp(`^${id} +uploader +photos:readwrite:in/ `, 'm'))
  t.match(list.out, /root +\*:fullaccess/)
  t.notOk(list.out.includes(secret), 'no secret in a listing')
  t.same(JSON.parse((await k('list', '--json')).out).keys.map((key: { name: string }) => key.name), ['uploader', 'root'], 'oldest first')
  t.same(JSON.parse((await k('list', '--bucket', 'videos', '--json')).out).keys.map((key: { name: string }) => key.name), ['root'])

  const got = await k('get', id)
  t.match(got.out, /^Name +uploader$/m)
  t.notOk(got.out.includes('Secret'))
  t.same(JSON.parse((await k('get', id, '--json')).out).key.access_key, id)

  t.match((await k('rename', id, 'ingest')).out, /^Name +ingest$/m)
  t.match((await k('access', 'photos')).out, new RegExp(`^${id} +ingest +readwrite +in/ +active$`, 'm'))
  t.same(JSON.parse((await k('access', 'photos', '--json')).out).access.length, 2)

  const regenerated = await k('regenerate', id)
  const fresh = /^Secret +(\S+)/m.exec(regenerated.out)?.[1] ?? ''
  t.ok(fresh.length > 0 && fresh !== secret, 'a new secret')

  const rootId: string = full.key.access_key
  const deleted = await k('delete', rootId)
  t.equal(deleted.out, `Deleted access key ${rootId}.\n`)
  const gone = await k('get', rootId)
  t.equal(gone.code, 1)
  t.match(gone.err, /^spacebox: .*\(404 not_found\)\n$/)
  t.equal(gone.out, '')
  t.equal(await server.cli.stop(), 0)

  const box = await Spacebox.open({ location: join(data, 'store') })
  t.teardown(async () => { await box.close() })
  t.throws(() => box.withCredentials({ accessKeyId: id, secretAccessKey: secret }), { code: 'SignatureDoesNotMatch' }, 'the old secret is dead')
  t.equal(box.withCredentials({ accessKeyId: id, secretAccessKey: fresh }).accessKeyId, id, 'the new one works')
  t.same(box.keys.list().map(key => key.name), ['ingest'])
})

t.test('an unknown or misspelt flag is refused by name, and nothing is created', async t => {
  const data = join(await tempDir(t), 'data')
  const server = await served(t, ['--data', data, '--bucket', 'photos'])
  const [, token = ''] = await server.cli.until(TOKEN)
  for (const [flag, argv] of [
    ['--grants', ['create', '--name', 'x', '--grants', 'photos:read']],
    ['--prefix', ['create', '--name', 'x', '--grant', 'photos:read', '--prefix', 'public/']],
    ['--expires', ['create', '--name', 'x', '--grant', 'photos:read', '--expires', '2030-01-01']],
    ['--bucket', ['create', '--name', 'x', '--grant', 'photos:read', '--bucket', 'photos']]
  ] as const) {
    const refused = await keys(server.url, token, ...argv)
    t.equal(refused.code, 2, argv.join(' '))
    t.ok(refused.err.split('\n')[0]?.includes(flag), `the message names ${flag}`)
    t.equal(refused.out, '')
  }
  t.equal((await keys(server.url, token, 'list')).out, '(none)\n', 'no key was created')
  t.equal(await server.cli.stop(), 0)

  const other = join(await tempDir(t), 'other')
  const typo = cli(['serve', '--data', other, '--port', '0', '--key', 'k', '--grnat', 'photos:read'])
  t.equal(await typo.code, 2)
  t.match(typo.err(), /^spacebox: .*'--grnat'/)
  await t.rejects(stat(other), { code: 'ENOENT' }, 'serve made no data directory')
})

t.test('failures are one line on stderr and exit 1', async t => {
  const blocker = createServer()
  blocker.listen(0, '127.0.0.1')
  await once(blocker, 'listening')
  const port = String((blocker.address() as { port: number }).port)
  const inUse = cli(['serve', '--memory', '--port', port])
  t.equal(await inUse.code, 1)
  t.equal(inUse.err(), `spacebox: cannot listen on 127.0.0.1:${port}: the address is in use\n`)
  t.notMatch(inUse.out(), /sbx_/, 'no token shown for a server that never ran')

  const data = join(await tempDir(t), 'data')
  await served(t, ['--data', data])
  const locked = cli(['serve', '--data', data, '--port', '0'])
  t.equal(await locked.code, 1)
  t.equal(locked.err(), `spacebox: ${data} is in use by another spacebox (its store is locked)\n`)

  await new Promise(resolve => blocker.close(resolve))
  const nobody = await keys(`http://127.0.0.1:${port}`, 'sbx_x', 'list')
  t.equal(nobody.code, 1)
  t.match(nobody.err, /^spacebox: cannot reach http:\/\/127\.0\.0\.1:\d+ .*\n$/)

  const memory = await served(t, ['--memory'])
  const refused = await keys(memory.url, 'sbx_wrong', 'list')
  t.equal(refused.code, 1)
  t.equal(refused.err, 'spacebox: the admin token was refused (check --token or SPACEBOX_ADMIN_TOKEN)\n')
  t.notOk(refused.err.includes('sbx_wrong'), 'the token is never echoed')
})

t.test('serve checks every --bucket before printing or creating anything, and says which rule a name breaks', async t => {
  const cases: Array<[string, RegExp]> = [
    ['a', /3 to 63 characters long \(this one has 1\)/],
    ['Not_Valid', /only lowercase letters, digits, dots and hyphens/],
    ['dash-', /begins and ends with a letter or digit/],
    ['two..dots', /no two dots in a row/],
    ['foo-.bar', /each dot-separated part/],
    ['192.168.1.1', /not an IP address/],
    ['xn--punycode', /does not begin with xn--/],
    ['name-s3alias', /does not end with -s3alias/]
  ]
  for (const [name, reason] of cases) {
    const data = join(await tempDir(t), 'data')
    const bad = cli(['serve', '--data', data, '--port', '0', '--bucket', 'fine', '--bucket', name])
    t.equal(await bad.code, 2, name)
    t.match(bad.err(), new RegExp(`^spacebox: --bucket "${name.replaceAll('.', '\\.')}": .*${reason.source}`), `${name}: the rule`)
    t.equal(bad.out(), '', `${name}: nothing printed, no admin token`)
    await t.rejects(stat(data), { code: 'ENOENT' }, `${name}: no data directory made`)
  }
})

// The one test of the real entry point: a child process, a real SIGINT. The child loads the TS
// source through the same loader tap gave this process.
t.test('the spacebox command stops gracefully on SIGINT', async t => {
  const loader = process.execArgv.filter(arg => arg.includes('@tapjs/typescript'))
  const main = fileURLToPath(new URL('../lib/cli/main.ts', import.meta.url))
  const child = spawn(process.execPath, [...loader, main, 'serve', '--memory', '--port', '0', '--bucket', 'bin', '--key', 'k', '--grant', 'bin:read'], { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  const exited = once(child, 'exit')
  for (let waited = 0; !CREDENTIALS.test(out) && child.exitCode === null && waited < 30_000; waited += 50) await sleep(50)
  const url = /serving (http:\/\/\S+)/.exec(out)?.[1] ?? ''
  const token = TOKEN.exec(out)?.[1] ?? ''
  t.match((await keys(url, token, 'list')).out, /^SB\w+ +k +bin:read /m, `the child serves (${err})`)
  child.kill('SIGINT')
  const [code, signal] = await exited
  t.equal(code, 0, 'exit code 0')
  t.equal(signal, null)
  t.match(out, /Stopping/)
})
