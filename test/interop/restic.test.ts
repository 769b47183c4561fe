// restic, unmodified, against `spacebox serve`: a repository in a bucket, backed up, checked
// byte for byte, pruned and restored.
import t from 'tap'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { bytes, cliMissing, clientEnv, digestFiles, digestTree, MiB, oracle, run, said, startServer, tempDir, which, writeTree, type Credentials, type Ran } from './helpers.js'

const RESTIC = which('restic')
const missing = cliMissing() ?? (RESTIC === undefined ? 'restic is not installed here (apt-get install restic)' : undefined)

interface Summary { message_type: string, files_new: number, files_changed: number, files_unmodified: number, total_bytes_processed: number, snapshot_id: string }
interface Snapshot { id: string, paths: string[] }

if (RESTIC === undefined || missing !== undefined) {
  t.plan(0, missing)
} else {
  const server = await startServer(t, { buckets: ['restic-data'] })
  const check = oracle(t, server)
  const dir = await tempDir(t)
  const restic = async (creds: Credentials, args: string[], stopWhen?: RegExp): Promise<Ran> => await run(RESTIC, args, {
    cwd: dir,
    timeout: 120_000,
    ...(stopWhen === undefined ? {} : { stopWhen }),
    env: clientEnv(dir, {
      RESTIC_REPOSITORY: `s3:${server.url}/restic-data/repo`,
      RESTIC_PASSWORD: 'correct horse battery staple',
      RESTIC_CACHE_DIR: join(dir, 'cache'),
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1'
    })
  })
  const admin = async (...args: string[]): Promise<Ran> => await restic(server.key, args)
  /** The summary line of `restic backup --json`. */
  const summary = (ran: Ran): Summary | undefined => ran.stdout.trim().split('\n').map(line => JSON.parse(line) as Summary).find(m => m.message_type === 'summary')

  t.comment(`restic: ${RESTIC}, ${(await run(RESTIC, ['version'], { env: clientEnv(dir) })).stdout.trim()}`)

  const files: Record<string, Buffer | string> = {
    'notes.txt': 'notes',
    empty: '',
    'docs/a.md': '# a',
    'docs/deep/b.json': '{"b":2}',
    'media/video.bin': bytes(8 * MiB, 50),
    'media/photo.bin': bytes(700_000, 51)
  }
  const source = join(dir, 'src')
  await writeTree(source, files)

  t.test('restic init makes a repository in the bucket, backs up a folder, and check --read-data reads every pack back intact', async t => {
    const init = await admin('init')
    t.equal(init.code, 0, said(init))
    t.match(init.stdout, /created restic repository \S+ at s3:/)
    const stored = await check.keys('restic-data', 'repo/')
    t.ok(stored.includes('repo/config'), 'the repository\'s config is an object')
    t.ok(stored.some(k => k.startsWith('repo/keys/')), 'and so is its key')

    const backup = await admin('backup', '--json', 'src')
    t.equal(backup.code, 0, said(backup))
    const done = summary(backup)
    t.equal(done?.files_new, Object.keys(files).length, 'every file is new')
    t.equal(done?.total_bytes_processed, Object.values(files).reduce((n, f) => n + Buffer.byteLength(f), 0), 'every byte was read')
    t.ok((await check.keys('restic-data', 'repo/data/')).length > 0, 'packs were written to the bucket')

    const snapshots = await admin('snapshots', '--json')
    t.equal(snapshots.code, 0, said(snapshots))
    t.same((JSON.parse(snapshots.stdout) as Snapshot[]).map(s => s.paths), [[source]], 'one snapshot, of the folder')

    const checked = await admin('check', '--read-data')
    t.equal(checked.code, 0, said(checked))
    t.match(checked.stdout, 'no errors were found')
  })

  t.test('a second backup reuses what is stored, forget --prune deletes the old snapshot\'s data, and restore gives the folder back byte for byte', async t => {
    await writeTree(source, { 'notes.txt': 'notes, edited', 'docs/new.txt': 'new' })
    await rm(join(source, 'docs/a.md'))
    const backup = await admin('backup', '--json', 'src')
    t.equal(backup.code, 0, said(backup))
    const done = summary(backup)
    t.same([done?.files_new, done?.files_changed, done?.files_unmodified], [1, 1, Object.keys(files).length - 2], 'one new, one changed, the rest found unchanged')

    const forget = await admin('forget', '--keep-last', '1', '--prune')
    t.equal(forget.code, 0, said(forget))
    const snapshots = JSON.parse((await admin('snapshots', '--json')).stdout) as Snapshot[]
    t.same(snapshots.map(s => s.id.slice(0, 8)), [done?.snapshot_id.slice(0, 8)], 'only the newest snapshot is left')
    const checked = await admin('check', '--read-data')
    t.equal(checked.code, 0, said(checked))
    t.match(checked.stdout, 'no errors were found')

    const target = join(dir, 'restored')
    const restore = await admin('restore', 'latest', '--target', target)
    t.equal(restore.code, 0, said(restore))
    const want = Object.fromEntries(Object.entries(await digestTree(source)).map(([k, v]) => [`src/${k}`, v]))
    t.same(await digestTree(target), want, 'the restored folder is the source, byte for byte')
    t.not(want['src/notes.txt'], digestFiles(files)['notes.txt'], 'as of the second backup')
  })

  t.test('a key that may only read the bucket restores with --no-lock, and its backup is refused with Access Denied at the first write', async t => {
    const reader = await server.createKey('restic-reader', [{ bucket: 'restic-data', permission: 'read' }])
    const target = join(dir, 'restored-by-reader')
    const restore = await restic(reader, ['--no-lock', 'restore', 'latest', '--target', target])
    t.equal(restore.code, 0, said(restore))
    t.same(await digestTree(target), await digestTree(join(dir, 'restored')), 'it restores the same files')

    // restic takes every error for a passing one and retries the refused lock for about 45 s; the
    // first refusal is the answer this test is after, so restic is stopped there.
    const before = await check.keys('restic-data', 'repo/')
    const backup = await restic(reader, ['backup', 'src'], /Access Denied/)
    t.not(backup.code, 0, 'its backup does not succeed')
    t.match(backup.stderr, /Save\(<lock\/[0-9a-f]+>\) returned error, retrying after \S+: client\.PutObject: Access Denied/, 'its lock, the first thing it writes, is refused')
    t.same(await check.keys('restic-data', 'repo/'), before, 'and nothing is written')
  })

  t.test('the server reported no failure, and SIGTERM stops it with exit code 0', async t => {
    t.equal(server.stderr(), '', 'nothing on stderr: no request ended in a 500')
    t.equal(await server.stop(), 0)
  })
}
