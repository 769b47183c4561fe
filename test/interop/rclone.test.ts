// rclone, unmodified, against `spacebox serve`: remotes from RCLONE_CONFIG_* variables only.
import t from 'tap'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytes, cliMissing, clientEnv, digestFiles, digestTree, MiB, oracle, run, said, startServer, tempDir, which, writeTree, type Credentials, type Ran } from './helpers.js'

const RCLONE = which('rclone')
const missing = cliMissing() ?? (RCLONE === undefined ? 'rclone is not installed here (apt-get install rclone)' : undefined)

if (RCLONE === undefined || missing !== undefined) {
  t.plan(0, missing)
} else {
  const server = await startServer(t, { buckets: ['rclone-data', 'rclone-other'] })
  const check = oracle(t, server)
  const dir = await tempDir(t)
  const config = join(dir, 'rclone.conf')
  await writeFile(config, '')
  const remote = (name: string, creds: Credentials): Record<string, string> => {
    const prefix = `RCLONE_CONFIG_${name}_`
    return {
      [`${prefix}TYPE`]: 's3',
      [`${prefix}PROVIDER`]: 'Other',
      [`${prefix}ENDPOINT`]: server.url,
      [`${prefix}FORCE_PATH_STYLE`]: 'true',
      [`${prefix}REGION`]: 'us-east-1',
      [`${prefix}ACCESS_KEY_ID`]: creds.accessKeyId,
      [`${prefix}SECRET_ACCESS_KEY`]: creds.secretAccessKey
    }
  }
  const reader = await server.createKey('rclone-reader', [{ bucket: 'rclone-data', permission: 'read' }])
  const env = clientEnv(dir, { ...remote('SB', server.key), ...remote('RO', reader) })
  // Files over 5 MiB go up in 5 MiB parts; a refusal is final, not retried.
  const rclone = async (...args: string[]): Promise<Ran> => await run(RCLONE, ['--config', config, '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', '--retries', '1', '--low-level-retries', '1', ...args], { env, cwd: dir })

  t.comment(`rclone: ${RCLONE}, ${(await run(RCLONE, ['version'], { env })).stdout.split('\n')[0] ?? ''}`)

  const files: Record<string, Buffer | string> = {
    'a.txt': 'alpha',
    empty: '',
    'docs/b.md': '# bee',
    'docs/deep/c.json': '{"c":1}',
    'names/with space é.txt': 'spaced, accented',
    'big/big.bin': bytes(12 * MiB, 40)
  }
  const local = join(dir, 'tree')
  await writeTree(local, files)

  t.test('rclone copy sends a tree (12 MiB in 5 MiB parts), and rclone check, by hash and by download, finds it identical', async t => {
    const copy = await rclone('copy', local, 'SB:rclone-data/tree')
    t.equal(copy.code, 0, said(copy))
    t.same(await check.keys('rclone-data', 'tree/'), Object.keys(files).map(k => `tree/${k}`).sort(), 'every file became an object')
    t.match(await check.etag('rclone-data', 'tree/big/big.bin'), /^"[0-9a-f]{32}-3"$/, 'the big file went up as a three-part multipart upload')
    const listed = await rclone('lsf', '--recursive', '--files-only', 'SB:rclone-data/tree')
    t.same(listed.stdout.trim().split('\n').sort(), Object.keys(files).sort(), 'rclone lists what it sent')

    const byHash = await rclone('check', local, 'SB:rclone-data/tree')
    t.equal(byHash.code, 0, said(byHash))
    t.match(byHash.stderr, '0 differences found')
    t.match(byHash.stderr, `${Object.keys(files).length} matching files`)
    t.notMatch(byHash.stderr, /hashes could not be checked/, 'every hash was compared, the multipart one too')
    const byBytes = await rclone('check', '--download', local, 'SB:rclone-data/tree')
    t.equal(byBytes.code, 0, said(byBytes))
    t.match(byBytes.stderr, `${Object.keys(files).length} matching files`)
  })

  t.test('rclone sync mirrors a change up (new, changed, deleted files) and the bucket back down into an empty folder', async t => {
    await writeTree(local, { 'a.txt': 'alpha, changed', 'docs/new.txt': 'new' })
    await rm(join(local, 'docs/b.md'))
    const up = await rclone('sync', local, 'SB:rclone-data/tree')
    t.equal(up.code, 0, said(up))
    const now = await digestTree(local)
    t.same(await check.keys('rclone-data', 'tree/'), Object.keys(now).map(k => `tree/${k}`).sort(), 'the bucket holds exactly the folder\'s files')
    const checked = await rclone('check', local, 'SB:rclone-data/tree')
    t.equal(checked.code, 0, said(checked))

    const back = join(dir, 'back')
    const down = await rclone('sync', 'SB:rclone-data/tree', back)
    t.equal(down.code, 0, said(down))
    t.same(await digestTree(back), now, 'the tree came back byte for byte')
    t.not(now['a.txt'], digestFiles(files)['a.txt'], 'with the changed file changed')
  })

  t.test('rclone with a key that may read one bucket reads it, and its writes and the other bucket are refused with AccessDenied', async t => {
    await check.put('rclone-other', 'seed.txt', 'other')
    const cat = await rclone('cat', 'RO:rclone-data/tree/docs/new.txt')
    t.equal(cat.code, 0, said(cat))
    t.equal(cat.stdout, 'new', 'it reads its bucket')

    await writeTree(join(dir, 'denied'), { 'denied.txt': 'denied' })
    const copy = await rclone('copy', join(dir, 'denied'), 'RO:rclone-data/tree')
    t.not(copy.code, 0, 'a copy into its bucket fails')
    t.match(copy.stderr, /AccessDenied/, copy.stderr.trim().split('\n').at(-1) ?? '')
    t.equal(await check.etag('rclone-data', 'tree/denied.txt'), undefined, 'nothing was written')
    const del = await rclone('deletefile', 'RO:rclone-data/tree/a.txt')
    t.not(del.code, 0, 'a delete in its bucket fails')
    t.match(del.stderr, /AccessDenied/)
    t.not(await check.etag('rclone-data', 'tree/a.txt'), undefined, 'the object is still there')

    const other = await rclone('lsf', 'RO:rclone-other')
    t.not(other.code, 0, 'a listing of the other bucket fails')
    t.match(other.stderr, /AccessDenied/)
  })

  t.test('the server reported no failure, and SIGTERM stops it with exit code 0', async t => {
    t.equal(server.stderr(), '', 'nothing on stderr: no request ended in a 500')
    t.equal(await server.stop(), 0)
  })
}
