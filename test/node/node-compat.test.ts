/**
 * The SDK in a Node program of its own, a real child process with nothing
 * the test runner installs: on a Node without `Promise.withResolvers` or a
 * global `WebSocket` (Node 20), the program fails when it makes the service,
 * with one line that says what to do; with `libp2p-rendezvous/node-compat`
 * imported first, it finds a peer over WebSockets.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, normalize } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { killAll, startCli } from '../cli/cli-process.ts'
import { createClient, createPoint, stopNodes } from '../fixtures/nodes.ts'

afterEach(async () => {
  await killAll()
  await stopNodes()
})

const ROOT = new URL('../../', import.meta.url)

/** Every file of ours that `entry` imports, directly or not, and every package they import */
function importGraph (entry: string): { files: Set<string>, packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string): void => {
    if (files.has(file)) return
    files.add(file)
    const source = readFileSync(new URL(file, ROOT), 'utf8')
    for (const match of Array.from(source.matchAll(/^(?:import|export)[^'"]*?from '([^']+)'|^import '([^']+)'/gm))) {
      const specifier = match[1] ?? match[2]
      if (specifier.startsWith('.')) visit(normalize(join(dirname(file), specifier)))
      else packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0])
    }
  }
  visit(entry)
  return { files, packages }
}

/**
 * A child on this Node lacks what libp2p needs (Node 20 does; 22 has both);
 * this process cannot tell, since the test runner installs the shims in it
 */
const lacking = Number(process.versions.node.split('.')[0]) < 22

describe('a Node program using the SDK', () => {
  it.runIf(lacking)('without the shims, fails as it makes the service, with one line that names the cure', async () => {
    const program = startCli([], 'test/node/programs/find-peer.ts', {
      POINT: '/ip4/127.0.0.1/tcp/1/ws/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK',
      NAMESPACE: 'node-compat'
    })
    const exit = await program.exited
    expect(exit.code).toBe(1)
    const lines = program.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^UnsupportedRuntimeError: .*import 'libp2p-rendezvous\/node-compat' before anything else, or run Node 22 or later$/)
  })

  it('with libp2p-rendezvous/node-compat imported first, finds a peer through a point over WebSockets', async () => {
    const point = await createPoint({}, 'ws')
    const { node, client } = await createClient({}, 'ws')
    await client.register(point.address, 'node-compat', { ttl: 7200 })
    const program = startCli([], 'test/node/programs/find-peer-with-compat.ts', { POINT: point.address.toString(), NAMESPACE: 'node-compat' })
    expect(await program.line(() => true)).toBe(node.peerId.toString())
    expect(await program.exited).toEqual({ code: 0, signal: null })
    expect(program.stderr).toBe('')
  })

  it('with node-compat, a WebSocket reset before its handshake closes, and an error nobody listens to does not end the program', async () => {
    // resets every connection: libp2p's dial listens for `open` only, and has stopped listening once it gives up
    const server = createServer(socket => { socket.resetAndDestroy() })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      const port = (server.address() as { port: number }).port
      const program = startCli([], 'test/node/programs/websocket-reset.ts', { PORT: String(port) })
      expect(await program.exited).toEqual({ code: 0, signal: null })
      expect(program.lines).toEqual(['closed'])
      expect(program.stderr).toBe('')
    } finally {
      server.close()
    }
  })

  it('the shims are the package\'s node-compat subpath, and nothing the package root imports reaches them (or ws)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    expect(pkg.exports['./node-compat']).toEqual({ types: './dist/src/node/compat.d.ts', import: './dist/src/node/compat.js' })
    expect(pkg.engines.node).toBe('>=20')
    // a bundler keeps `import 'libp2p-rendezvous/node-compat'`, which it would drop from a package without side effects
    expect(pkg.sideEffects).toEqual(['./dist/src/node/compat.js', './src/node/compat.ts'])
    for (const [entry, reached] of [['src/index.ts', 'src/discovery/rendezvous-discovery.ts'], ['src/client/index.ts', 'src/client/requests.ts']]) {
      const { files, packages } = importGraph(entry)
      expect(files).toContain(reached)
      expect(files).not.toContain('src/node/compat.ts')
      expect(packages).not.toContain('ws')
    }
  })
})
