/**
 * `--mode server`: a rendezvous point with a circuit-relay-v2 server beside
 * it, so that browsers, which cannot listen, can still get an address to
 * register. It prints where to reach it and logs namespace statistics until
 * it is told to stop.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { CODE_WS } from '@multiformats/multiaddr'
import { rendezvousServer } from '../server/index.ts'
import { PROGRAM } from './args.ts'
import { openStore } from '../server/store/from-url.ts'
import { createNode } from './node.ts'
import { CliError, describeError } from './output.ts'
import { sleep, untilAborted } from './shutdown.ts'
import type { ServerOptions } from './args.ts'
import type { Output } from './output.ts'
import type { RendezvousServer } from '../server/index.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The command that starts a client, as the user would type it here */
function clientCommand (): string {
  return process.env.npm_lifecycle_event === 'rendezvous' ? 'npm run rendezvous --' : PROGRAM
}

/** A store URL fit for a terminal or a log: without its password */
function redact (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password === '') return url
    parsed.password = '***'
    return parsed.toString()
  } catch {
    return url
  }
}

/** Node clients dial TCP; the WebSocket addresses are for browsers */
function forNodeClients (multiaddrs: Multiaddr[]): Multiaddr | undefined {
  return multiaddrs.find(ma => ma.getComponents().every(c => c.code !== CODE_WS)) ?? multiaddrs[0]
}

/**
 * The key in `path`, or a new Ed25519 key written there first. Clients know a
 * point by its peer id, so a point that came back with a new one would be
 * unreachable at every address they hold.
 */
async function keyFromFile (path: string): Promise<PrivateKey> {
  try {
    return privateKeyFromProtobuf(await readFile(path))
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw new CliError(`cannot read --key-file ${path}: ${describeError(err)}`)
  }
  const key = await generateKeyPair('Ed25519')
  try {
    // 'wx': never overwrite a key another process has just written
    await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  } catch (err) {
    throw new CliError(`cannot write --key-file ${path}: ${describeError(err)}`)
  }
  return key
}

export async function runServer (options: ServerOptions, output: Output, signal: AbortSignal): Promise<void> {
  const privateKey = options.keyFile != null ? await keyFromFile(options.keyFile) : undefined
  const opened = await openStore(options.store).catch((err: unknown) => {
    throw new CliError(`cannot open --store ${redact(options.store)}: ${describeError(err)}`)
  })
  try {
    const node = await createNode(options.listen, {
      relay: circuitRelayServer(),
      // points sharing a store must share the secret behind their cookies, and the store hands it out
      rendezvous: rendezvousServer({ ...options.policy, store: opened.store })
    }, privateKey)
    try {
      const peerId = node.peerId.toString()
      const multiaddrs = node.getMultiaddrs()
      const { minTtl, maxTtl } = node.services.rendezvous.policy
      output.identity(peerId, multiaddrs.map(String), [
        `Rendezvous server started with peer ID: ${peerId}`,
        'Rendezvous server listening on:',
        ...multiaddrs.map(String),
        `Registrations: ${redact(options.store)}, TTL ${minTtl}-${maxTtl} s`,
        'To connect a client, use:',
        `  ${clientCommand()} --mode client --address ${String(forNodeClients(multiaddrs))}`,
        'Press Ctrl+C to stop...'
      ])
      if (options.statsInterval > 0) {
        while (!signal.aborted) {
          await sleep(options.statsInterval, signal)
          if (!signal.aborted) await printStats(node.services.rendezvous, output)
        }
      }
      await untilAborted(signal)
    } finally {
      await node.stop()
    }
  } finally {
    await opened.close()
  }
  output.say('Rendezvous server stopped.')
}

async function printStats (server: RendezvousServer, output: Output): Promise<void> {
  let stats: Map<string, number>
  try {
    stats = await server.getNamespaceStats()
  } catch (err) {
    output.warn(`could not read namespace statistics: ${describeError(err)}`)
    return
  }
  const namespaces = Object.fromEntries(stats)
  const summary = [...stats].map(([namespace, count]) => `${namespace}: ${count}`).join(', ')
  output.event('stats', { namespaces }, [stats.size > 0 ? `Namespace stats: ${summary}` : 'No active registrations'])
}
