// Named master keys for SSE-KMS: the key file that keeps them (old files open unchanged, keys are
// added by an atomic replace, mode 0600, a killed writer loses nothing), the engine's option, the
// ARN forms of a name, and the `spacebox kms` and `serve --kms-key` commands.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmod, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { PutObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { Spacebox, LocalKeyProvider } from '../lib/index.js'
import { keyFileIds } from '../lib/crypto/master-key.js'
import { isKmsKeyName, kmsKeyArn, masterKeyIdOf } from '../lib/crypto/kms-arn.js'
import { run } from '../lib/cli/run.js'
import { tempDir } from './helpers.js'

interface KeyFile { current: string, keys: Record<string, string> }

const readKeyFile = async (location: string): Promise<KeyFile> => JSON.parse(await readFile(`${location}.key`, 'utf8')) as KeyFile
const leftovers = async (location: string): Promise<string[]> =>
  (await readdir(dirname(location))).filter(name => name.startsWith(`${basename(location)}.key.`))

/** Keep SPACEBOX_MASTER_KEY out of a test (and put back whatever the environment had). */
function withoutEnvKey (t: Tap): void {
  const previous = process.env.SPACEBOX_MASTER_KEY
  delete process.env.SPACEBOX_MASTER_KEY
  t.teardown(() => {
    if (previous === undefined) delete process.env.SPACEBOX_MASTER_KEY
    else process.env.SPACEBOX_MASTER_KEY = previous
  })
}
type Tap = { teardown: (fn: () => unknown) => void }

t.test('key names and the forms of a KMS key id', async t => {
  for (const name of ['testkey-1', 'a', 'K_9', 'x'.repeat(64)]) t.ok(isKmsKeyName(name), name)
  for (const name of ['', '-a', '_a', 'a/b', 'a:b', 'alias/a', 'x'.repeat(65), 'é', 'a b', '__proto__']) t.notOk(isKmsKeyName(name), JSON.stringify(name))
  t.equal(kmsKeyArn('eu-west-1', 'k'), 'arn:aws:kms:eu-west-1:000000000000:key/k')
  t.equal(kmsKeyArn('eu-west-1', 'arn:aws:kms:us-east-2:111122223333:key/x'), 'arn:aws:kms:us-east-2:111122223333:key/x', 'a provider\'s own ARN stays')
  const same = ['k', 'alias/k', 'arn:aws:kms:eu-west-1:000000000000:key/k', 'arn:aws:kms:eu-west-1:000000000000:alias/k']
  for (const id of same) t.equal(masterKeyIdOf(id, 'eu-west-1'), 'k', id)
  for (const id of ['arn:aws:kms:us-east-1:000000000000:key/k', 'arn:aws:kms:eu-west-1:111122223333:key/k', 'arn:aws-cn:kms:eu-west-1:000000000000:key/k']) {
    t.equal(masterKeyIdOf(id, 'eu-west-1'), id, `${id} is given to the provider whole`)
  }
  t.equal(masterKeyIdOf('alias/aws/s3', 'eu-west-1'), undefined, 'S3\'s own key is the default key')
  t.equal(masterKeyIdOf('arn:aws:kms:eu-west-1:000000000000:alias/aws/s3', 'eu-west-1'), undefined)
  t.equal(masterKeyIdOf('aws/s3', 'eu-west-1'), 'aws/s3', 'without alias/ it is a key id, as in S3')
})

