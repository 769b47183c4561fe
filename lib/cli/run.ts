import { once } from 'node:events'
import { keysCommand } from './keys.js'
import { kmsCommand } from './kms.js'
import { compactCommand } from './compact.js'
import { infoCommand } from './info.js'
import { mirrorCommand } from './mirror.js'
import { exportCommand, importCommand } from './archive.js'
import { uploadsCommand } from './uploads.js'
import { CliError, UsageError, type Io } from './io.js'
import { parseServeArgs, serve } from './serve.js'

const USAGE = `Usage:
  spacebox serve [--data DIR | --memory] [--host HOST] [--port PORT] [--website-port PORT] [--region REGION]
                 [--bucket NAME ...] [--key NAME (--grant GRANT ... | --full-access)] [--kms-key NAME ...]
                 [--grace SECONDS] [--profile aws|spaces] [--no-console]
                 [--tls-cert FILE --tls-key FILE | --tls-self-signed | --insecure-http]
  spacebox keys create --name NAME (--grant GRANT ... | --full-access) [--expires DATE] [--rate-limit N]
  spacebox keys list [--bucket BUCKET] [--name NAME] [--permission PERMISSION]
  spacebox keys get ACCESS_KEY
  spacebox keys rename ACCESS_KEY NAME
  spacebox keys update ACCESS_KEY [--grant GRANT ... | --full-access] [--expires DATE|never] [--rate-limit N|none]
  spacebox keys regenerate ACCESS_KEY
  spacebox keys disable ACCESS_KEY
  spacebox keys enable ACCESS_KEY
  spacebox keys delete ACCESS_KEY
  spacebox keys usage ACCESS_KEY
  spacebox keys access BUCKET
  spacebox uploads list [--bucket BUCKET] [--prefix PREFIX] [--older-than AGE]
  spacebox uploads abort --older-than AGE [--bucket BUCKET] [--prefix PREFIX]
  spacebox compact --data DIR
  spacebox info --data DIR [--json]
  spacebox mirror SRC DST [--data DIR] [--endpoint URL] [--region REGION] [--profile NAME] [--ca FILE]
                  [--from-endpoint URL] [--from-region REGION] [--from-profile NAME] [--from-ca FILE]
                  [--versions] [--delete] [--decrypt] [--acl] [--tags] [--sse-c-key FILE] [--concurrency N] [--json]
  spacebox export --data DIR FILE [--bucket BUCKET ...] [--versions] [--decrypt] [--include-keys] [--json]
  spacebox import FILE --data DIR [--json]
  spacebox kms create NAME --data DIR [--region REGION]
  spacebox kms list --data DIR [--region REGION]
  spacebox help

serve runs an S3-compatible server on a store in DIR (default ./data) or in memory, on
127.0.0.1:9000 by default. The first start of a data directory prints the admin token of the
keys API once. --bucket creates buckets that are missing; --key creates an access key (unless
one of that name exists) and prints its secret once. --website-port serves bucket websites, and
nothing else, on a second port (http://BUCKET.localhost:PORT/). Ctrl-C or SIGTERM stops it
gracefully: requests under way get --grace seconds (default 10) to finish, then their connections
are cut; a second Ctrl-C stops it at once. --profile spaces answers as DigitalOcean Spaces where
it differs from S3 (regions, storage classes, unsupported operations).

The web console (buckets, objects, access keys, who can reach what) is served at
/_spacebox/console/ on the same port; sign in with the admin token. --no-console turns it off.

TLS: --tls-cert and --tls-key serve HTTPS with your certificate; --tls-self-signed makes one for
this machine (kept in DIR/tls and used again, or for --memory a temporary one) and prints its
fingerprint and file, for clients to trust. serve refuses plain HTTP on an address beyond loopback
(--host 0.0.0.0) unless --insecure-http says so.

keys and uploads talk to a running server: --endpoint URL (default http://127.0.0.1:9000),
--token TOKEN (default $SPACEBOX_ADMIN_TOKEN), --json for the API's raw JSON (every subcommand).
keys update replaces the grants when given and leaves the rest as it is; DATE is 2030-01-31 or
2030-01-31T12:00:00Z, N requests per second. keys access lists every key that reaches BUCKET, and
how. regenerate prints the new secret once; the old one stops working at once.

uploads lists or aborts incomplete multipart uploads, in every bucket unless --bucket names one.
AGE is 0, or a number with s, m, h or d (7d): uploads begun that long ago or earlier, by the
store's clock. abort needs --older-than, so that an upload still being sent is not cut off by a slip.

info shows what the store of a stopped \`serve --data DIR\` holds: buckets (region, objects, bytes,
noncurrent versions, uploads in progress), live bytes and bytes on disk, keys (never a secret),
and the store's format version. It reads every version once.

compact gives deleted data's disk space back in the store of a stopped \`serve --data DIR\`
(a running one does it in the background); it refuses a store in use (StoreLocked).

mirror copies buckets between the store of a stopped \`serve --data DIR\` (store://) and any S3
endpoint (s3://), either way, or between two buckets of one: SRC and DST are s3://BUCKET[/PREFIX]
or store://BUCKET[/PREFIX], or s3:// and store:// for every bucket. Objects keep their metadata,
headers, checksums, storage class and (multipart) ETag; what the destination already has with the
same size and ETag is skipped, so running it again resumes an interrupted run. --versions copies
every version and delete marker in order; --delete removes what the source no longer has;
--acl carries public-read and the like, --tags the tags (a request more each). --decrypt copies
encrypted objects as plaintext (else they are skipped and listed); SSE-C objects are skipped and
listed unless --sse-c-key FILE gives their key (32 bytes, or their base64): they are read and
written with it. s3:// is configured as the AWS CLI is: --endpoint or AWS_ENDPOINT_URL,
credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or --profile, --region or AWS_REGION;
--ca FILE trusts a self-signed server; --from-endpoint, --from-region, --from-profile and
--from-ca describe an s3:// source apart from an s3:// destination. Progress goes to stderr,
--json writes events to stdout; it exits 1 when any object failed.

export writes an archive (a tar, documented in README) of a stopped store: buckets and their
settings, objects with metadata, tags and ACLs, and with --versions every version and delete
marker; access keys only with --include-keys, their secrets sealed, so that only a store under the
same master key (DIR/store.key, or SPACEBOX_MASTER_KEY) imports them. import checks all of an
archive (every entry's SHA-256, every object's ETag, every key's secret) before it writes anything,
and refuses a damaged one; run again after an interruption, it goes on where it stopped. Objects
get new version ids and dates.

kms manages named master keys for SSE-KMS, kept in DIR/store.key: a request names one in
x-amz-server-side-encryption-aws-kms-key-id as NAME, alias/NAME or its ARN
(arn:aws:kms:REGION:000000000000:key/NAME). create needs the server stopped (it refuses a store
in use); list works any time. serve --kms-key NAME makes the key at start unless it exists.
Key material is never printed.

Exit codes: 0 done, 1 failed (one line on stderr: the server's answer, or why it could not be
reached), 2 bad arguments (the usage on stderr).

GRANT is BUCKET:PERMISSION[:PREFIX], PERMISSION one of read, readwrite, readwrite+publish
(may also upload with a public ACL), fullaccess; '*:fullaccess' (or --full-access) is full
access to every bucket.
`

/** Every command but serve: each runs to its end, and throws to fail. */
const COMMANDS: ReadonlyMap<string, (args: string[], io: Io) => Promise<void>> = new Map([
  ['keys', keysCommand], ['kms', kmsCommand], ['uploads', uploadsCommand], ['compact', compactCommand], ['info', infoCommand],
  ['mirror', mirrorCommand], ['export', exportCommand], ['import', importCommand]
])

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
      io.stdout.write(`Stopping: letting requests under way finish (up to ${server.grace / 1000} s; a second Ctrl-C stops at once).\n`)
      await server.stop()
      return 0
    }
    const handler = command === undefined ? undefined : COMMANDS.get(command)
    if (handler !== undefined) {
      await handler(args, io)
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
