// The code follows `standard` style (as abstract-level and undici do); neostandard is its flat-config
// successor with TypeScript support.
import neostandard from 'neostandard'

const built = ['dist/**', 'dist-bench/**', '.tap/**']

export default [
  // Ignored for every config, not only neostandard's: else ESLint still reads the built files and
  // reports their (unused) disable comments.
  { ignores: built },
  ...neostandard({ ts: true, ignores: built }),
  {
    rules: {
      // Validating header values and keys means naming the control characters they may not hold.
      'no-control-regex': 'off'
    }
  }
]