t.test('a key file of one key, as every store had it, opens unchanged', async t => {
  withoutEnvKey(t)
  const location = await tempDir(t)
  const box = await Spacebox.open({ location })
  await box.createBucket('bkt')
  await box.putObject('bkt', 'old', 'sealed before', { serverSideEncryption: 'aws:kms' })
  await box.close()
  const before = await readFile(`${location}.key`)
  const inode = (await stat(`${location}.key`)).ino
  t.same(Object.keys((JSON.parse(before.toString()) as KeyFile).keys), ['local-1'])

  const again = await Spacebox.open({ location })
  t.equal(await (await again.getObject('bkt', 'old')).body.toArray().then(c => Buffer.concat(c).toString()), 'sealed before')
  await again.close()
  const withKnownKey = await Spacebox.open({ location, kmsKeys: ['local-1'] })
  await withKnownKey.close()
  t.same(await readFile(`${location}.key`), before, 'not a byte changed, even when kmsKeys names only keys it has')
  t.equal((await stat(`${location}.key`)).ino, inode, 'and the file was not rewritten')
})

t.test('kmsKeys adds named keys to the key file: atomically, mode 0600, every other entry as written', async t => {
  withoutEnvKey(t)
  const location = await tempDir(t)
  const box = await Spacebox.open({ location })
  await box.createBucket('bkt')
  await box.putObject('bkt', 'old', 'sealed before', { serverSideEncryption: 'aws:kms' })
  await box.close()
  // As a hand-edited file may be: the key in hex, compact JSON, a field of its own, readable by the group.
  const original = await readKeyFile(location)
  const hex = Buffer.from(original.keys['local-1'] as string, 'base64').toString('hex')
  await writeFile(`${location}.key`, JSON.stringify({ note: 'kept', current: 'local-1', keys: { 'local-1': hex } }))
  await chmod(`${location}.key`, 0o640)
  const inode = (await stat(`${location}.key`)).ino

  const named = await Spacebox.open({ location, kmsKeys: ['alpha', 'beta', 'alpha'] })
  const file = JSON.parse(await readFile(`${location}.key`, 'utf8')) as KeyFile & { note: string }
  t.equal(file.note, 'kept', 'fields of the file are kept')
  t.equal(file.current, 'local-1', 'the default key stays the default')
  t.same(Object.keys(file.keys), ['local-1', 'alpha', 'beta'], 'new keys follow the old, once each')
  t.equal(file.keys['local-1'], hex, 'the old key is kept exactly as written')
  for (const id of ['alpha', 'beta']) t.equal(Buffer.from(file.keys[id] as string, 'base64').length, 32, `${id}: 32 bytes`)
  t.not(file.keys.alpha, file.keys.beta, 'each key is its own random bytes')
  t.equal((await stat(`${location}.key`)).mode & 0o777, 0o600, 'mode 0600')
  t.not((await stat(`${location}.key`)).ino, inode, 'replaced by a rename, never written in place')
  t.same(await leftovers(location), [], 'no temporary file left')

  await named.putObject('bkt', 'new', 'sealed under alpha', { serverSideEncryption: 'aws:kms', masterKeyId: 'alpha' })
  t.match(await named.headObject('bkt', 'new'), { masterKeyId: 'alpha', masterKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/alpha' })
  await named.close()

  const plain = await Spacebox.open({ location })
  const read = async (key: string): Promise<string> => Buffer.concat(await (await plain.getObject('bkt', key)).body.toArray()).toString()
  t.equal(await read('old'), 'sealed before', 'objects under the old key still open')
  t.equal(await read('new'), 'sealed under alpha', 'a named key outlives the open that made it')
  t.same((await keyFileIds(location))?.ids, ['local-1', 'alpha', 'beta'])
  await plain.close()
})

t.test('a new store made with kmsKeys gets its own key and the named ones in its first key file', async t => {
  withoutEnvKey(t)
  const location = await tempDir(t)
  await (await Spacebox.open({ location, kmsKeys: ['k1'] })).close()
  const file = await readKeyFile(location)
  t.equal(file.current, 'local-1')
  t.same(Object.keys(file.keys), ['local-1', 'k1'])
  t.equal((await stat(`${location}.key`)).mode & 0o777, 0o600)
})

t.test('kmsKeys where named keys could not outlive the process, or with a bad name, are refused', async t => {
  withoutEnvKey(t)
  const location = await tempDir(t)
  await t.rejects(Spacebox.open({ location, kmsKeys: ['a'], masterKey: randomBytes(32) }), TypeError, 'masterKey replaces the key file')
  await t.rejects(Spacebox.open({ memory: true, kmsKeys: ['a'], keyProvider: new LocalKeyProvider({ a: randomBytes(32) }) }), TypeError, 'a provider of one\'s own holds its keys')
  const { MemoryLevel } = await import('memory-level')
  await t.rejects(Spacebox.open({ db: new MemoryLevel(), masterKey: randomBytes(32), kmsKeys: ['a'] }), TypeError, 'a caller\'s db has no key file')
  await t.rejects(Spacebox.open({ memory: true, kmsKeys: ['a/b'] }), RangeError)
  await t.rejects(Spacebox.open({ memory: true, kmsKeys: 'a' as unknown as string[] }), TypeError)
  process.env.SPACEBOX_MASTER_KEY = randomBytes(32).toString('base64')
  await t.rejects(Spacebox.open({ location, kmsKeys: ['a'] }), { code: 'InvalidMasterKey' }, 'SPACEBOX_MASTER_KEY replaces the key file')
  const memory = await Spacebox.open({ memory: true, kmsKeys: ['a'] })
  await memory.createBucket('bkt')
  t.match(await memory.putObject('bkt', 'k', 'x', { serverSideEncryption: 'aws:kms', masterKeyId: 'a' }), { masterKeyId: 'a' }, 'in memory, named keys are random ones')
  await memory.close()
  delete process.env.SPACEBOX_MASTER_KEY
})

t.test('the engine takes any form of a name, and reports the ARN of the bucket\'s region', async t => {
  const box = await Spacebox.open({ memory: true, region: 'eu-west-1', kmsKeys: ['k'] })
  t.teardown(async () => { await box.close() })
  await box.createBucket('here')
  await box.createBucket('there', { region: 'ap-south-1' })
  for (const masterKeyId of ['k', 'alias/k', 'arn:aws:kms:eu-west-1:000000000000:key/k', 'arn:aws:kms:eu-west-1:000000000000:alias/k']) {
    const put = await box.putObject('here', 'o', 'x', { serverSideEncryption: 'aws:kms', masterKeyId })
    t.match(put, { masterKeyId: 'k', masterKeyArn: 'arn:aws:kms:eu-west-1:000000000000:key/k' }, masterKeyId)
  }
  t.match(await box.putObject('there', 'o', 'x', { serverSideEncryption: 'aws:kms', masterKeyId: 'k' }), { masterKeyArn: 'arn:aws:kms:ap-south-1:000000000000:key/k' })
  await t.rejects(box.putObject('there', 'p', 'x', { serverSideEncryption: 'aws:kms', masterKeyId: 'arn:aws:kms:eu-west-1:000000000000:key/k' }), { code: 'InvalidMasterKey' },
    'a key ARN of another region than the bucket\'s')
  // A bucket default given as an ARN is resolved too, for new bucket keys as for objects.
  await box.putBucketEncryption('here', { algorithm: 'aws:kms', masterKeyId: 'arn:aws:kms:eu-west-1:000000000000:key/k', bucketKeyEnabled: true })
  t.match(await box.putObject('here', 'dflt', 'x'), { masterKeyId: 'k', bucketKeyEnabled: true })
  await box.rotateBucketKey('here')
  t.match(await box.putObject('here', 'dflt2', 'x'), { masterKeyId: 'k', bucketKeyEnabled: true }, 'after a bucket-key rotation')
})

// A writer adding keys in a loop is killed at a random moment; readers meanwhile, and the file
// afterwards, must show a whole key file holding every key the writer had acknowledged. The child
// loads the TypeScript source through the loader tap gave this process.
t.test('a writer killed while adding keys leaves a whole key file with every acknowledged key', async t => {
  withoutEnvKey(t)
  const loader = process.execArgv.filter(arg => arg.includes('@tapjs/typescript'))
  const module = fileURLToPath(new URL('../lib/crypto/master-key.ts', import.meta.url))
  const cycle = async (killAfterMs: number): Promise<void> => {
    const location = await tempDir(t)
    t.teardown(async () => { for (const name of await leftovers(location)) await rm(join(dirname(location), name), { force: true }) })
    await (await Spacebox.open({ location })).close()
    const ownKey = (await readKeyFile(location)).keys['local-1']
    const script = `const { keyFileProvider } = await import(${JSON.stringify(module)})
      for (let i = 0; ; i++) { await keyFileProvider(process.env.KMS_LOCATION, false, ['k' + i]); process.stdout.write('k' + i + '\\n') }`
    const child = spawn(process.execPath, [...loader, '--input-type=module', '-e', script], { env: { ...process.env, KMS_LOCATION: location, TS_NODE_TRANSPILE_ONLY: '1' } })
    t.teardown(() => { child.kill('SIGKILL') })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
    let err = ''
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
    const exited = once(child, 'exit')
    let torn = 0
    let reads = 0
    for (let waited = 0; !out.includes('k20\n') && child.exitCode === null && waited < 60_000; waited += 5) {
      await sleep(5)
      const text = await readFile(`${location}.key`, 'utf8')
      reads++
      try {
        if ((JSON.parse(text) as KeyFile).keys['local-1'] !== ownKey) torn++
      } catch {
        torn++
      }
    }
    t.ok(out.includes('k20\n'), `the writer ran (${err.slice(0, 500)})`)
    await sleep(killAfterMs)
    child.kill('SIGKILL')
    await exited
    const acknowledged = out.split('\n').filter(line => line !== '')
    const file = await readKeyFile(location)
    t.equal(torn, 0, `${reads} reads while it wrote, none of a torn file`)
    t.equal(file.keys['local-1'], ownKey, 'the store\'s own key is intact')
    t.same(acknowledged.filter(id => !Object.hasOwn(file.keys, id)), [], `all ${acknowledged.length} acknowledged keys are in the file`)
    t.ok((await keyFileIds(location))?.ids.includes('local-1'), 'the file is well formed')
    t.equal((await stat(`${location}.key`)).mode & 0o777, 0o600)
    for (const name of await leftovers(location)) {
      // A temporary file the kill cut short: never renamed, so never relied on; private all the same.
      t.equal((await stat(join(dirname(location), name))).mode & 0o777, 0o600, `${name} is private`)
    }
    await (await Spacebox.open({ location, kmsKeys: ['after'] })).close()
    t.same(await leftovers(location), [], 'the next writer removes what a killed one left')
  }
  await Promise.all([cycle(Math.floor(Math.random() * 30)), cycle(Math.floor(Math.random() * 30))])
})

/** One `spacebox` run in this process, its output collected (as test/cli.test.ts runs it). */
function cli (argv: string[]): { code: Promise<number>, out: () => string, err: () => string, stop: () => Promise<number> } {
  let out = ''
  let err = ''
  const stop = new AbortController()
  const code = run(argv, { stdout: { write: s => { out += s } }, stderr: { write: s => { err += s } }, env: {}, signal: stop.signal })
  return { code, out: () => out, err: () => err, stop: async () => { stop.abort(); return await code } }
}

async function served (t: Tap, argv: string[]): Promise<{ out: () => string, url: string, credentials: { accessKeyId: string, secretAccessKey: string } }> {
  const server = cli(['serve', '--port', '0', '--key', 'app', '--full-access', ...argv])
  t.teardown(async () => { await server.stop() })
  for (let waited = 0; !/AWS_SECRET_ACCESS_KEY=\S+\n/.test(server.out()) && waited < 10_000; waited += 10) await sleep(10)
  const out = server.out()
  const url = /serving (http:\/\/\S+)/.exec(out)?.[1] ?? ''
  const [, accessKeyId = '', secretAccessKey = ''] = /AWS_ACCESS_KEY_ID=(\S+)\n\s+export AWS_SECRET_ACCESS_KEY=(\S+)\n/.exec(out) ?? []
  return { out: server.out, url, credentials: { accessKeyId, secretAccessKey } }
}

t.test('serve --kms-key makes named keys a client can name over HTTP, once', async t => {
  withoutEnvKey(t)
  const data = join(await tempDir(t), 'data')
  const first = await served(t, ['--data', data, '--region', 'us-east-1', '--bucket', 'enc', '--kms-key', 'k1', '--kms-key', 'k2'])
  t.match(first.out(), /^KMS key k1: created, arn:aws:kms:us-east-1:000000000000:key\/k1$/m)
  t.match(first.out(), /^KMS key k2: created, arn:aws:kms:us-east-1:000000000000:key\/k2$/m)
  const client = new S3Client({ endpoint: first.url, region: 'us-east-1', forcePathStyle: true, credentials: first.credentials, maxAttempts: 1 })
  t.teardown(() => client.destroy())
  const put = await client.send(new PutObjectCommand({ Bucket: 'enc', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'k1' }))
  t.equal(put.SSEKMSKeyId, 'arn:aws:kms:us-east-1:000000000000:key/k1', 'PutObject by name answers the ARN')
  const byArn = await client.send(new PutObjectCommand({ Bucket: 'enc', Key: 'k2', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'arn:aws:kms:us-east-1:000000000000:key/k2' }))
  t.equal(byArn.SSEKMSKeyId, 'arn:aws:kms:us-east-1:000000000000:key/k2', 'and by ARN')
  const file = await readKeyFile(join(data, 'store'))
  t.same(Object.keys(file.keys), ['local-1', 'k1', 'k2'], 'kept in the key file')
  t.notOk(Object.values(file.keys).some(key => first.out().includes(key)), 'no key material is printed')
})

t.test('spacebox kms create and list work on a stopped data directory, and refuse one in use', async t => {
  withoutEnvKey(t)
  const data = join(await tempDir(t), 'data')
  const server = cli(['serve', '--data', data, '--port', '0', '--kms-key', 'first'])
  for (let waited = 0; !/^KMS key first: created/m.test(server.out()) && waited < 10_000; waited += 10) await sleep(10)
  t.match(server.out(), /^KMS key first: created, arn:aws:kms:nyc3:000000000000:key\/first$/m, 'serve names the ARN in its region (default nyc3)')

  const listed = cli(['kms', 'list', '--data', data])
  t.equal(await listed.code, 0, 'list works while the server runs')
  t.equal(listed.out(), [
    'NAME     ARN (nyc3)                                 DEFAULT',
    'local-1  arn:aws:kms:nyc3:000000000000:key/local-1  yes',
    'first    arn:aws:kms:nyc3:000000000000:key/first',
    ''
  ].join('\n'))
  const before = await readFile(join(data, 'store.key'))
  const busy = cli(['kms', 'create', 'second', '--data', data])
  t.equal(await busy.code, 1, 'create refuses a store in use')
  t.equal(busy.err(), `spacebox: ${data} is in use by a running spacebox (its store is locked): stop it first, or restart it with --kms-key second\n`)
  t.same(await readFile(join(data, 'store.key')), before, 'and leaves the key file alone')
  t.equal(await server.stop(), 0)

  const created = cli(['kms', 'create', 'second', '--data', data, '--region', 'eu-west-1'])
  t.equal(await created.code, 0, created.err())
  t.match(created.out(), /^Created KMS key second in .*store\.key \(32 random bytes, never shown\)\.\nName it as second or arn:aws:kms:eu-west-1:000000000000:key\/second \(for buckets in eu-west-1\)\.\n$/)
  const file = await readKeyFile(join(data, 'store'))
  t.same(Object.keys(file.keys), ['local-1', 'first', 'second'])
  t.notOk(created.out().includes(file.keys.second as string), 'the key itself is never printed')
  t.equal((await stat(join(data, 'store.key'))).mode & 0o777, 0o600)

  const again = cli(['kms', 'create', 'second', '--data', data])
  t.equal(await again.code, 1)
  t.match(again.err(), /^spacebox: KMS key second exists already in .*store\.key\n$/)

  const restarted = cli(['serve', '--data', data, '--port', '0', '--kms-key', 'first', '--kms-key', 'third'])
  for (let waited = 0; !/^KMS key third/m.test(restarted.out()) && waited < 10_000; waited += 10) await sleep(10)
  t.match(restarted.out(), /^KMS key first: exists, arn:aws:kms:nyc3:000000000000:key\/first$/m, 'a restart with the same --kms-key makes no second key')
  t.match(restarted.out(), /^KMS key third: created, /m)
  t.equal(await restarted.stop(), 0)
  t.same(Object.keys((await readKeyFile(join(data, 'store'))).keys), ['local-1', 'first', 'second', 'third'])
})

t.test('spacebox kms: bad arguments exit 2, a missing store or key file exits 1', async t => {
  withoutEnvKey(t)
  const dir = await tempDir(t)
  for (const argv of [['kms'], ['kms', 'delete', 'x', '--data', dir], ['kms', 'create', '--data', dir], ['kms', 'create', 'a/b', '--data', dir],
    ['kms', 'create', 'a', 'b', '--data', dir], ['kms', 'create', 'a'], ['kms', 'list'], ['kms', 'list', 'x', '--data', dir], ['kms', 'list', '--data', dir, '--bogus'],
    ['serve', '--memory', '--kms-key', 'arn:aws:kms:x']]) {
    const command = cli(argv)
    t.equal(await command.code, 2, argv.join(' '))
    t.match(command.err(), /^spacebox: .+\n\nUsage:/)
  }
  const noStore = cli(['kms', 'create', 'k', '--data', join(dir, 'nothing')])
  t.equal(await noStore.code, 1)
  t.match(noStore.err(), /holds no store/)
  await t.rejects(stat(join(dir, 'nothing')), { code: 'ENOENT' }, 'and made none')
  const noFile = cli(['kms', 'list', '--data', join(dir, 'nothing')])
  t.equal(await noFile.code, 1)
  t.match(noFile.err(), /has no key file/)
  const help = cli(['kms', '--help'])
  t.equal(await help.code, 0)
  t.match(help.out(), /spacebox kms create NAME --data DIR/)
})

t.test('serve --kms-key in memory, and with SPACEBOX_MASTER_KEY (which replaces the key file)', async t => {
  withoutEnvKey(t)
  const memory = await served(t, ['--memory', '--bucket', 'enc', '--kms-key', 'mem'])
  t.match(memory.out(), /^KMS key mem: created \(in memory: gone when stopped\), arn:aws:kms:nyc3:000000000000:key\/mem$/m)
  const client = new S3Client({ endpoint: memory.url, region: 'nyc3', forcePathStyle: true, credentials: memory.credentials, maxAttempts: 1 })
  t.teardown(() => client.destroy())
  await client.send(new PutObjectCommand({ Bucket: 'enc', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/mem' }))
  t.equal((await client.send(new HeadObjectCommand({ Bucket: 'enc', Key: 'k' }))).SSEKMSKeyId, 'arn:aws:kms:nyc3:000000000000:key/mem')

  process.env.SPACEBOX_MASTER_KEY = randomBytes(32).toString('base64')
  const data = join(await tempDir(t), 'data')
  const refused = cli(['serve', '--data', data, '--port', '0', '--kms-key', 'k'])
  t.equal(await refused.code, 1)
  t.match(refused.err(), /^spacebox: cannot open the store in .*: Named KMS keys are kept in the store's key file, which SPACEBOX_MASTER_KEY replaces/)
  delete process.env.SPACEBOX_MASTER_KEY
})
