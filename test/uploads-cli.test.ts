// `spacebox uploads list|abort` against a live `spacebox serve`, through the uploads API and the
// admin token, as test/cli.test.ts drives `keys`; and the API itself, for what the CLI does not ask.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3'
import { run } from '../lib/cli/run.js'
import { parseAge } from '../lib/s3/uploads-api.js'

interface Ran { code: number, out: string, err: string }

/** A `spacebox serve --memory` with buckets and a full-access key, stopped with the test. */
async function served (t: { teardown: (fn: () => unknown) => void }): Promise<{ url: string, token: string, s3: S3Client }> {
  let out = ''
  const stop = new AbortController()
  const code = run(['serve', '--memory', '--port', '0', '--bucket', 'photos', '--bucket', 'logs', '--key', 'admin', '--full-access'],
    { stdout: { write: s => { out += s } }, stderr: { write: () => {} }, env: {}, signal: stop.signal })
  t.teardown(async () => { stop.abort(); await code })
  for (let waited = 0; !/AWS_SECRET_ACCESS_KEY=\S+\n/.test(out); waited += 10) {
    if (waited > 10_000) throw new Error(`serve did not start: ${out}`)
    await sleep(10)
  }
  const url = /serving (http:\/\/\S+)/.exec(out)?.[1] ?? ''
  const token = /SPACEBOX_ADMIN_TOKEN=(\S+)\n/.exec(out)?.[1] ?? ''
  const [, accessKeyId = '', secretAccessKey = ''] = /AWS_ACCESS_KEY_ID=(\S+)\n\s+export AWS_SECRET_ACCESS_KEY=(\S+)\n/.exec(out) ?? []
  const s3 = new S3Client({ endpoint: url, region: 'nyc3', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } })
  t.teardown(() => { s3.destroy() })
  return { url, token, s3 }
}

async function uploads (url: string, token: string, ...argv: string[]): Promise<Ran> {
  let out = ''
  let err = ''
  const code = await run(['uploads', ...argv, '--endpoint', url], {
    stdout: { write: s => { out += s } }, stderr: { write: s => { err += s } }, env: { SPACEBOX_ADMIN_TOKEN: token }, signal: new AbortController().signal
  })
  return { code, out, err }
}

async function start (s3: S3Client, bucket: string, key: string): Promise<string> {
  const { UploadId = '' } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))
  await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'part one' }))
  return UploadId
}

t.test('uploads list and abort against a live server', async t => {
  const { url, token, s3 } = await served(t)
  const a = await start(s3, 'photos', 'raw/a.tif')
  const b = await start(s3, 'photos', 'raw/b.tif')
  const c = await start(s3, 'logs', 'app/today.log')
  await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'done.jpg', Body: 'kept' }))

  const list = await uploads(url, token, 'list')
  t.equal(list.code, 0, list.err)
  t.match(list.out, /^BUCKET +KEY +UPLOAD ID +INITIATED\n/)
  t.match(list.out, new RegExp(`^logs +app/today\\.log +${c} +\\d{4}-\\d\\d-\\d\\dT`, 'm'))
  t.equal(list.out.trim().split('\n').length, 4, 'three uploads, every bucket, in bucket order')
  const json = JSON.parse((await uploads(url, token, 'list', '--json')).out) as { uploads: Array<{ bucket: string, key: string, upload_id: string, initiated: string }> }
  t.same(json.uploads.map(u => [u.bucket, u.key, u.upload_id]), [['logs', 'app/today.log', c], ['photos', 'raw/a.tif', a], ['photos', 'raw/b.tif', b]])
  t.same(JSON.parse((await uploads(url, token, 'list', '--bucket', 'photos', '--prefix', 'raw/b', '--json')).out).uploads.map((u: { key: string }) => u.key), ['raw/b.tif'])
  t.equal((await uploads(url, token, 'list', '--older-than', '1d')).out, '(none)\n', 'none is a day old')

  const young = await uploads(url, token, 'abort', '--older-than', '7d')
  t.equal(young.out, 'No upload to abort.\n')
  const one = await uploads(url, token, 'abort', '--older-than', '0', '--bucket', 'photos', '--prefix', 'raw/a')
  t.match(one.out, new RegExp(`^Aborted 1 upload:\\nBUCKET +KEY +UPLOAD ID +INITIATED\\nphotos +raw/a\\.tif +${a} `))
  t.same((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'photos' }))).Uploads?.map(u => u.UploadId), [b], 'S3 sees it gone')
  const rest = JSON.parse((await uploads(url, token, 'abort', '--older-than', '0', '--json')).out)
  t.same(rest.uploads.map((u: { upload_id: string }) => u.upload_id), [c, b], 'every bucket')
  t.equal((await uploads(url, token, 'list')).out, '(none)\n')
})

