import t from 'tap'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { Spacebox } from '../lib/index.js'
import { formatGrant, parseGrant } from '../lib/cli/grants.js'
import { tempDir } from './helpers.js'
import { cli, CREDENTIALS, keys, served, TOKEN } from './fixtures/cli.js'

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
    ['keys', 'list', '--grant', 'x:read'],
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
  t.same(JSON.parse((await k('list', '--name', 'uploader', '--json')).out).keys.map((key: { name: string }) => key.name), ['uploader'])
  t.same(JSON.parse((await k('list', '--permission', 'fullaccess', '--json')).out).keys.map((key: { name: string }) => key.name), ['root'])
  t.equal((await k('list', '--permission', 'admin')).code, 1, 'an unknown permission is the server\'s 400')

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

t.test('keys update, disable, enable, usage, expiry and rate limits, and --json on every subcommand', async t => {
  const server = await served(t, ['--memory', '--bucket', 'photos', '--bucket', 'videos'])
  const [, token = ''] = await server.cli.until(TOKEN)
  const k = async (...argv: string[]): Promise<{ code: number, out: string, err: string }> => await keys(server.url, token, ...argv)
  const json = async (...argv: string[]): Promise<any> => {
    const { code, out, err } = await k(...argv, '--json')
    t.equal(code, 0, `${argv.join(' ')}: ${err}`)
    return JSON.parse(out)
  }

  const made = await k('create', '--name', 'cam', '--grant', 'photos:read', '--expires', '2031-01-31', '--rate-limit', '20')
  t.equal(made.code, 0, made.err)
  t.match(made.out, /^Expires +2031-01-31T00:00:00\.000Z$/m)
  t.match(made.out, /^Rate limit +20 requests\/s$/m)
  const id = /^Access key +(SB\w+)$/m.exec(made.out)?.[1] ?? ''
  const secret = /^Secret +(\S+)/m.exec(made.out)?.[1] ?? ''

  const updated = await json('update', id, '--grant', 'photos:readwrite:up/', '--grant', 'videos:read', '--expires', 'never', '--rate-limit', 'none')
  t.same(updated.key.grants, [{ bucket: 'photos', permission: 'readwrite', prefix: 'up/' }, { bucket: 'videos', permission: 'read' }])
  t.notOk('expires_at' in updated.key, 'never removes the expiry')
  t.notOk('rate_limit' in updated.key, 'none removes the rate limit')
  t.notOk('secret_key' in updated.key, 'no secret outside create and regenerate')
  t.equal((await json('update', id, '--rate-limit', '5')).key.grants.length, 2, 'the grants stay when not given')

  // The key works over S3 while active, and is refused while disabled.
  const s3 = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: id, secretAccessKey: secret } })
  t.teardown(() => { s3.destroy() })
  await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'up/a', Body: 'abc' }))
  t.match((await k('disable', id)).out, /^Status +disabled$/m)
  await t.rejects(s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'up/a' })), { name: 'InvalidAccessKeyId' }, 'a disabled key is refused, as S3 refuses an inactive key')
  t.equal((await json('enable', id)).key.disabled, false)
  await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'up/a' }))
  await t.rejects(s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'elsewhere', Body: 'x' })), { name: 'AccessDenied' })

  const usage = await k('usage', id)
  t.equal(usage.code, 0, usage.err)
  t.match(usage.out, /^Requests +2 \(GetObject 1, PutObject 1\)$/m)
  t.match(usage.out, /^Bytes in +3$/m)
  t.match(usage.out, /^Denied +1$/m)
  t.match(usage.out, /^Last denied +\S+ PutObject: /m)
  t.match(await json('usage', id), { usage: { requests: { PutObject: 1, GetObject: 1 }, bytes_in: 3, denied: 1 } })

  t.same(await json('delete', id), { deleted: id }, 'delete says what it deleted, for scripts')
  for (const argv of [['list'], ['access', 'photos']]) t.ok(await json(...argv), `${argv[0]} --json`)

  const bad = await k('create', '--name', 'x', '--grant', 'photos:read', '--expires', 'tomorrow')
  t.equal(bad.code, 1)
  t.match(bad.err, /^spacebox: expires_at is an ISO 8601 date .*\(400 bad_request\)\n$/)
})

