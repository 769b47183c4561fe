import { createHash, createHmac, randomBytes } from 'node:crypto'
import { SpaceboxError } from '../errors.js'
import type { Context } from '../context.js'
import type { BucketState } from '../bucket-state.js'
import type { ObjectEncryption } from '../schema/records.js'
import type { CustomerKey, EncryptionOptions } from '../types.js'
import { newId } from '../internal/ids.js'
import { constantTimeEqual } from '../internal/secrets.js'
import { seal, unseal } from './aead.js'
import type { BucketKeys } from './bucket-keys.js'
import { masterKeyIdOf } from './kms-arn.js'
import { ObjectCipher } from './object-cipher.js'

type Where = { bucket: string, key: string }

/** A customer key (SSE-C) checked: 32 bytes, matching its MD5 when one is given. */
function customerKeyOf (given: CustomerKey, where: Where): { key: Buffer, md5: string } {
  const key = typeof given?.key === 'string' ? Buffer.from(given.key, 'base64') : given?.key
  if (!Buffer.isBuffer(key) || key.length !== 32) {
    throw new SpaceboxError('InvalidArgument', 'The secret key was invalid for the specified algorithm.', where)
  }
  const md5 = createHash('md5').update(key).digest('base64')
  if (given.md5 !== undefined && given.md5 !== md5) {
    throw new SpaceboxError('InvalidArgument', 'The calculated MD5 hash of the key did not match the hash that was provided.', where)
  }
  return { key, md5 }
}

/**
 * How a new object version in `bucket` is encrypted, from the request's options or else the
 * bucket's default: nothing, a data key of its own (one provider call), a key derived from the
 * bucket key (no provider call while the bucket key is fresh), or the caller's key (SSE-C).
 */
export async function encryptionFor (ctx: Context, bucketKeys: BucketKeys, bucket: BucketState, options: EncryptionOptions, where: Where):
Promise<{ cipher?: ObjectCipher, enc?: ObjectEncryption }> {
  if (options.customerKey !== undefined) {
    const salt = newId()
    if (options.serverSideEncryption !== undefined) throw new SpaceboxError('InvalidArgument', 'Server-side encryption and a customer key cannot be combined', where)
    const { key, md5 } = customerKeyOf(options.customerKey, where)
    const dataKey = randomBytes(32)
    const enc: ObjectEncryption = {
      alg: 'SSE-C',
      salt,
      wrapped: seal(key, dataKey, Buffer.from(salt)).toString('base64'),
      customerKeyMD5: md5,
      customerKeyHmac: createHmac('sha256', salt).update(key).digest('base64')
    }
    return { cipher: new ObjectCipher(dataKey, salt), enc }
  }
  const defaults = bucket.record.encryption
  const alg = options.serverSideEncryption ?? defaults?.algorithm
  if (alg === undefined) return {}
  const salt = newId()
  if (alg !== 'AES256' && alg !== 'aws:kms') throw new SpaceboxError('InvalidArgument', 'The encryption method specified is not supported', where)
  if (options.masterKeyId !== undefined && alg !== 'aws:kms') {
    throw new SpaceboxError('InvalidArgument', 'A master key id can only be given with aws:kms', where)
  }
  const named = options.masterKeyId ?? (defaults?.algorithm === alg ? defaults.masterKeyId : undefined)
  // Any form S3 takes (id, alias, ARN) becomes the provider's id here, so records hold ids only.
  const masterKeyId = named === undefined ? undefined : masterKeyIdOf(named, bucket.record.region)
  if (options.bucketKeyEnabled ?? defaults?.bucketKeyEnabled ?? false) {
    const bucketKey = await bucketKeys.current(bucket, masterKeyId)
    return { cipher: ObjectCipher.derive(bucketKey.key, salt), enc: { alg, salt, masterKeyId: bucketKey.masterKeyId, bucketKeyId: bucketKey.id } }
  }
  const dataKey = await ctx.provider.generateDataKey({ bucket: bucket.record.id, object: salt }, masterKeyId)
  return {
    cipher: new ObjectCipher(dataKey.plaintext, salt),
    enc: { alg, salt, masterKeyId: dataKey.masterKeyId, wrapped: dataKey.wrapped.toString('base64') }
  }
}

/** The cipher of a stored object version: one provider call, none for a cached bucket key, or the customer key. */
export async function cipherOf (ctx: Context, bucketKeys: BucketKeys, bucketId: string, enc: ObjectEncryption,
  customerKey: CustomerKey | undefined, where: Where): Promise<ObjectCipher> {
  if (enc.alg === 'SSE-C') {
    if (customerKey === undefined) {
      throw new SpaceboxError('InvalidRequest', 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.', where)
    }
    const { key } = customerKeyOf(customerKey, where)
    if (!constantTimeEqual(createHmac('sha256', enc.salt).update(key).digest('base64'), enc.customerKeyHmac ?? '')) {
      throw new SpaceboxError('AccessDenied', 'Access Denied: the customer key is not the one the object was stored with', where)
    }
    return new ObjectCipher(unseal(key, Buffer.from(enc.wrapped ?? '', 'base64'), Buffer.from(enc.salt)), enc.salt)
  }
  if (enc.bucketKeyId !== undefined) return ObjectCipher.derive(await bucketKeys.get(bucketId, enc.bucketKeyId), enc.salt)
  const dataKey = await ctx.provider.decrypt(Buffer.from(enc.wrapped ?? '', 'base64'), { bucket: bucketId, object: enc.salt })
  return new ObjectCipher(dataKey, enc.salt)
}
