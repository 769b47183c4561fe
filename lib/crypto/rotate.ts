import { SpaceboxError } from '../errors.js'
import { ID_LENGTH, KEYRING_KEY, objectKeyName, versionKeyName } from '../schema/keys.js'
import { objectLock } from '../objects/heads.js'
import { findVersion, idOf } from '../objects/versions.js'
import { uploadLock } from '../multipart/parts.js'
import { decodeHead, encodeHead, type BucketKeyRecord, type KeyringRecord, type ObjectEncryption, type UploadRecord } from '../schema/records.js'
import type { Context } from '../context.js'
import type { KeyContext } from './provider.js'

export interface RotationResult {
  masterKeyId: string
  /** Keys wrapped anew: the keyring, bucket keys, and the data keys of objects and uploads with their own. */
  keyring: number
  bucketKeys: number
  objectKeys: number
}

/**
 * Re-wrap every stored key under master key `masterKeyId` (the provider's current one if
 * undefined). Only keys are touched: no object is re-encrypted. A wrapping that changed meanwhile
 * (an object overwritten during the walk) is left for the overwrite, which wraps under the current key.
 */
export async function rotateMasterKey (ctx: Context, masterKeyId: string | undefined): Promise<RotationResult> {
  const encrypt = ctx.provider.encrypt
  if (encrypt === undefined) throw new SpaceboxError('InvalidRequest', 'The key provider cannot wrap existing keys (it has no encrypt method)')
  const rewrap = async (wrapped: string, context: KeyContext): Promise<{ wrapped: string, masterKeyId: string }> => {
    const plaintext = await ctx.provider.decrypt(Buffer.from(wrapped, 'base64'), context)
    const again = await encrypt(plaintext, context, masterKeyId)
    return { wrapped: again.wrapped.toString('base64'), masterKeyId: again.masterKeyId }
  }
  const result: RotationResult = { masterKeyId: masterKeyId ?? '', keyring: 0, bucketKeys: 0, objectKeys: 0 }

  const keyring = await ctx.sub.meta.get(KEYRING_KEY) as KeyringRecord
  const newKeyring = await rewrap(keyring.wrapped, { purpose: 'spacebox-keyring' })
  await ctx.sub.meta.put(KEYRING_KEY, { ...keyring, ...newKeyring })
  result.masterKeyId = newKeyring.masterKeyId
  result.keyring++

  for await (const [key, value] of ctx.sub.bkeys.iterator()) {
    const record = value as BucketKeyRecord
    await ctx.sub.bkeys.put(key, { ...record, ...await rewrap(record.wrapped, { bucket: key.slice(0, ID_LENGTH), bucketKey: record.id }) })
    result.bucketKeys++
  }

  const ownKey = (enc: ObjectEncryption | undefined): enc is ObjectEncryption & { wrapped: string } =>
    enc !== undefined && enc.alg !== 'SSE-C' && enc.bucketKeyId === undefined && enc.wrapped !== undefined
  // Every version, current or not, as one snapshot holds them; each is rewritten wherever it is by
  // the time its lock is taken (a delete may have made a noncurrent version current), if it is still there.
  const snapshot = ctx.db.snapshot()
  try {
    for (const [sublevel, nameOf] of [[ctx.sub.objects, objectKeyName], [ctx.sub.versions, versionKeyName]] as const) {
      for await (const [key, value] of sublevel.iterator({ snapshot })) {
        const { head } = decodeHead(value)
        if (!ownKey(head.enc)) continue
        const bucketId = key.toString('latin1', 0, ID_LENGTH)
        const name = nameOf(key)
        const enc = { ...head.enc, ...await rewrap(head.enc.wrapped, { bucket: bucketId, object: head.enc.salt }) }
        await ctx.locks.run(objectLock(bucketId, name), async () => {
          const found = await findVersion(ctx, bucketId, name, idOf(head))
          if (found === undefined || found.head.enc?.salt !== enc.salt) return
          await (found.current ? ctx.sub.objects : ctx.sub.versions).put(found.stored, encodeHead({ ...found.head, enc }, found.inline))
          result.objectKeys++
        })
      }
    }
  } finally {
    await snapshot.close()
  }
  for await (const [key, value] of ctx.sub.uploads.iterator()) {
    const record = value as UploadRecord
    if (!ownKey(record.enc)) continue
    const enc = { ...record.enc, ...await rewrap(record.enc.wrapped, { bucket: key.toString('latin1', 0, ID_LENGTH), object: record.enc.salt }) }
    await ctx.locks.run(uploadLock(record.id), async () => {
      if (await ctx.sub.uploads.get(key) !== undefined) {
        await ctx.sub.uploads.put(key, { ...record, enc })
        result.objectKeys++
      }
    })
  }
  return result
}