t.test('uploads: bad arguments exit 2, failures exit 1 with one line', async t => {
  const { url, token } = await served(t)
  for (const [argv, pattern] of [
    [['--bucket', 'photos'], /unknown uploads subcommand "--bucket"/],
    [['purge'], /unknown uploads subcommand "purge"/],
    [['abort'], /abort needs --older-than/],
    [['list', '--older-than', '7 days'], /--older-than "7 days" is not an age/],
    [['list', '--older-than=-1d'], /"-1d" is not an age/],
    [['list', 'photos'], /takes no arguments/],
    [['list', '--buckets', 'photos'], /buckets/]
  ] as const) {
    const ran = await uploads(url, token, ...argv)
    t.equal(ran.code, 2, argv.join(' '))
    t.match(ran.err, pattern)
    t.match(ran.err, /\n\nUsage:\n/)
  }
  let bareErr = ''
  const bare = { stdout: { write: () => {} }, stderr: { write: (s: string) => { bareErr += s } }, env: {}, signal: new AbortController().signal }
  t.equal(await run(['uploads'], bare), 2)
  t.match(bareErr, /^spacebox: uploads needs a subcommand: list or abort\n/)
  const noToken = await uploads(url, '', 'list')
  t.equal(noToken.code, 2)
  t.match(noToken.err, /admin token is needed/)
  const wrong = await uploads(url, 'sbx_wrong', 'list')
  t.equal(wrong.code, 1)
  t.equal(wrong.err, 'spacebox: the admin token was refused (check --token or SPACEBOX_ADMIN_TOKEN)\n')
  const missing = await uploads(url, token, 'abort', '--older-than', '0', '--bucket', 'videos')
  t.equal(missing.code, 1)
  t.match(missing.err, /^spacebox: The specified bucket does not exist \(404 not_found\)\n$/)
  const down = await uploads('http://127.0.0.1:9', token, 'list')
  t.equal(down.code, 1)
  t.match(down.err, /cannot reach http:\/\/127\.0\.0\.1:9/)
})

t.test('the uploads API refuses what the CLI never sends', async t => {
  const { url, token } = await served(t)
  const ask = async (method: string, query: string, auth = `Bearer ${token}`): Promise<{ status: number, body: { id?: string, message?: string } }> => {
    const res = await fetch(`${url}/_spacebox/uploads${query}`, { method, headers: { authorization: auth } })
    return { status: res.status, body: await res.json() as { id?: string, message?: string } }
  }
  t.match(await ask('GET', '', 'Bearer nope'), { status: 401, body: { id: 'unauthorized' } })
  t.match(await ask('POST', ''), { status: 405, body: { id: 'method_not_allowed' } })
  t.match(await ask('DELETE', ''), { status: 400, body: { message: /older_than is required/ } }, 'DELETE without an age aborts nothing')
  t.match(await ask('GET', '?buckett=photos'), { status: 400, body: { message: /Unknown query parameter "buckett"/ } })
  t.match(await ask('GET', '?older_than=soon'), { status: 400 })
  t.match(await ask('GET', '?bucket=No_Such'), { status: 400 })
  t.match(await ask('GET', '?older_than=90s'), { status: 200, body: { uploads: [] } })
})

t.test('ages: 0, or a number of seconds, minutes, hours or days', async t => {
  t.same(['0', '90s', '30m', '36h', '7d'].map(parseAge), [0, 90_000, 1_800_000, 129_600_000, 604_800_000])
  for (const bad of ['', '7', '7 d', '7D', '1w', '-1d', '1.5h', '0d0', '9999999999d']) t.equal(parseAge(bad), undefined, JSON.stringify(bad))
})
