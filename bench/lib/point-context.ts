/**
 * What the point's request handler needs, to time the protocol work of a
 * point apart from any stream: the handler itself is `handleRequest`, and
 * this is the context a running point gives it, with the point's default
 * policy (read from a real point service, so it cannot drift from it).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Cookies } from '../../src/server/cookies.ts'
import { rendezvousServer } from '../../src/server/index.ts'
import type { RequestContext } from '../../src/server/handle-request.ts'
import type { RendezvousServerInit, RegistrationStore } from '../../src/server/index.ts'
import type { PrivateKey } from '@libp2p/interface'

/** The cookie secret of every context made here; give it to a point to have it accept their cookies */
export const COOKIE_SECRET = new Uint8Array(32).fill(7)

export async function requestContext (store: RegistrationStore, init: RendezvousServerInit = {}, remoteKey?: PrivateKey): Promise<RequestContext> {
  // constructing the service reads nothing from its components but the logger; it is never started
  const { policy } = rendezvousServer(init)({ registrar: undefined as never, peerId: undefined as never, events: undefined as never, connectionManager: undefined as never, logger: defaultLogger() })
  return {
    remotePeer: peerIdFromPrivateKey(remoteKey ?? await generateKeyPair('Ed25519')),
    now: Date.now(),
    store,
    cookies: new Cookies(COOKIE_SECRET),
    policy
  }
}
