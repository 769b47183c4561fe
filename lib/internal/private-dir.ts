import { chmod, mkdir, readdir, stat } from 'node:fs/promises'

/** Group and other permission bits: a directory with none of them is its owner's alone. */
export const SHARED_BITS = 0o077

/**
 * Make `dir` ready to hold a store that only its owner can read: created with mode 0700 (parents
 * too) when missing, and tightened to 0700 when it exists empty and is ours, since spacebox is then
 * making the store fresh. A directory that already holds something keeps its mode: it may be a
 * store made before, or shared on purpose, and changing it is the owner's call (`serve` warns).
 * LevelDB's own files (mode 0644, some made later by compaction) are out of reach inside a 0700
 * directory whatever their mode, which is why the directory, not a process-wide umask, is the guard.
 */
export async function privateDir (dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 })
  if (created !== undefined) return
  const entries = await readdir(dir)
  if (entries.length > 0) return
  const { uid, mode } = await stat(dir)
  if ((mode & 0o777) !== 0o700 && uid === process.getuid?.()) await chmod(dir, 0o700)
}
