import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'

/** A certificate and its private key, in PEM, with the certificate's SHA-256 fingerprint. */
export interface Certificate {
  cert: string
  key: string
  fingerprint: string
}

const DAY = 86_400_000

/**
 * A self-signed certificate (ECDSA P-256, SHA-256) for `names`, host names and IP addresses, as
 * subjectAltName entries, valid for `days` from an hour ago. X.509 is written here in DER directly: Node signs and parses certificates but cannot
 * make one, and this is all the ASN.1 a server certificate needs.
 */
export function selfSigned (names: readonly string[], days = 365, now = Date.now()): Certificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const serial = randomBytes(16)
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01 // positive and of full length
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'))
  const subject = seq(set(seq(oid('2.5.4.3'), der(0x0c, Buffer.from('spacebox')))))
  const altNames = names.map(name => {
    if (isIP(name) === 4) return der(0x87, Buffer.from(name.split('.').map(Number)))
    if (isIP(name) === 6) return der(0x87, ipv6(name))
    return der(0x82, Buffer.from(name, 'ascii'))
  })
  const extensions = der(0xa3, seq(
    seq(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), der(0x04, seq())), // basicConstraints, critical: not a CA
    seq(oid('2.5.29.15'), der(0x01, Buffer.from([0xff])), der(0x04, der(0x03, Buffer.from([0x07, 0x80])))), // keyUsage: digitalSignature
    seq(oid('2.5.29.37'), der(0x04, seq(oid('1.3.6.1.5.5.7.3.1')))), // extKeyUsage: serverAuth
    seq(oid('2.5.29.17'), der(0x04, seq(...altNames)))
  ))
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))), // version 3
    der(0x02, serial),
    ecdsaSha256,
    subject,
    seq(time(new Date(now - 3_600_000)), time(new Date(now + days * DAY))),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions
  )
  const signature = sign('sha256', tbs, privateKey)
  const cert = pem('CERTIFICATE', seq(tbs, ecdsaSha256, der(0x03, Buffer.concat([Buffer.from([0]), signature]))))
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, fingerprint: new X509Certificate(cert).fingerprint256 }
}

/** One DER element: tag, definite length, contents. */
function der (tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents)
  const n = body.length
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]
  return Buffer.concat([Buffer.from([tag, ...length]), body])
}

function seq (...items: Buffer[]): Buffer {
  return der(0x30, ...items)
}

function set (...items: Buffer[]): Buffer {
  return der(0x31, ...items)
}

function oid (dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number)
  const bytes = [a * 40 + b]
  for (const arc of rest) {
    const groups = [arc & 0x7f]
    for (let v = arc >>> 7; v > 0; v >>>= 7) groups.unshift((v & 0x7f) | 0x80)
    bytes.push(...groups)
  }
  return der(0x06, Buffer.from(bytes))
}

/** UTCTime up to 2049, GeneralizedTime after, as RFC 5280 asks. */
function time (date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'
  return date.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(iso.slice(2))) : der(0x18, Buffer.from(iso))
}

function ipv6 (address: string): Buffer {
  const [head = '', tail = ''] = address.split('::')
  const groups = (part: string): string[] => part === '' ? [] : part.split(':')
  const left = groups(head)
  const right = address.includes('::') ? groups(tail) : []
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  return Buffer.from(all.flatMap(g => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]))
}

function pem (label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}
