// The code follows `standard` style (as abstract-level and undici do); neostandard is its flat-config
// successor with TypeScript support.
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'dist-bench/**', '.tap/**'] }),
  {
    rules: {
      // Validating header values and keys means naming the control characters they may not hold.
      'no-control-regex': 'off'
    }
  }
]
