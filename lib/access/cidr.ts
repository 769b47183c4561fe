/**
 * IPv4 and IPv6 addresses and CIDR ranges, for aws:SourceIp. Parsed by hand into bigints so a
 * policy's ranges are checked once when it is stored and a match is two integer operations.
 */

export interface Ip { v6: boolean, value: bigint }
export interface Cidr { v6: boolean, network: bigint, mask: bigint, prefix: number }

/** A range written `address/bits` or a lone address; undefined if it is not one. */
export function parseCidr (text: string): Cidr | undefined {
  if (text.length > 64) return undefined
  const slash = text.indexOf('/')
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash))
  if (ip === undefined) return undefined
  const width = ip.v6 ? 128 : 32
  const bits = slash === -1 ? String(width) : text.slice(slash + 1)
  if (!/^(0|[1-9]\d{0,2})$/.test(bits) || Number(bits) > width) return undefined
  const prefix = Number(bits)
  const all = (1n << BigInt(width)) - 1n
  const mask = all ^ ((1n << BigInt(width - prefix)) - 1n)
  return { v6: ip.v6, network: ip.value & mask, mask, prefix }
}

export function inCidr (ip: Ip, cidr: Cidr): boolean {
  return ip.v6 === cidr.v6 && (ip.value & cidr.mask) === cidr.network
}

/** A request's address: a zone index dropped, an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as IPv4. */
export function requestIp (text: string): Ip | undefined {
  if (text.length > 64) return undefined
  const percent = text.indexOf('%')
  const ip = parseIp(percent === -1 ? text : text.slice(0, percent))
  if (ip?.v6 === true && ip.value >> 32n === 0xffffn) return { v6: false, value: ip.value & 0xffffffffn }
  return ip
}

function parseIp (text: string): Ip | undefined {
  const value = text.includes(':') ? parseIpv6(text) : parseIpv4(text)
  return value === undefined ? undefined : { v6: text.includes(':'), value }
}

function parseIpv4 (text: string): bigint | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  let value = 0n
  for (const part of parts) {
    // Leading zeros are refused: some readers take them as octal.
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined
    value = (value << 8n) | BigInt(part)
  }
  return value
}

function parseIpv6 (text: string): bigint | undefined {
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const groups = (side: string, tail: boolean): number[] | undefined => {
    if (side === '') return []
    const out: number[] = []
    const parts = side.split(':')
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string
      if (tail && i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part)
        if (v4 === undefined) return undefined
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn))
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        out.push(parseInt(part, 16))
      } else {
        return undefined
      }
    }
    return out
  }
  const head = groups(halves[0] as string, halves.length === 1)
  const tail = halves.length === 2 ? groups(halves[1] as string, true) : []
  if (head === undefined || tail === undefined) return undefined
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined
  return [...head, ...new Array<number>(missing).fill(0), ...tail].reduce((value, group) => (value << 16n) | BigInt(group), 0n)
}
