/** get of whole 1 KiB (inline) and 64 KiB (one chunk) objects, the body read to its end. */
import type { Scenario } from './scenario.js'
import { getScenario } from './objects.js'

const KiB = 1024

export const scenarios: Scenario[] = [
  getScenario({ backend: 'classic', size: KiB, inFlight: 1, quick: true, minRatio: 0.7 }),
  getScenario({ backend: 'classic', size: KiB, inFlight: 16, quick: true, minRatio: 0.7 }),
  getScenario({ backend: 'classic', size: 64 * KiB, inFlight: 1, quick: true, minRatio: 0.8 }),
  getScenario({ backend: 'classic', size: 64 * KiB, inFlight: 16, quick: true, minRatio: 0.8 }),
  getScenario({ backend: 'memory', size: KiB, inFlight: 1, quick: true }),
  getScenario({ backend: 'memory', size: KiB, inFlight: 16, quick: true }),
  // Full set only: room in the quick set (under 3 minutes) for the HTTP scenarios.
  getScenario({ backend: 'memory', size: 64 * KiB, inFlight: 1, quick: false }),
  getScenario({ backend: 'memory', size: 64 * KiB, inFlight: 16, quick: false })
]
