import t from 'tap'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Spacebox } from '../lib/index.js'
import { cli, CREDENTIALS, served } from './fixtures/cli.js'
import { bytes, readAll, tempDir } from './helpers.js'
import { serve } from './s3/helpers.js'

type Tap = Parameters<typeof tempDir>[0]

/** A stopped `serve --data DIR` store with a bucket in it. */
async function stoppedStore (t: Tap, fill: (box: Spacebox) => Promise<void> = async () => {}): Promise<string> {
  const data = await tempDir(t)
  const box = await Spacebox.open({ location: join(data, 'store') })
  await fill(box)
  await box.close()
  return data
}

function envOf (served: Awaited<ReturnType<typeof serve>>): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: served.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: served.credentials.secretAccessKey, AWS_ENDPOINT_URL: served.server.url }
}

t.test('mirror store:// → s3:// and back, with a summary; again copies nothing; --json events', async t => {
  const data = await stoppedStore(t, async box => {
    await box.createBucket('site')
    await box.putObject('site', 'index.html', '<h1>hi</h1>', { contentType: 'text/html', metadata: { owner: 'me' } })
    await box.putObject('site', 'img/logo.png', bytes(200_000, 5))
  })
  const remote = await serve(t)
  const out = cli(['mirror', 'store://', 's3://', '--data', data], envOf(remote))
  t.equal(await out.code, 0, out.err())
  t.match(out.out(), /^copied 2 \(195\.3 KiB\), unchanged 0, deleted 0, skipped 0, failed 0 in [\d.]+ s\n$/)
  const page = await remote.box.getObject('site', 'index.html')
  t.same([(await readAll(page.body)).toString(), page.info.contentType, page.info.metadata], ['<h1>hi</h1>', 'text/html', { owner: 'me' }])

  const again = cli(['mirror', 'store://site', 's3://site', '--data', data, '--json'], envOf(remote))
  t.equal(await again.code, 0, again.err())
  const events = again.out().trim().split('\n').map(line => JSON.parse(line) as { type: string })
  t.same(events.map(e => e.type), ['plan', 'summary'])
  t.match(events.at(-1), { type: 'summary', copied: 0, unchanged: 2, failed: 0 })

  await remote.box.putObject('site', 'new.txt', 'from the server')
  const back = await stoppedStore(t)
  const home = cli(['mirror', 's3://site/', 'store://copy/', '--data', back, '--json'], envOf(remote))
  t.equal(await home.code, 0, home.err())
  const copied = home.out().trim().split('\n').map(line => JSON.parse(line) as { type: string, key?: string }).filter(e => e.type === 'copied').map(e => e.key).sort()
  t.same(copied, ['img/logo.png', 'index.html', 'new.txt'])
  const box = await Spacebox.open({ location: join(back, 'store') })
  t.equal((await box.listObjectsV2('copy')).keyCount, 3)
  await box.close()
})

