/** What a command gets from the outside world; the real ones in main.ts, fakes in tests. */
export interface Io {
  stdout: { write: (text: string) => unknown }
  stderr: { write: (text: string) => unknown }
  env: Record<string, string | undefined>
  /** `serve` runs until this aborts (main.ts aborts it on SIGINT and SIGTERM). */
  signal: AbortSignal
}

/** Bad arguments: the message and the usage go to stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** A failure the user can act on, told in one line on stderr, exit code 1. */
export class CliError extends Error {
  override name = 'CliError'
}
