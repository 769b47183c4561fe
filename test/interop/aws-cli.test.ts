// The AWS CLI (v1 from pip, or Debian's awscli, which is v2), unmodified, against `spacebox serve`.
import t from 'tap'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytes, cliMissing, clientEnv, digestFiles, digestTree, MiB, oracle, run, said, sha256, startServer, tempDir, which, writeTree, type Credentials, type Ran } from './helpers.js'

const AWS = which('aws')
const missing = cliMissing() ?? (AWS === undefined ? 'the AWS CLI (aws) is not installed here (apt-get install awscli)' : undefined)

if (AWS === undefined || missing !== undefined) {
  t.plan(0, missing)
} else {
  const server = await startServer(t, { buckets: ['aws-data', 'aws-other'] })
  const check = oracle(t, server)
  const dir = await tempDir(t)
  const home = join(dir, 'home')
  const credentialsFile = join(dir, 'credentials')
  const configFile = join(dir, 'config')
  await writeTree(home, { '.keep': '' })
  await writeFile(credentialsFile, '')
  // Anything over 5 MB goes up in 5 MB parts.
  await writeFile(configFile, '[default]\ns3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n')

  const aws = async (creds: Credentials, ...args: string[]): Promise<Ran> => await run(AWS, ['--endpoint-url', server.url, ...args], {
    cwd: dir,
    env: clientEnv(home, {
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: configFile,
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_MAX_ATTEMPTS: '1',
      AWS_PAGER: ''
    })
  })
  const admin = async (...args: string[]): Promise<Ran> => await aws(server.key, ...args)

  const version = await admin('--version')
  t.comment(`aws: ${AWS}, ${(version.stdout || version.stderr).trim()}`)

  t.test('aws s3 mb makes a bucket, s3 ls lists it, s3 rb removes it, and refuses a bucket that holds an object', async t => {
    const made = await admin('s3', 'mb', 's3://aws-made')
    t.equal(made.code, 0, said(made))
    t.match(made.stdout, 'make_bucket: aws-made')
    t.ok((await check.buckets()).includes('aws-made'), 'the bucket exists')
    const listed = await admin('s3', 'ls')
    t.same(listed.stdout.trim().split('\n').map(line => line.split(' ').at(-1)), ['aws-data', 'aws-made', 'aws-other'], 'every bucket, in order')
    const removed = await admin('s3', 'rb', 's3://aws-made')
    t.equal(removed.code, 0, said(removed))
    t.match(removed.stdout, 'remove_bucket: aws-made')
    t.notOk((await check.buckets()).includes('aws-made'), 'the bucket is gone')
    await check.put('aws-other', 'keep.txt', 'keep')
    const full = await admin('s3', 'rb', 's3://aws-other')
    t.not(full.code, 0, 'a bucket with an object is not removed')
    t.match(full.stderr, 'BucketNotEmpty')
    t.same(await check.keys('aws-other'), ['keep.txt'])
  })

  t.test('aws s3 cp sends a 12 MiB file in three 5 MiB parts and brings it back byte for byte', async t => {
    const data = bytes(12 * MiB, 20)
    await writeFile(join(dir, 'big.bin'), data)
    const up = await admin('s3', 'cp', '--no-progress', join(dir, 'big.bin'), 's3://aws-data/big/big.bin')
    t.equal(up.code, 0, said(up))
    t.match(await check.etag('aws-data', 'big/big.bin'), /^"[0-9a-f]{32}-3"$/, 'stored as a three-part multipart upload')
    const down = await admin('s3', 'cp', '--no-progress', 's3://aws-data/big/big.bin', join(dir, 'big.back'))
    t.equal(down.code, 0, said(down))
    const back = await readFile(join(dir, 'big.back'))
    t.equal(back.length, data.length)
    t.equal(sha256(back), sha256(data), 'the download is the same bytes')
  })

  t.test('aws s3 sync sends a tree, brings it back unchanged into an empty folder, and --delete mirrors a change', async t => {
    const files: Record<string, Buffer | string> = {
      'a.txt': 'alpha',
      'docs/b.md': '# bee',
      'docs/deep/c.json': '{"c":1}',
      'with space/d e.txt': 'spaced out',
      'bin/e.bin': bytes(300_000, 21)
    }
    const local = join(dir, 'sync-up')
    await writeTree(local, files)
    const up = await admin('s3', 'sync', '--no-progress', local, 's3://aws-data/tree')
    t.equal(up.code, 0, said(up))
    t.same(await check.keys('aws-data', 'tree/'), Object.keys(files).map(k => `tree/${k}`).sort(), 'every file became an object')

    const back = join(dir, 'sync-down')
    const down = await admin('s3', 'sync', '--no-progress', 's3://aws-data/tree', back)
    t.equal(down.code, 0, said(down))
    t.same(await digestTree(back), digestFiles(files), 'the tree came back byte for byte')

    const again = await admin('s3', 'sync', '--no-progress', local, 's3://aws-data/tree')
    t.equal(again.code, 0, said(again))
    t.equal(again.stdout.trim(), '', 'a second sync finds nothing to send: sizes and times listed agree with the files')

    await writeTree(local, { 'a.txt': 'alpha, changed', 'new.txt': 'new' })
    await rm(join(local, 'docs/b.md'))
    const mirror = await admin('s3', 'sync', '--no-progress', '--delete', local, 's3://aws-data/tree')
    t.equal(mirror.code, 0, said(mirror))
    // "upload: sync-up/a.txt to s3://aws-data/tree/a.txt" (the local path as the CLI chose to show it)
    const actions = mirror.stdout.trim().split('\n').map(line => `${line.split(':')[0] ?? ''} ${line.split(' ').at(-1) ?? ''}`).sort()
    t.same(actions, ['delete s3://aws-data/tree/docs/b.md', 'upload s3://aws-data/tree/a.txt', 'upload s3://aws-data/tree/new.txt'], 'only the change was sent')
    t.same(await check.keys('aws-data', 'tree/'), Object.keys(await digestTree(local)).map(k => `tree/${k}`).sort(), 'the bucket mirrors the folder')
  })

  t.test('aws s3api list-objects-v2 --page-size 2 pages through five keys and returns all of them, as does s3 ls', async t => {
    const keys = ['page/1', 'page/2', 'page/3', 'page/4', 'page/5']
    for (const key of keys) await check.put('aws-data', key, key)
    const listed = await admin('s3api', 'list-objects-v2', '--bucket', 'aws-data', '--prefix', 'page/', '--page-size', '2', '--debug')
    t.equal(listed.code, 0, said(listed))
    t.same((JSON.parse(listed.stdout) as { Contents: Array<{ Key: string }> }).Contents.map(c => c.Key), keys, 'the pages together hold every key once, in order')
    t.equal(listed.stderr.match(/Making request for OperationModel\(name=ListObjectsV2\)/g)?.length, 3, 'in three requests of 2, 2 and 1')
    const ls = await admin('s3', 'ls', '--page-size', '2', 's3://aws-data/page/')
    t.equal(ls.code, 0, said(ls))
    t.same(ls.stdout.trim().split('\n').map(line => line.split(' ').at(-1)), ['1', '2', '3', '4', '5'])
  })

  t.test('aws s3 presign makes a URL that fetch can GET without credentials, and the URL changed is refused', async t => {
    await check.put('aws-data', 'presign.txt', 'presigned body')
    await check.put('aws-data', 'other.txt', 'other')
    const signed = await admin('s3', 'presign', 's3://aws-data/presign.txt', '--expires-in', '300')
    t.equal(signed.code, 0, said(signed))
    const url = signed.stdout.trim()
    t.ok(url.startsWith(`${server.url}/aws-data/presign.txt?`), url)
    const res = await fetch(url)
    t.equal(res.status, 200)
    t.equal(await res.text(), 'presigned body')
    const forged = await fetch(url.replace('/presign.txt?', '/other.txt?'))
    t.equal(forged.status, 403, 'the signature covers the key')
    t.match(await forged.text(), '<Code>SignatureDoesNotMatch</Code>')
  })

  t.test('a key with read on one bucket reads it with aws, and is refused a write and the other bucket with AccessDenied', async t => {
    await check.put('aws-data', 'seed.txt', 'seed')
    await check.put('aws-other', 'seed.txt', 'seed')
    await writeFile(join(dir, 'seed.txt'), 'seed')
    const reader = await server.createKey('aws-reader', [{ bucket: 'aws-data', permission: 'read' }])

    const read = await aws(reader, 's3', 'cp', '--no-progress', 's3://aws-data/seed.txt', '-')
    t.equal(read.code, 0, said(read))
    t.equal(read.stdout, 'seed', 'it reads its bucket')
    const buckets = await aws(reader, 's3', 'ls')
    t.same(buckets.stdout.trim().split('\n').map(line => line.split(' ').at(-1)), ['aws-data'], 'it sees only the bucket it may read')

    const refused: Array<[string, Ran]> = [
      ['a write to its bucket', await aws(reader, 's3', 'cp', '--no-progress', join(dir, 'seed.txt'), 's3://aws-data/denied.txt')],
      ['a listing of the other bucket', await aws(reader, 's3', 'ls', 's3://aws-other/')],
      ['a read in the other bucket', await aws(reader, 's3api', 'get-object', '--bucket', 'aws-other', '--key', 'seed.txt', join(dir, 'never.txt'))]
    ]
    for (const [what, ran] of refused) {
      t.not(ran.code, 0, `${what} fails`)
      t.match(ran.stderr, /An error occurred \(AccessDenied\)/, `${what}: AccessDenied`)
    }
    t.equal(await check.etag('aws-data', 'denied.txt'), undefined, 'nothing was written')
  })

  t.test('the server reported no failure, and SIGTERM stops it with exit code 0', async t => {
    t.equal(server.stderr(), '', 'nothing on stderr: no request ended in a 500')
    t.equal(await server.stop(), 0)
  })
}
