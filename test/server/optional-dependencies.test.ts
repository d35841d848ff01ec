/**
 * The point's parts are optional peer dependencies, so a browser app never
 * installs them: package.json must say so for each of them, and a missing
 * one must be reported by name with the command that installs it. The
 * import that fails here is a real one, of a package that is not installed.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadOptional, SERVER_PACKAGES } from '../../src/server/optional-dependency.ts'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
/** What only the point (and Node programs) load: its libp2p parts, the Redis client, Node's WebSocket */
const SERVER_ONLY = [...SERVER_PACKAGES, 'ioredis', 'ws']

describe('package.json', () => {
  it('makes every server-only package an optional peer dependency, installed for development, and none a dependency', () => {
    for (const name of SERVER_ONLY) {
      expect(pkg.peerDependencies, name).toHaveProperty([name])
      expect(pkg.peerDependenciesMeta[name], name).toEqual({ optional: true })
      expect(pkg.devDependencies[name], name).toBe(pkg.peerDependencies[name])
      expect(pkg.dependencies, name).not.toHaveProperty([name])
    }
  })

  it('declares no install script, which installing it would warn of', () => {
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts, script).not.toHaveProperty([script])
  })
})

describe('the package\'s modules', () => {
  it('import no server-only package up front, only through loadOptional (the command line, bundled with them, aside)', () => {
    const src = new URL('../../src/', import.meta.url)
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(file => file.endsWith('.ts') && !file.startsWith('cli/'))
    const eager = files.flatMap(file => [...readFileSync(new URL(file, src), 'utf8').matchAll(/^import (?!type )[^\n]* from '([^']+)'/gm)]
      .filter(([, from]) => SERVER_ONLY.some(name => from === name || from.startsWith(`${name}/`)))
      .map(([line]) => `${file}: ${line}`))

    expect(files.length).toBeGreaterThan(20)
    expect(eager).toEqual([])
  })
})

describe('loadOptional', () => {
  const absent = 'libp2p-rendezvous-absent-package'

  it('given a package that is not installed, rejects with MissingDependencyError naming it and how to install it', async () => {
    const loading = loadOptional('createRendezvousPoint', [absent, 'libp2p'], async () => import(absent))

    await expect(loading).rejects.toMatchObject({
      name: 'MissingDependencyError',
      packages: [absent, 'libp2p'],
      message: `createRendezvousPoint needs ${absent}, libp2p, which are not installed: npm install ${absent} libp2p`
    })
  })

  it('given a failure that is not a missing package, rejects with it as it is', async () => {
    await expect(loadOptional('x', [absent], async () => { throw new TypeError('broken') })).rejects.toThrow(TypeError)
  })
})
