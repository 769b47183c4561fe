import t from 'tap'
import { spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { Agent, get } from 'node:https'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3'
import { selfSigned } from '../lib/cli/self-signed.js'
import { isLoopback } from '../lib/cli/tls.js'
import { cli, CREDENTIALS, served, TOKEN } from './fixtures/cli.js'
import { tempDir } from './helpers.js'

const FINGERPRINT = /SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/
const CERT_FILE = /TLS certificate (\S+)/

/** An SDK client that trusts `ca` (and nothing else, as with AWS_CA_BUNDLE). */
function client (url: string, ca: string | undefined, [, accessKeyId = '', secretAccessKey = '']: string[]): S3Client {
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestHandler: { httpsAgent: new Agent(ca === undefined ? {} : { ca }) }
  })
}

/** The status of a GET over HTTPS, or the TLS error's code. */
async function status (url: string, ca?: string): Promise<number | string> {
  return await new Promise(resolve => {
    get(url, ca === undefined ? {} : { ca }, res => {
      res.resume()
      resolve(res.statusCode ?? 0)
    }).on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}

t.test('a self-signed certificate: made, printed, trusted by a client given it, refused by one without', async t => {
  const data = join(await tempDir(t), 'data')
  const server = await served(t, ['--data', data, '--tls-self-signed', '--bucket', 'docs', '--key', 'k', '--grant', 'docs:readwrite'])
  t.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  const credentials = await server.cli.until(CREDENTIALS)
  const certFile = (await server.cli.until(CERT_FILE))[1] ?? ''
  const fingerprint = (await server.cli.until(FINGERPRINT))[1] ?? ''
  t.equal(certFile, join(data, 'tls', 'cert.pem'))
  t.match(server.cli.out(), `clients trust it with: curl --cacert ${certFile}, AWS_CA_BUNDLE=${certFile}, NODE_EXTRA_CA_CERTS=${certFile}`)
  const cert = await readFile(certFile, 'utf8')
  const x509 = new X509Certificate(cert)
  t.equal(x509.fingerprint256, fingerprint, 'the printed fingerprint is the certificate\'s')
  t.equal(x509.checkIP('127.0.0.1'), '127.0.0.1')
  t.equal(x509.checkHost('localhost'), 'localhost')
  t.equal((await stat(join(data, 'tls', 'key.pem'))).mode & 0o777, 0o600, 'the private key is the owner\'s alone')

  t.equal(await status(`${server.url}/`), 'DEPTH_ZERO_SELF_SIGNED_CERT', 'a client that does not trust it refuses it')
  const s3 = client(server.url, cert, credentials)
  t.teardown(() => { s3.destroy() })
  await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'a b.txt', Body: 'over TLS' }))
  t.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'a b.txt' }))).Body?.transformToString(), 'over TLS')
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'docs', Key: 'm' }))
  const part = await s3.send(new UploadPartCommand({ Bucket: 'docs', Key: 'm', UploadId, PartNumber: 1, Body: 'one part' }))
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'docs', Key: 'm', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }))
  t.equal(done.Location, `${server.url}/docs/m`, 'Location names the scheme the client used')
  t.equal(await server.cli.stop(), 0)

  const again = await served(t, ['--data', data, '--tls-self-signed'])
  t.equal((await again.cli.until(FINGERPRINT))[1], fingerprint, 'a restart keeps the certificate clients trust')
  t.equal(await again.cli.stop(), 0)
})

t.test('--memory makes a temporary certificate, gone at stop', async t => {
  const server = await served(t, ['--memory', '--tls-self-signed'])
  const certFile = (await server.cli.until(CERT_FILE))[1] ?? ''
  t.equal(await status(`${server.url}/`, await readFile(certFile, 'utf8')), 403, 'served over TLS (an unsigned request is refused)')
  t.equal(await server.cli.stop(), 0)
  await t.rejects(stat(certFile), { code: 'ENOENT' })
})

