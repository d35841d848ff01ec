/**
 * The rendezvous point's node parts (libp2p, its transports, the relay
 * server) and the Redis client are optional peer dependencies of this
 * package: a browser app that installs it for the SDK never installs them.
 * What needs one loads it here, on demand, and a missing one is reported by
 * name with the command that installs it, instead of as a failed import deep
 * in the package.
 */

/** Every optional peer dependency of `libp2p-rendezvous/server`, as one install command names them */
export const SERVER_PACKAGES = ['libp2p', '@libp2p/tcp', '@libp2p/websockets', '@libp2p/noise', '@libp2p/yamux', '@libp2p/identify', '@libp2p/ping', '@libp2p/circuit-relay-v2']

/** A package this needs is not installed; the message names it and how to install it */
export class MissingDependencyError extends Error {
  static name = 'MissingDependencyError'
  /** The packages to install */
  readonly packages: string[]

  constructor (what: string, packages: string[], message?: string, options?: ErrorOptions) {
    super(message ?? `${what} needs ${packages.join(', ')}, which ${packages.length === 1 ? 'is' : 'are'} not installed: npm install ${packages.join(' ')}`, options)
    this.name = 'MissingDependencyError'
    this.packages = packages
  }
}

/** The package a failed import could not find, when that is why it failed */
function missingPackage (err: any): string | undefined {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') return undefined
  return /Cannot find (?:package|module) '([^']+)'/.exec(String(err.message))?.[1]?.replace(/^(@[^/]+\/[^/]+|[^@/][^/]*).*$/, '$1')
}

/**
 * `load()`'s modules; when one of `packages` is missing, a
 * `MissingDependencyError` that says `what` needs them all (so one command
 * installs everything), and the import's own error otherwise
 */
export async function loadOptional<T> (what: string, packages: string[], load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (err) {
    const missing = missingPackage(err)
    if (missing != null && packages.includes(missing)) throw new MissingDependencyError(what, packages)
    throw err
  }
}
