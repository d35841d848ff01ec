import { CODE_P2P, CODE_P2P_CIRCUIT } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * The relay that holds the peer's reservation on `address`: the `/p2p/<relay>`
 * right before its last `/p2p-circuit`, the hop the peer itself is attached
 * to. Undefined for an address that is not a relay path, or names no relay.
 */
function reservationHolder (address: Multiaddr): string | undefined {
  const components = address.getComponents()
  const circuit = components.findLastIndex(c => c.code === CODE_P2P_CIRCUIT)
  const relay = components[circuit - 1]
  return circuit > 0 && relay.code === CODE_P2P ? relay.value : undefined
}

/**
 * The peer id of the one relay every address of a record goes through, when
 * there is one: the record's peer can then be reached only while it holds a
 * reservation there, which ends with its connection to that relay. Undefined
 * when any address stands on its own (or goes through another relay), and
 * for a record without addresses.
 */
export function soleRelay (multiaddrs: Multiaddr[]): string | undefined {
  let relay: string | undefined
  for (const address of multiaddrs) {
    const holder = reservationHolder(address)
    if (holder == null || (relay != null && holder !== relay)) return undefined
    relay = holder
  }
  return relay
}
