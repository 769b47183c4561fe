/**
 * The account id in the ARNs of a store's master keys. A store is one account, and a fixed id (the
 * one local AWS emulators use) lets a test write an ARN down before the server exists.
 */
export const KMS_ACCOUNT_ID = '000000000000'

/** A name `spacebox kms create`, `serve --kms-key` and `kmsKeys` accept: no `:` or `/`, so no ARN or alias form is ever a name. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

// arn:aws:kms:REGION:ACCOUNT:key/NAME or :alias/NAME
const ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(key\/|alias\/)(.+)$/

/** Whether `name` can name a new master key: 1 to 64 letters, digits, `-` or `_`, starting with a letter or digit. */
export function isKmsKeyName (name: string): boolean {
  return NAME.test(name)
}

/**
 * The key ARN S3 answers in `x-amz-server-side-encryption-aws-kms-key-id` for master key
 * `masterKeyId` of a bucket in `region` (S3 keeps a bucket's KMS key in the bucket's region). A
 * provider whose ids are ARNs already has them answered as they are.
 */
export function kmsKeyArn (region: string, masterKeyId: string): string {
  return masterKeyId.startsWith('arn:') ? masterKeyId : `arn:aws:kms:${region}:${KMS_ACCOUNT_ID}:key/${masterKeyId}`
}

/**
 * The master key a request names for a bucket in `region`. S3 takes a key id, `alias/NAME`, a key
 * ARN or an alias ARN; here a key's name is both its id and its alias, so all four forms of the
 * same name address the same key. `alias/aws/s3`, S3's own key, is the store's default key
 * (undefined: the provider's current one). An ARN of another region or account is given to the
 * provider whole: the local provider has no such key, and the answer is KMS.NotFoundException, as
 * S3 gives for a key outside the bucket's region.
 */
export function masterKeyIdOf (keyId: string, region: string): string | undefined {
  const arn = ARN.exec(keyId)
  if (arn !== null && (arn[1] !== region || arn[2] !== KMS_ACCOUNT_ID)) return keyId
  const alias = arn === null ? keyId.startsWith('alias/') : arn[3] === 'alias/'
  const name = arn === null ? (alias ? keyId.slice('alias/'.length) : keyId) : arn[4] as string
  return alias && name === 'aws/s3' ? undefined : name
}
