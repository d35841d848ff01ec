/**
 * `--version`: the version in the package's own package.json, found by
 * walking up from this module, which runs from `src/cli/` in a clone and
 * from `dist/cli/` as installed.
 */
import { readFileSync } from 'node:fs'

const PACKAGE = 'libp2p-rendezvous'

export function packageVersion (): string {
  for (let up = new URL('./', import.meta.url), i = 0; i < 5; up = new URL('../', up), i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', up), 'utf8'))
      if (pkg?.name === PACKAGE && typeof pkg.version === 'string') return pkg.version
    } catch {
      // not here: look further up
    }
  }
  return 'unknown'
}
