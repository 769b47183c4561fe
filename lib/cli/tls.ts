import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname, networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { isIP } from 'node:net'
import { privateDir } from '../internal/private-dir.js'
import { CliError, UsageError } from './io.js'
import { selfSigned } from './self-signed.js'

/** How `serve` was asked to use TLS. */
export type TlsChoice = { kind: 'files', cert: string, key: string } | { kind: 'self-signed' } | { kind: 'none', insecure: boolean }

/** The certificate `serve` listens with, where clients find it, and what to remove at stop. */
export interface TlsSetup {
  cert: string
  key: string
  /** The certificate's file, for clients to trust. */
  certFile: string
  fingerprint: string
  selfSigned: boolean
  cleanup: () => Promise<void>
}

/** A self-signed certificate is made again this long before it expires. */
const RENEW_MS = 30 * 86_400_000

/** Whether only this machine can reach `host`. */
export function isLoopback (host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'))
}

/**
 * The TLS flags of `serve`. Plain HTTP beyond loopback would carry the admin token and every
 * signed request in clear text, so it takes --insecure-http.
 */
export function tlsChoice (values: { 'tls-cert'?: string, 'tls-key'?: string, 'tls-self-signed'?: boolean, 'insecure-http'?: boolean }, host: string): TlsChoice {
  const cert = values['tls-cert']
  const key = values['tls-key']
  const insecure = values['insecure-http'] === true
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together')
  if (values['tls-self-signed'] === true && cert !== undefined) throw new UsageError('--tls-self-signed and --tls-cert exclude each other')
  const tls = cert !== undefined || values['tls-self-signed'] === true
  if (tls && insecure) throw new UsageError('--insecure-http and TLS exclude each other')
  if (!tls && !insecure && !isLoopback(host)) {
    throw new UsageError(`--host ${host} reaches beyond this machine, and plain HTTP would carry the admin token and every request in clear text: ` +
      'give --tls-cert FILE --tls-key FILE or --tls-self-signed, or --insecure-http to serve plain HTTP anyway')
  }
  if (cert !== undefined && key !== undefined) return { kind: 'files', cert, key }
  return tls ? { kind: 'self-signed' } : { kind: 'none', insecure }
}

/**
 * Read the certificate asked for, or make a self-signed one: kept in DATA/tls (the key 0600 in a
 * 0700 directory) and used again while it is valid for a month more and names the host, so
 * clients that trust it keep trusting it; with --memory, in a temporary directory removed at stop.
 */
export async function setUpTls (choice: Exclude<TlsChoice, { kind: 'none' }>, host: string, data: string | undefined): Promise<TlsSetup> {
  if (choice.kind === 'files') {
    const [cert, key] = await Promise.all([readPem(choice.cert, '--tls-cert'), readPem(choice.key, '--tls-key')])
    let x509: X509Certificate
    try {
      x509 = new X509Certificate(cert)
    } catch {
      throw new CliError(`--tls-cert ${choice.cert} holds no PEM certificate`)
    }
    return { cert, key, certFile: choice.cert, fingerprint: x509.fingerprint256, selfSigned: false, cleanup: async () => {} }
  }
  const dir = data === undefined ? await mkdtemp(join(tmpdir(), 'spacebox-tls-')) : join(data, 'tls')
  await privateDir(dir)
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  const cleanup = data === undefined ? async () => { await rm(dir, { recursive: true, force: true }) } : async () => {}
  const kept = data === undefined ? undefined : await reusable(certFile, keyFile, host)
  if (kept !== undefined) return { ...kept, certFile, selfSigned: true, cleanup }
  const made = selfSigned(namesFor(host))
  await writeFile(keyFile, made.key, { mode: 0o600 })
  await writeFile(certFile, made.cert, { mode: 0o644 })
  return { cert: made.cert, key: made.key, certFile, fingerprint: made.fingerprint, selfSigned: true, cleanup }
}

async function readPem (file: string, option: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new CliError(`${option} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

/** The kept certificate and key, if both are there, valid a month more, and name `host`. */
async function reusable (certFile: string, keyFile: string, host: string): Promise<{ cert: string, key: string, fingerprint: string } | undefined> {
  try {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')])
    const x509 = new X509Certificate(cert)
    if (Date.parse(x509.validTo) - Date.now() < RENEW_MS) return undefined
    if (!namesFor(host).every(name => (isIP(name) === 0 ? x509.checkHost(name) : x509.checkIP(name)) !== undefined)) return undefined
    return { cert, key, fingerprint: x509.fingerprint256 }
  } catch {
    return undefined
  }
}

/**
 * The names a certificate for `host` covers: loopback always; a named host; and for a wildcard
 * address, this machine's name and every address of its interfaces, as clients may use any.
 */
function namesFor (host: string): string[] {
  const bare = host.replace(/^\[|\]$/g, '')
  const names = new Set(['localhost', '127.0.0.1', '::1'])
  if (bare === '0.0.0.0' || bare === '::') {
    names.add(hostname().toLowerCase())
    for (const address of Object.values(networkInterfaces()).flat()) {
      if (address !== undefined && !address.internal && !address.address.startsWith('fe80:')) names.add(address.address)
    }
  } else {
    names.add(bare.toLowerCase())
  }
  return [...names]
}
