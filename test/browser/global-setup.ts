/**
 * Runs in Node before the browser tests: the rendezvous point, as
 * `createRendezvousPoint` (and so the command line) makes it, with its
 * defaults, on loopback. It is also a circuit relay, so that browser nodes
 * (which cannot listen) get a relay address to register with, the way they
 * would in production. Its WebSocket address reaches the tests through
 * `inject('rendezvousPoint')`.
 */
import '../../src/node/compat.ts'
import { createRendezvousPoint } from '../../src/server/index.ts'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The point's WebSocket multiaddr, with /p2p/<id> */
    rendezvousPoint: string
  }
}

export default async function setup (project: TestProject): Promise<() => Promise<void>> {
  const point = await createRendezvousPoint()
  const address = point.getMultiaddrs().find(ma => ma.toString().includes('/ws/'))
  if (address == null) throw new Error('the point listens on no WebSocket address')
  project.provide('rendezvousPoint', address.toString())
  return async () => { await point.stop() }
}
