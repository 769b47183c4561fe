/**
 * Encryption at rest (SSE-KMS) on an on-disk store: put and get of 1 KiB and 1 MiB objects with a
 * data key of each object's own (one key-provider call per put and per get) and with a bucket key
 * (objects' keys derived from one cached bucket key: no provider call per object), each against
 * spacebox without encryption in the same run. Notes give the provider calls per 1000 operations.
 */
import type { PutObjectOptions } from '../lib/index.js'
import type { Scenario } from './scenario.js'
import { type ObjectCase, type Pair, getScenario, putScenario } from './objects.js'
import { openStore } from './stores.js'

const KiB = 1024
const MiB = 1024 * KiB

function encrypted (label: string, putOptions: PutObjectOptions): Pair {
  return {
    label: `encryption, ${label}`,
    baselineName: 'spacebox, unencrypted',
    open: async (side, dir) => await openStore('spacebox', 'classic', dir, side === 'a' ? putOptions : {}),
    counters: ['generateDataKey', 'decrypt']
  }
}

const objectKey = encrypted('data key per object', { serverSideEncryption: 'aws:kms' })
const bucketKey = encrypted('bucket key', { serverSideEncryption: 'aws:kms', bucketKeyEnabled: true })

/** put and get of one case. */
const both = (c: ObjectCase): Scenario[] => [putScenario(c), getScenario(c)]

export const scenarios: Scenario[] = [
  // The goal: bucket-key encryption within 1.5x of plaintext for 1 MiB objects.
  ...both({ pair: bucketKey, backend: 'classic', size: MiB, inFlight: 1, quick: true, minRatio: 0.67 }),
  ...both({ pair: objectKey, backend: 'classic', size: MiB, inFlight: 1, quick: true }),
  // Full set only: room in the quick set (under 3 minutes) for the HTTP scenarios.
  ...both({ pair: bucketKey, backend: 'classic', size: KiB, inFlight: 1, quick: false }),
  ...both({ pair: objectKey, backend: 'classic', size: KiB, inFlight: 1, quick: false })
]