t.test('--tls-cert and --tls-key serve a given certificate', async t => {
  const dir = await tempDir(t)
  const made = selfSigned(['localhost', '127.0.0.1'])
  await writeFile(join(dir, 'c.pem'), made.cert)
  await writeFile(join(dir, 'k.pem'), made.key)
  const server = await served(t, ['--memory', '--tls-cert', join(dir, 'c.pem'), '--tls-key', join(dir, 'k.pem')])
  t.match(server.cli.out(), `TLS certificate ${join(dir, 'c.pem')}, SHA-256 fingerprint ${made.fingerprint}`)
  t.notMatch(server.cli.out(), /self-signed/, 'no trust hint for a certificate the user brought')
  t.equal(await status(`${server.url}/`, made.cert), 403)

  for (const [argv, message] of [
    [['--tls-cert', join(dir, 'c.pem')], /--tls-cert and --tls-key go together/],
    [['--tls-self-signed', '--tls-cert', join(dir, 'c.pem'), '--tls-key', join(dir, 'k.pem')], /exclude each other/],
    [['--tls-self-signed', '--insecure-http'], /exclude each other/]
  ] as const) {
    const refused = cli(['serve', '--memory', '--port', '0', ...argv])
    t.equal(await refused.code, 2, argv.join(' '))
    t.match(refused.err(), message)
  }
  for (const [argv, message] of [
    [['--tls-cert', join(dir, 'missing.pem'), '--tls-key', join(dir, 'k.pem')], /--tls-cert \S+missing\.pem: ENOENT/],
    [['--tls-cert', join(dir, 'k.pem'), '--tls-key', join(dir, 'k.pem')], /holds no PEM certificate/]
  ] as const) {
    const failed = cli(['serve', '--memory', '--port', '0', ...argv])
    t.equal(await failed.code, 1, argv.join(' '))
    t.match(failed.err(), message)
    t.notMatch(failed.out(), /sbx_/, 'no token shown for a server that never ran')
  }
})

t.test('plain HTTP beyond loopback needs --insecure-http', async t => {
  const refused = cli(['serve', '--memory', '--port', '0', '--host', '0.0.0.0'])
  t.equal(await refused.code, 2)
  t.match(refused.err(), /--host 0\.0\.0\.0 reaches beyond this machine.*--tls-self-signed, or --insecure-http/)
  t.equal(refused.out(), '', 'nothing printed, no token')

  const insecure = await served(t, ['--memory', '--host', '0.0.0.0', '--insecure-http'])
  await insecure.cli.until(TOKEN)
  t.match(insecure.cli.err(), /warning: plain HTTP on 0\.0\.0\.0: the admin token and every request cross the network in clear text/)

  const secure = await served(t, ['--memory', '--host', '0.0.0.0', '--tls-self-signed'])
  const cert = await readFile((await secure.cli.until(CERT_FILE))[1] ?? '', 'utf8')
  t.equal(new X509Certificate(cert).checkIP('127.0.0.1'), '127.0.0.1', 'the certificate names loopback and this machine\'s addresses')

  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) t.ok(isLoopback(host), host)
  for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) t.notOk(isLoopback(host), host)
})

// The keys command reaches an HTTPS server with a self-signed certificate through Node's own
// NODE_EXTRA_CA_CERTS, as README says; a child process, since Node reads it at start.
t.test('spacebox keys reaches a server over TLS with NODE_EXTRA_CA_CERTS', async t => {
  const server = await served(t, ['--memory', '--tls-self-signed', '--key', 'k', '--grant', 'b1b:read'])
  const token = (await server.cli.until(TOKEN))[1] ?? ''
  const certFile = (await server.cli.until(CERT_FILE))[1] ?? ''
  const loader = process.execArgv.filter(arg => arg.includes('@tapjs/typescript'))
  const main = fileURLToPath(new URL('../lib/cli/main.ts', import.meta.url))
  const run = async (env: Record<string, string>): Promise<{ code: number | null, out: string, err: string }> => {
    const child = spawn(process.execPath, [...loader, main, 'keys', 'list', '--endpoint', server.url], { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', SPACEBOX_ADMIN_TOKEN: token, ...env } })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
    const [code] = await once(child, 'exit') as [number | null]
    return { code, out, err }
  }
  const trusted = await run({ NODE_EXTRA_CA_CERTS: certFile })
  t.equal(trusted.code, 0, trusted.err)
  t.match(trusted.out, /^SB\w+ +k +b1b:read /m)
  const untrusted = await run({})
  t.equal(untrusted.code, 1)
  t.match(untrusted.err, /cannot reach https:\/\/127\.0\.0\.1:\d+ \(DEPTH_ZERO_SELF_SIGNED_CERT\)/)
})