t.test('an unknown or misspelt flag is refused by name, and nothing is created', async t => {
  const data = join(await tempDir(t), 'data')
  const server = await served(t, ['--data', data, '--bucket', 'photos'])
  const [, token = ''] = await server.cli.until(TOKEN)
  for (const [flag, argv] of [
    ['--grants', ['create', '--name', 'x', '--grants', 'photos:read']],
    ['--prefix', ['create', '--name', 'x', '--grant', 'photos:read', '--prefix', 'public/']],
    ['--expiry', ['create', '--name', 'x', '--grant', 'photos:read', '--expiry', '2030-01-01']],
    ['--rate-limit', ['create', '--name', 'x', '--grant', 'photos:read', '--rate-limit', '1.5']],
    ['--name', ['update', 'SBX', '--name', 'y']],
    ['update needs', ['update', 'SBX']],
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

// npm runs a script through sh, which does not pass a signal on: without `exec` in the start
// script, a SIGTERM to npm (as a process manager sends it) would orphan the server.
t.test('npm start stops the server when npm gets SIGTERM, leaving no process behind', async t => {
  const data = join(await tempDir(t), 'data')
  const root = fileURLToPath(new URL('..', import.meta.url))
  const npm = spawn('npm', ['start', '--silent', '--', '--data', data, '--port', '0'], { cwd: root, env: { ...process.env, NODE_OPTIONS: '' } })
  t.teardown(() => { npm.kill('SIGKILL') })
  let out = ''
  npm.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  const exited = once(npm, 'exit')
  for (let waited = 0; !TOKEN.test(out) && npm.exitCode === null && waited < 30_000; waited += 50) await sleep(50)
  t.match(out, /serving http:\/\/127\.0\.0\.1:\d+/)
  npm.kill('SIGTERM')
  await exited
  t.match(out, /Stopping/, 'the server itself got the signal')
  // The store's lock is free only once the server's process has closed it.
  const box = await Spacebox.open({ location: join(data, 'store') })
  await box.close()
  t.pass('the store is free: no orphan holds it')
})

t.test('--grace sets how long requests under way may run once stopping', async t => {
  for (const bad of ['1s', 'ten', '1e3', '90000']) {
    const refused = cli(['serve', '--memory', '--port', '0', '--grace', bad])
    t.equal(await refused.code, 2, bad)
    t.match(refused.err(), /^spacebox: --grace .* is not a number of seconds/)
  }
  const server = await served(t, ['--memory', '--grace', '0.3', '--bucket', 'bin', '--key', 'k', '--grant', 'bin:readwrite'])
  const [, id = '', secret = ''] = await server.cli.until(CREDENTIALS)
  const s3 = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: id, secretAccessKey: secret } })
  // An upload whose body stalls after its first byte: only the grace period ends it.
  const stalled = new PassThrough()
  stalled.write('x')
  const upload = s3.send(new PutObjectCommand({ Bucket: 'bin', Key: 'slow', Body: stalled, ContentLength: 10 })).then(() => 'done', (err: Error) => err.name)
  await sleep(200)
  const started = Date.now()
  t.equal(await server.cli.stop(), 0)
  const took = Date.now() - started
  t.ok(took >= 250 && took < 5_000, `stopped after the grace period (${took} ms)`)
  t.not(await upload, 'done', 'the stalled upload was cut')
  t.match(server.cli.out(), /Stopping: letting requests under way finish \(up to 0\.3 s; a second Ctrl-C stops at once\)/)
})

t.test('info shows what a stopped store holds, without a secret, and refuses a store in use', async t => {
  const data = join(await tempDir(t), 'data')
  const server = await served(t, ['--data', data, '--bucket', 'photos', '--bucket', 'empty', '--key', 'cam', '--grant', 'photos:read:pub/'])
  const [, , secret = ''] = await server.cli.until(CREDENTIALS)
  const busy = cli(['info', '--data', data])
  t.equal(await busy.code, 1)
  t.match(busy.err(), /is in use by a running spacebox \(its store is locked\): stop it first/)
  t.equal(await server.cli.stop(), 0)

  const box = await Spacebox.open({ location: join(data, 'store') })
  await box.putBucketVersioning('photos', 'Enabled')
  await box.putObject('photos', 'a', Buffer.alloc(3000))
  await box.putObject('photos', 'a', Buffer.alloc(1000))
  await box.putObject('photos', 'b', Buffer.alloc(24))
  await box.putObject('photos', 'gone', Buffer.alloc(5))
  await box.deleteObject('photos', 'gone')
  await box.createMultipartUpload('photos', 'big')
  await box.close()

  const info = cli(['info', '--data', data])
  t.equal(await info.code, 0, info.err())
  t.match(info.out(), /^Store +\S+ \(format \d+\)$/m)
  t.match(info.out(), /^Live data +3\.9 KiB$/m)
  t.match(info.out(), /^photos +nyc3 +2 +1\.0 KiB +3 \(2\.9 KiB\) +1 +Enabled /m)
  t.match(info.out(), /^empty +nyc3 +0 +0 B +0 \(0 B\) +0 +off /m)
  t.match(info.out(), /^SB\w+ +cam +photos:read:pub\/ +active$/m)
  t.notOk(info.out().includes(secret), 'no secret')

  const json = cli(['info', '--data', data, '--json'])
  t.equal(await json.code, 0)
  const parsed = JSON.parse(json.out())
  t.match(parsed, { format: Number, live_bytes: 4029, bytes_on_disk: Number, keys: [{ name: 'cam', grants: ['photos:read:pub/'], status: 'active' }] })
  t.match(parsed.buckets, [{ name: 'empty', objects: 0 }, { name: 'photos', objects: 2, bytes: 1024, noncurrent: 3, noncurrentBytes: 3005, uploads: 1, versioning: 'Enabled' }])
  t.notOk(json.out().includes(secret))

  const missing = cli(['info', '--data', join(data, 'nope')])
  t.equal(await missing.code, 1)
  t.match(missing.err(), /there is no store in/)
})

t.test('--profile spaces answers as Spaces; --no-console leaves the console out', async t => {
  const refused = cli(['serve', '--memory', '--port', '0', '--profile', 'gcs'])
  t.equal(await refused.code, 2)
  t.match(refused.err(), /^spacebox: --profile "gcs": aws or spaces/)

  const spaces = await served(t, ['--memory', '--profile', 'spaces', '--key', 'k', '--full-access'])
  t.match(spaces.cli.out(), /\(region nyc3, answering as Spaces, in memory/)
  t.match(spaces.cli.out(), /^Web console: http:\/\/127\.0\.0\.1:\d+\/_spacebox\/console\/ /m)
  const [, id = '', secret = ''] = await spaces.cli.until(CREDENTIALS)
  const s3 = new S3Client({ endpoint: spaces.url, region: 'nyc3', forcePathStyle: true, credentials: { accessKeyId: id, secretAccessKey: secret } })
  t.teardown(() => { s3.destroy() })
  await s3.send(new CreateBucketCommand({ Bucket: 'in-fra1', CreateBucketConfiguration: { LocationConstraint: 'fra1' as 'us-west-2' } }))
  await t.rejects(s3.send(new CreateBucketCommand({ Bucket: 'in-eu', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })), { name: 'InvalidLocationConstraint' }, 'an AWS region is no Spaces region')
  t.equal((await fetch(`${spaces.url}/_spacebox/console/`)).status, 200, 'the console is served by default')

  const plain = await served(t, ['--memory', '--no-console'])
  t.notMatch(plain.cli.out(), /Web console/)
  const page = await fetch(`${plain.url}/_spacebox/console/`)
  t.not(page.status, 200, 'no console: the path is an S3 request')
  t.equal(page.headers.get('content-security-policy'), null)
})
