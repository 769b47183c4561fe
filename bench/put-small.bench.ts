/** put of 1 KiB (stored inline in the object record) and 64 KiB (one chunk) objects. */
import type { Scenario } from './scenario.js'
import { putScenario } from './objects.js'

const KiB = 1024

export const scenarios: Scenario[] = [
  putScenario({ backend: 'classic', size: KiB, inFlight: 1, quick: true, minRatio: 0.5 }),
  putScenario({ backend: 'classic', size: KiB, inFlight: 16, quick: true, minRatio: 0.5 }),
  putScenario({ backend: 'classic', size: 64 * KiB, inFlight: 1, quick: true }),
  putScenario({ backend: 'classic', size: 64 * KiB, inFlight: 16, quick: true }),
  putScenario({ backend: 'memory', size: KiB, inFlight: 1, quick: true }),
  putScenario({ backend: 'memory', size: KiB, inFlight: 16, quick: true }),
  // Full set only: room in the quick set (under 3 minutes) for the HTTP scenarios.
  putScenario({ backend: 'memory', size: 64 * KiB, inFlight: 1, quick: false }),
  putScenario({ backend: 'memory', size: 64 * KiB, inFlight: 16, quick: false })
]
