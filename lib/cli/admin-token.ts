import { createHash, randomBytes } from 'node:crypto'
import { open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'

/** The admin token of the keys API, and the SHA-256 (hex) that is all the server keeps of it. */
export interface AdminToken {
  sha256: string
  /** Only when just made: it is shown once and never stored. */
  token?: string
}

const FILE = 'admin.json'

/** A new admin token: `sbx_` and 32 random bytes in base64url. */
export function newAdminToken (): Required<AdminToken> {
  const token = `sbx_${randomBytes(32).toString('base64url')}`
  return { token, sha256: sha256(token) }
}

/**
 * The admin token of a data directory: the stored hash, or a new token (not yet saved) when the
 * directory has none. Malformed files are an error, never silently replaced: that would lock out
 * whoever holds the real token.
 */
export async function readAdminToken (dataDir: string): Promise<AdminToken> {
  const path = join(dataDir, FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return newAdminToken()
    throw err
  }
  const stored = parse(text)
  if (stored === undefined) throw new Error(`${path} is not a spacebox admin token file; move it away to make a new token`)
  return { sha256: stored }
}

/** Keep the hash of a new token in `<dataDir>/admin.json`, mode 0600, atomically (temp file, fsync, rename). */
export async function saveAdminToken (dataDir: string, { sha256 }: AdminToken): Promise<void> {
  const path = join(dataDir, FILE)
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const file = await open(temp, 'wx', 0o600)
  try {
    await file.writeFile(`${JSON.stringify({ v: 1, sha256, created: new Date().toISOString() }, null, 2)}\n`)
    await file.sync()
    await file.close()
    await rename(temp, path)
  } catch (err) {
    await file.close().catch(() => {})
    await rm(temp, { force: true })
    throw err
  }
}

function sha256 (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

function parse (text: string): string | undefined {
  try {
    const value = JSON.parse(text) as { sha256?: unknown }
    return typeof value?.sha256 === 'string' && /^[0-9a-f]{64}$/.test(value.sha256) ? value.sha256 : undefined
  } catch {
    return undefined
  }
}
