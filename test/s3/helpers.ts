import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { Spacebox, type Grant, type OpenOptions } from '../../lib/index.js'
import { createS3Server, type S3Server, type S3ServerOptions } from '../../lib/s3/index.js'

type Tap = { teardown: (fn: () => unknown) => void }

export interface Served {
  box: Spacebox
  server: S3Server
  /** Credentials of a full-access key created for the test. */
  credentials: { accessKeyId: string, secretAccessKey: string }
  /** An SDK client with that key (path style, any region), destroyed with the test. */
  client: (config?: Partial<S3ClientConfig>) => S3Client
  /** A new key with these grants, and a client using it. */
  keyed: (grants: Grant[]) => Promise<{ accessKeyId: string, secretAccessKey: string, client: S3Client }>
}

/** A store in memory (or as given) served on 127.0.0.1:0, all closed when the test ends. */
export async function serve (t: Tap, options: { open?: OpenOptions, server?: S3ServerOptions } = {}): Promise<Served> {
  const box = await Spacebox.open(options.open ?? { memory: true })
  const server = await createS3Server(box, { host: '127.0.0.1', port: 0, ...options.server })
  const clients: S3Client[] = []
  t.teardown(async () => {
    for (const c of clients) c.destroy()
    await server.close({ timeout: 1000 })
    await box.close()
  })
  const full = await box.keys.create({ name: 'test', grants: [{ bucket: '', permission: 'fullaccess' }] })
  const credentials = { accessKeyId: full.accessKeyId, secretAccessKey: full.secretAccessKey }
  const make = (creds: { accessKeyId: string, secretAccessKey: string }, config: Partial<S3ClientConfig> = {}): S3Client => {
    const client = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: creds, maxAttempts: 1, ...config })
    clients.push(client)
    return client
  }
  return {
    box,
    server,
    credentials,
    client: config => make(credentials, config),
    keyed: async grants => {
      const key = await box.keys.create({ name: `scoped-${clients.length}`, grants })
      const creds = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }
      return { ...creds, client: make(creds) }
    }
  }
}

/** Read a Node or web body to a Buffer. */
export async function bodyBytes (body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}
