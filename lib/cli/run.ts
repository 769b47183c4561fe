import { once } from 'node:events'
import { keysCommand } from './keys.js'
import { CliError, UsageError, type Io } from './io.js'
import { parseServeArgs, serve } from './serve.js'

const USAGE = `Usage:
  spacebox serve [--data DIR | --memory] [--host HOST] [--port PORT] [--website-port PORT] [--region REGION]
                 [--bucket NAME ...] [--key NAME (--grant GRANT ... | --full-access)]
  spacebox keys create --name NAME (--grant GRANT ... | --full-access)
  spacebox keys list [--bucket BUCKET]
  spacebox keys get ACCESS_KEY
  spacebox keys rename ACCESS_KEY NAME
  spacebox keys regenerate ACCESS_KEY
  spacebox keys delete ACCESS_KEY
  spacebox keys access BUCKET
  spacebox help

serve runs an S3-compatible server on a store in DIR (default ./data) or in memory, on
127.0.0.1:9000 by default. The first start of a data directory prints the admin token of the
keys API once. --bucket creates buckets that are missing; --key creates an access key (unless
one of that name exists) and prints its secret once. --website-port serves bucket websites, and
nothing else, on a second port (http://BUCKET.localhost:PORT/). Ctrl-C stops it gracefully.

keys talk to a running server: --endpoint URL (default http://127.0.0.1:9000), --token TOKEN
(default $SPACEBOX_ADMIN_TOKEN), --json for the API's raw JSON.

GRANT is BUCKET:PERMISSION[:PREFIX], PERMISSION one of read, readwrite, readwrite+publish
(may also upload with a public ACL), fullaccess; '*:fullaccess' (or --full-access) is full
access to every bucket.
`

/**
 * The `spacebox` command, importable: runs `argv` (without node and script) and resolves the exit
 * code: 0 done, 1 failed (one line on stderr), 2 bad arguments (usage on stderr). `serve` resolves
 * once `io.signal` aborts and the server and store are closed.
 */
export async function run (argv: string[], io: Io): Promise<number> {
  const [command, ...args] = argv
  try {
    if (command === 'help' || command === '--help' || command === '-h' || args.includes('--help') || args.includes('-h')) {
      io.stdout.write(USAGE)
      return 0
    }
    if (command === 'serve') {
      const server = await serve(parseServeArgs(args), io)
      if (!io.signal.aborted) await once(io.signal, 'abort')
      io.stdout.write('Stopping: letting requests under way finish.\n')
      await server.stop()
      return 0
    }
    if (command === 'keys') {
      await keysCommand(args, io)
      return 0
    }
    throw new UsageError(command === undefined ? 'no command given' : `unknown command ${JSON.stringify(command)}`)
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      io.stderr.write(`spacebox: ${(err as Error).message}\n\n${USAGE}`)
      return 2
    }
    io.stderr.write(`spacebox: ${err instanceof CliError ? err.message : String((err as Error).message ?? err)}\n`)
    return 1
  }
}
