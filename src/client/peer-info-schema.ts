/**
 * The client side of the pre-2020 schema (py-libp2p, berty's go, go's
 * `implement-spec` branch), for apps that opt in with
 * `uncertifiedPeers: peerInfoSchema()`: register at such points with an
 * unsigned PeerInfo, unregister with our id, and take the PeerInfo
 * registrations points return as peers marked `certified: false`.
 *
 * Why a value the app imports, rather than a flag: nothing in the client or
 * the discovery service imports this module (they know it only as the
 * `PeerInfoSchema` type), so an app that does not pass it carries none of
 * it: neither this code nor the PeerInfo reader with its peer id and
 * multiaddr checks. Unsigned peers then also take a line in the app's own
 * code, where a reviewer sees them. A dynamic import would keep it out of
 * the bundle as well, but would cost a round trip before the first REGISTER
 * at such a point, and a chunk the app must know to serve.
 */
import { isPeerId } from '@libp2p/interface'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { DEFAULT_TTL } from '../constants.ts'
import { InvalidPeerInfoError } from '../errors.ts'
import { isPeerInfoRefusal, peerInfoRegisterRequest, registerRequest } from '../protocol/messages.ts'
import { readRecordField } from '../protocol/peer-info.ts'
import { clampTtl, verifyPage } from './verify.ts'
import type { PeerInfoSchema, Registration, VerifiedPage, VerifyOptions } from './api.ts'
import type { WireRegistration } from '../protocol/messages.ts'
import type { DialTarget, PeerInfo } from '@libp2p/interface'

/** Who the point is: the peer id a dial target names, else its address as text */
function pointKey (point: DialTarget): string {
  const first = Array.isArray(point) ? point[0] : point
  if (isPeerId(first)) return first.toString()
  return first.getComponents().findLast(c => c.name === 'p2p')?.value ?? first.toString()
}

/** The PeerInfo REGISTER that says what our signed record says: our id and the same addresses */
function peerInfoRequest (namespace: string, record: Uint8Array, ttl?: number): ReturnType<typeof peerInfoRegisterRequest> {
  const { peerId, multiaddrs } = PeerRecord.createFromProtobuf(RecordEnvelope.createFromProtobuf(record).payload)
  return peerInfoRegisterRequest(namespace, { id: peerId, multiaddrs }, ttl)
}

/**
 * A page's PeerInfo entries as uncertified registrations, the first of each
 * peer and namespace (nothing orders two PeerInfos), the signed ones verified
 * as `verifyPage` verifies them. A PeerInfo never stands for a peer whose
 * signed record on the page verifies, so the uncertified ones are told last.
 */
async function verifyWithPeerInfo (entries: WireRegistration[], options: VerifyOptions): Promise<VerifiedPage> {
  const uncertified = new Map<string, Registration>()
  const envelopes: WireRegistration[] = []
  let dropped = 0
  for (const entry of entries) {
    const field = readRecordField(entry.signedPeerRecord)
    if (field.kind === 'envelope') {
      envelopes.push(entry)
    } else if (field.kind === 'bad-peer-info') {
      dropped++
      options.onInvalid?.(new InvalidPeerInfoError(field.reason))
    } else {
      // a peer id never holds a space, so the key cannot be ambiguous
      const key = `${field.peer.id} ${entry.namespace}`
      if (uncertified.has(key)) dropped++
      else {
        uncertified.set(key, {
          namespace: entry.namespace,
          peerId: field.peer.id,
          multiaddrs: field.peer.multiaddrs,
          ttl: clampTtl(entry.ttl ?? DEFAULT_TTL),
          seq: 0n,
          signedPeerRecord: entry.signedPeerRecord,
          certified: false
        })
      }
    }
  }
  const verified = await verifyPage(envelopes, options)
  for (const registration of verified.registrations) {
    if (uncertified.delete(`${registration.peerId} ${registration.namespace}`)) dropped++
  }
  for (const registration of uncertified.values()) options.onRegistration?.(registration)
  return { registrations: [...verified.registrations, ...uncertified.values()], dropped: verified.dropped + dropped }
}

function readCached (peerId: string, bytes: Uint8Array): PeerInfo | undefined {
  const field = readRecordField(bytes)
  return field.kind === 'peer-info' && field.peer.id.toString() === peerId ? field.peer : undefined
}

/**
 * The pre-2020 schema, for `uncertifiedPeers` (of `rendezvousClient` and
 * `rendezvousDiscovery`). A point is taken to speak it once it answers a
 * REGISTER of our own valid signed record the way only such points do (py:
 * `E_NOT_AUTHORIZED` "Peer can only register itself"; berty and go: 101 "bad
 * peer id"); the same REGISTER then goes again as a PeerInfo, and every later
 * one there goes so at once, for as long as the client runs. A refusal of the
 * PeerInfo itself (101) is py's `InvalidPeerInfoError`.
 */
export function peerInfoSchema (): PeerInfoSchema {
  return {
    client (log) {
      const points = new Set<string>()
      return {
        speaks: point => points.has(pointKey(point)),
        async register (point, namespace, record, ttl, send) {
          const key = pointKey(point)
          if (!points.has(key)) {
            try {
              return await send(registerRequest(namespace, record, ttl))
            } catch (err) {
              if (!isPeerInfoRefusal(err)) throw err
              points.add(key)
              log('%s speaks the pre-2020 schema; registering there with an unsigned PeerInfo from now on', key)
            }
          }
          return send(peerInfoRequest(namespace, record, ttl), 'peer-info')
        },
        verifyPage: verifyWithPeerInfo
      }
    },
    readCached
  }
}
