// Where the real py-libp2p for the interop suite comes from: an offline kit
// (its sources, with a setup.sh that builds them), found at PY_LIBP2P_KIT,
// else beside this repository. Plain JavaScript so that the set-up check can
// run before any dependency is installed.
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The kit's folder, whether or not a kit is there */
export function pyKitFolder () {
  return resolve(process.env.PY_LIBP2P_KIT ?? join(ROOT, '..', 'shared', 'py-libp2p'))
}

/** Whether the folder holds a kit: its setup.sh and the scripts the suite runs */
export function isPyKit (kit) {
  return ['setup.sh', 'run-client.sh', 'run-server.sh'].every(file => existsSync(join(kit, file)))
}

/** Where setup.sh builds py-libp2p; it leaves a `.ready` stamp there when done */
export function pyHome () {
  return process.env.PY_LIBP2P_HOME ?? join(homedir(), '.cache', 'py-libp2p')
}
