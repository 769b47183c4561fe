// s3cmd, unmodified, against `spacebox serve`: once signing with SigV2, once with SigV4.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytes, cliMissing, clientEnv, MiB, oracle, run, said, sha256, startServer, tempDir, which, type Credentials, type Ran } from './helpers.js'

const S3CMD = which('s3cmd')
const missing = cliMissing() ?? (S3CMD === undefined ? 's3cmd is not installed here (apt-get install s3cmd)' : undefined)

// s3cmd's exit code for a refused request (EX_ACCESSDENIED in S3/ExitCodes.py).
const EX_ACCESSDENIED = 77

if (S3CMD === undefined || missing !== undefined) {
  t.plan(0, missing)
} else {
  const server = await startServer(t, { buckets: ['s3cmd-data', 's3cmd-other'] })
  const check = oracle(t, server)
  const dir = await tempDir(t)
  const env = clientEnv(dir)

  /** s3cmd with a config file of its own for this key and signature version. */
  const s3cmd = async (creds: Credentials, v2: boolean, ...args: string[]): Promise<Ran> => {
    const config = join(dir, `s3cfg-${creds.accessKeyId}-${v2 ? 'v2' : 'v4'}`)
    await writeFile(config, [
      '[default]',
      `access_key = ${creds.accessKeyId}`,
      `secret_key = ${creds.secretAccessKey}`,
      `host_base = 127.0.0.1:${server.port}`,
      `host_bucket = 127.0.0.1:${server.port}`,
      'use_https = False',
      `signature_v2 = ${v2 ? 'True' : 'False'}`,
      'bucket_location = us-east-1',
      ''
    ].join('\n'))
    return await run(S3CMD, ['-c', config, ...args], { env, cwd: dir })
  }
  /** The last column of each line of `s3cmd ls`: the URLs listed. */
  const urls = (ran: Ran): string[] => ran.stdout.trim().split('\n').filter(line => line !== '').map(line => line.split(/\s+/).at(-1) ?? '')

  t.comment(`s3cmd: ${S3CMD}, ${(await run(S3CMD, ['--version'], { env })).stdout.trim()}`)

  const data = bytes(12 * MiB, 30)
  await writeFile(join(dir, 'big.bin'), data)
  await writeFile(join(dir, 'small.txt'), 'small')

  for (const v2 of [true, false]) {
    const sig = v2 ? 'SigV2' : 'SigV4'
    const bucket = `s3cmd-${v2 ? 'v2' : 'v4'}`

    t.test(`s3cmd (${sig}) makes a bucket, puts 12 MiB in 5 MiB parts, gets it back byte for byte, lists, deletes and removes the bucket`, async t => {
      const s3 = async (...args: string[]): Promise<Ran> => await s3cmd(server.key, v2, ...args)
      const mb = await s3('mb', `s3://${bucket}`)
      t.equal(mb.code, 0, said(mb))
      t.match(mb.stdout, `Bucket 's3://${bucket}/' created`)
      t.ok((await check.buckets()).includes(bucket), 'the bucket exists')

      const put = await s3('put', '--multipart-chunk-size-mb=5', join(dir, 'big.bin'), `s3://${bucket}/dir/big.bin`)
      t.equal(put.code, 0, said(put))
      t.match(await check.etag(bucket, 'dir/big.bin'), /^"[0-9a-f]{32}-3"$/, 'stored as a three-part multipart upload')
      const small = await s3('put', join(dir, 'small.txt'), `s3://${bucket}/small.txt`)
      t.equal(small.code, 0, said(small))

      const out = join(dir, `big.${sig}`)
      const get = await s3('get', `s3://${bucket}/dir/big.bin`, out)
      t.equal(get.code, 0, said(get))
      const back = await readFile(out)
      t.equal(back.length, data.length)
      t.equal(sha256(back), sha256(data), 'the download is the same bytes')

      const top = await s3('ls', `s3://${bucket}`)
      t.equal(top.code, 0, said(top))
      t.same(urls(top), [`s3://${bucket}/dir/`, `s3://${bucket}/small.txt`], 'ls rolls dir/ up into a folder')
      t.match(top.stdout, /\s5\s+s3:\/\/\S+\/small\.txt/, 'with the object\'s size')
      const all = await s3('ls', '--recursive', `s3://${bucket}`)
      t.same(urls(all), [`s3://${bucket}/dir/big.bin`, `s3://${bucket}/small.txt`], 'ls --recursive lists every object')
      t.match(all.stdout, new RegExp(`\\s${12 * MiB}\\s+s3://\\S+/dir/big\\.bin`))

      const del = await s3('del', `s3://${bucket}/small.txt`, `s3://${bucket}/dir/big.bin`)
      t.equal(del.code, 0, said(del))
      t.same(await check.keys(bucket), [], 'both objects are gone')
      const rb = await s3('rb', `s3://${bucket}`)
      t.equal(rb.code, 0, said(rb))
      t.match(rb.stdout, `Bucket 's3://${bucket}/' removed`)
      const buckets = await s3('ls')
      t.same(urls(buckets), ['s3://s3cmd-data', 's3://s3cmd-other'], 'the bucket list no longer has it')
    })

    t.test(`s3cmd (${sig}) with a key that may read one bucket reads it, and is refused a write and the other bucket (403)`, async t => {
      await check.put('s3cmd-data', 'seed.txt', `seed ${sig}`)
      await check.put('s3cmd-other', 'seed.txt', 'other')
      const reader = await server.createKey(`s3cmd-reader-${sig}`, [{ bucket: 's3cmd-data', permission: 'read' }])
      const s3 = async (...args: string[]): Promise<Ran> => await s3cmd(reader, v2, ...args)

      const get = await s3('get', '--force', 's3://s3cmd-data/seed.txt', join(dir, 'seed.txt'))
      t.equal(get.code, 0, said(get))
      t.equal(await readFile(join(dir, 'seed.txt'), 'utf8'), `seed ${sig}`, 'it reads its bucket')
      const ls = await s3('ls', 's3://s3cmd-data')
      t.same(urls(ls), ['s3://s3cmd-data/seed.txt'], 'and lists it')

      // A get starts with a HEAD, whose 403 has no body to name the code: s3cmd shows the status.
      const refused: Array<[string, Ran, RegExp]> = [
        ['a put into its bucket', await s3('put', join(dir, 'small.txt'), 's3://s3cmd-data/denied.txt'), /S3 error: 403 \(AccessDenied\)/],
        ['a listing of the other bucket', await s3('ls', 's3://s3cmd-other'), /S3 error: 403 \(AccessDenied\)/],
        ['a get from the other bucket', await s3('get', '--force', 's3://s3cmd-other/seed.txt', join(dir, 'never.txt')), /S3 error: 403 \(Forbidden\)/]
      ]
      for (const [what, ran, answer] of refused) {
        t.equal(ran.code, EX_ACCESSDENIED, `${what} fails with s3cmd's access-denied exit code`)
        t.match(ran.stderr, answer, `${what}: ${ran.stderr.trim()}`)
      }
      t.equal(await check.etag('s3cmd-data', 'denied.txt'), undefined, 'nothing was written')
    })
  }

  t.test('the server reported no failure, and SIGTERM stops it with exit code 0', async t => {
    t.equal(server.stderr(), '', 'nothing on stderr: no request ended in a 500')
    t.equal(await server.stop(), 0)
  })
}
