/** put of 1 MiB objects (exactly one chunk each) given as one Buffer. */
import type { Scenario } from './scenario.js'
import { putScenario } from './objects.js'

const MiB = 1024 * 1024

export const scenarios: Scenario[] = [
  putScenario({ backend: 'classic', size: MiB, inFlight: 1, quick: true }),
  putScenario({ backend: 'classic', size: MiB, inFlight: 16, quick: false })
]