t.test('credentials from a profile; failures give exit code 1 and name each object', async t => {
  const data = await stoppedStore(t, async box => {
    await box.createBucket('docs')
    await box.putObject('docs', 'a', 'a')
    await box.putObject('docs', 'b', 'b')
  })
  const remote = await serve(t)
  await remote.box.createBucket('docs')
  const reader = await remote.keyed([{ bucket: 'docs', permission: 'read' }])
  const home = await tempDir(t)
  await mkdir(join(home, '.aws'))
  await writeFile(join(home, '.aws', 'credentials'), `[default]\naws_access_key_id = nobody\naws_secret_access_key = x\n\n[reader]\naws_access_key_id = ${reader.accessKeyId}\naws_secret_access_key = ${reader.secretAccessKey}\n`)
  const env = { AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'), AWS_CONFIG_FILE: join(home, 'none'), AWS_ENDPOINT_URL: remote.server.url }
  const refused = cli(['mirror', 'store://docs', 's3://docs', '--data', data, '--profile', 'reader'], env)
  t.equal(await refused.code, 1)
  t.match(refused.err(), /failed: docs\/a: AccessDenied/)
  t.match(refused.err(), /failed: docs\/b: AccessDenied/)
  t.match(refused.err(), /spacebox: 2 failed \(listed above\)\n$/)
  t.equal((await remote.box.listObjectsV2('docs')).keyCount, 0)

  const none = cli(['mirror', 'store://docs', 's3://docs', '--data', data], { AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'), AWS_CONFIG_FILE: join(home, 'none') })
  t.equal(await none.code, 1)
  t.match(none.err(), /no credentials for s3:\/\//)
})

t.test('mirror refuses what cannot be meant', async t => {
  const data = await stoppedStore(t)
  for (const [argv, message] of [
    [['mirror', 'store://a'], /mirror needs SRC and DST/],
    [['mirror', 'store://a', 'http://x/a', '--data', data], /neither s3:\/\/\[BUCKET\[\/PREFIX\]\] nor store:\/\//],
    [['mirror', 'store://a', 's3://'], /name a bucket on both sides, or on neither/],
    [['mirror', 'store://', 'store://', '--data', data], /onto itself/],
    [['mirror', 'store://a', 's3://a'], /store:\/\/ needs --data DIR/],
    [['mirror', 'store://a', 's3://a', '--data', data, '--concurrency', '0'], /--concurrency "0"/]
  ] as Array<[string[], RegExp]>) {
    const run = cli(argv, { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' })
    t.equal(await run.code, 2, argv.join(' '))
    t.match(run.err(), message)
  }
  const missing = cli(['mirror', 'store://a', 's3://a', '--data', join(data, 'nope')], { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' })
  t.equal(await missing.code, 1)
  t.match(missing.err(), /there is no store in/)
})

t.test('an interrupted mirror says how to resume, and running it again finishes', async t => {
  const data = await stoppedStore(t, async box => {
    await box.createBucket('many')
    for (let i = 0; i < 30; i++) await box.putObject('many', `k${i}`, bytes(50_000, i))
  })
  const remote = await serve(t)
  const first = cli(['mirror', 'store://many', 's3://many', '--data', data, '--json', '--concurrency', '1'], envOf(remote))
  await first.until(/"type":"copied"/)
  t.equal(await first.stop(), 1)
  t.match(first.err(), /interrupted; what was copied stays, and running the same command again copies the rest/)
  const arrived = (await remote.box.listObjectsV2('many')).keyCount
  t.ok(arrived > 0 && arrived < 30, `${arrived} of 30 before the interruption`)
  const second = cli(['mirror', 'store://many', 's3://many', '--data', data], envOf(remote))
  t.equal(await second.code, 0, second.err())
  t.match(second.out(), new RegExp(`^copied ${30 - arrived} .*unchanged ${arrived},`))
})

t.test('progress: a bar redrawn on a terminal, a plain line now and then otherwise, events with --json', async t => {
  const { Progress } = await import('../lib/cli/progress.js')
  const { setTimeout: sleep } = await import('node:timers/promises')
  const make = (tty: boolean, json: boolean): { progress: InstanceType<typeof Progress>, out: () => string, err: () => string } => {
    let out = ''
    let err = ''
    const stderr = { write: (s: string) => { err += s }, isTTY: tty }
    const progress = new Progress({ stdout: { write: s => { out += s } }, stderr, env: {}, signal: new AbortController().signal }, json)
    return { progress, out: () => out, err: () => err }
  }
  const feed = (progress: InstanceType<typeof Progress>): void => {
    progress.event({ type: 'plan', bucket: 'b', objects: 4, bytes: 4 * 1024 * 1024 })
    progress.event({ type: 'data', bytes: 2 * 1024 * 1024 })
    progress.event({ type: 'copied', bucket: 'b', key: 'one', size: 1024 * 1024 })
    progress.event({ type: 'copied', bucket: 'b', key: 'two', size: 1024 * 1024 })
  }
  const terminal = make(true, false)
  feed(terminal.progress)
  await sleep(300)
  terminal.progress.event({ type: 'skipped', bucket: 'b', key: 'sealed', reason: 'encrypted' })
  terminal.progress.done('copied 2', { copied: 2 })
  t.match(terminal.err(), /\r\x1b\[K\[##########\.{10}\] 2\/4 objects, 2\.0 MiB\/4\.0 MiB, [\d.]+ (KiB|MiB)\/s, ETA \d+ s/, 'a bar, half full')
  t.match(terminal.err(), /\r\x1b\[Kskipped: b\/sealed: encrypted \(give --decrypt to take it as plaintext\)\n/, 'the bar is cleared before a line')
  t.match(terminal.out(), /^copied 2 in [\d.]+ s\n$/)

  const piped = make(false, false)
  feed(piped.progress)
  await sleep(300)
  piped.progress.done('copied 2', { copied: 2 })
  t.notMatch(piped.err(), /\r|\x1b/, 'no escape codes where stderr is no terminal')

  const json = make(true, true)
  feed(json.progress)
  json.progress.done('copied 2', { copied: 2 })
  const events = json.out().trim().split('\n').map(line => JSON.parse(line) as { type: string })
  t.same(events.map(e => e.type), ['plan', 'copied', 'copied', 'summary'], 'data events are counted, not printed')
  t.equal(json.err(), '')
})

t.test('mirror to a spacebox serve over TLS with a self-signed certificate, trusted with --ca', async t => {
  const data = await stoppedStore(t, async box => {
    await box.createBucket('docs')
    await box.putObject('docs', 'a.txt', 'over TLS')
  })
  const server = await served(t, ['--memory', '--tls-self-signed', '--bucket', 'docs', '--key', 'k', '--grant', 'docs:readwrite'])
  const [, id = '', secret = ''] = await server.cli.until(CREDENTIALS)
  const certFile = (await server.cli.until(/TLS certificate (\S+)/))[1] ?? ''
  const env = { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, AWS_ENDPOINT_URL: server.url }
  const untrusted = cli(['mirror', 'store://docs', 's3://docs', '--data', data], env)
  t.equal(await untrusted.code, 1, 'a certificate nobody vouches for is refused')
  t.match(untrusted.err(), /self-signed certificate|unable to verify/)
  const trusted = cli(['mirror', 'store://docs', 's3://docs', '--data', data, '--ca', certFile], env)
  t.equal(await trusted.code, 0, trusted.err())
  t.match(trusted.out(), /^copied 1 /)
})

t.test('--sse-c-key FILE: the key as 32 bytes or their base64', async t => {
  const key = bytes(32, 9)
  const data = await stoppedStore(t, async box => {
    await box.createBucket('locked')
    await box.putObject('locked', 'a', 'sealed by the customer', { customerKey: { key } })
  })
  const remote = await serve(t)
  const dir = await tempDir(t)
  const without = cli(['mirror', 'store://locked', 's3://locked', '--data', data], envOf(remote))
  t.equal(await without.code, 0)
  t.match(without.err(), /skipped: locked\/a: encrypted with a customer key \(SSE-C\)/)
  await writeFile(join(dir, 'key.b64'), `${key.toString('base64')}\n`)
  const withKey = cli(['mirror', 'store://locked', 's3://locked', '--data', data, '--sse-c-key', join(dir, 'key.b64')], envOf(remote))
  t.equal(await withKey.code, 0, withKey.err())
  t.match(withKey.out(), /^copied 1 /)
  t.equal((await readAll((await remote.box.getObject('locked', 'a', { customerKey: { key } })).body)).toString(), 'sealed by the customer')
  await writeFile(join(dir, 'short'), 'abc')
  const bad = cli(['mirror', 'store://locked', 's3://locked', '--data', data, '--sse-c-key', join(dir, 'short')], envOf(remote))
  t.equal(await bad.code, 2)
  t.match(bad.err(), /an SSE-C key is 32 bytes, or their base64/)
})

t.test('s3:// to s3:// across two services: --from-endpoint and --from-profile describe the source', async t => {
  const running = await serve(t)
  await running.box.createBucket('live')
  await running.box.putObject('live', 'a.txt', 'from a running server')
  await running.box.createBucket('more')
  await running.box.putObject('more', 'b.txt', 'b')
  const spaces = await serve(t)
  const home = await tempDir(t)
  const credentials = join(home, 'credentials')
  await writeFile(credentials, `[running]\naws_access_key_id = ${running.credentials.accessKeyId}\naws_secret_access_key = ${running.credentials.secretAccessKey}\n`)
  const env = { ...envOf(spaces), AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: join(home, 'none') }
  const one = cli(['mirror', 's3://live', 's3://live-copy', '--from-endpoint', running.server.url, '--from-profile', 'running'], env)
  t.equal(await one.code, 0, one.err())
  t.equal((await readAll((await spaces.box.getObject('live-copy', 'a.txt')).body)).toString(), 'from a running server')
  const every = cli(['mirror', 's3://', 's3://', '--from-endpoint', running.server.url, '--from-profile', 'running'], env)
  t.equal(await every.code, 0, every.err())
  t.match(every.out(), /^copied 2 /)
  t.same((await spaces.box.listBuckets()).map(b => b.name), ['live', 'live-copy', 'more'])
  const misplaced = cli(['mirror', 'store://a', 's3://a', '--data', home, '--from-endpoint', running.server.url], env)
  t.equal(await misplaced.code, 2)
  t.match(misplaced.err(), /describe an s3:\/\/ source/)
})
