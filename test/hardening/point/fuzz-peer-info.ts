/**
 * The pre-2020 schema in the fuzzer: PeerInfo for REGISTER field 2, the
 * sender's own and hostile ones, and a reading of PeerInfo for the judge
 * that owes nothing to the point's code (only to the wire helpers and the
 * multiaddr library), so that a point that misreads one cannot also fool
 * its judge.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { toString as toHex } from 'uint8arrays/to-string'
import { body, bytesField, readFields } from '../../fixtures/wire.ts'
import type { Random } from './support.ts'
import type { PeerId } from '@libp2p/interface'

/** Bytes of addresses the judge lets a PeerInfo hold: go's cap, which the point applies */
const MAX_ADDRESS_BYTES = 2048

/** A PeerInfo, written field by field as py writes it */
export function peerInfoBytes (id: Uint8Array, addresses: Uint8Array[]): Uint8Array {
  return body(bytesField(1, id), ...addresses.map(address => bytesField(2, address)))
}

/** The sender's own PeerInfo with one loopback address, as a py client registers it */
export function ownPeerInfo (peerId: PeerId): Uint8Array {
  return peerInfoBytes(peerId.toMultihash().bytes, [multiaddr(`/ip4/127.0.0.1/tcp/4100/p2p/${peerId}`).bytes])
}

/** A PeerInfo that `sender` must never get registered: someone else's, or not a usable one */
export function hostilePeerInfo (rng: Random, sender: PeerId, others: PeerId[]): Uint8Array {
  const own = sender.toMultihash().bytes
  const address = multiaddr('/ip4/127.0.0.1/tcp/4100').bytes
  switch (rng.int(8)) {
    case 0: return ownPeerInfo(rng.pick(others))
    case 1: return peerInfoBytes(rng.bytes(rng.between(0, 40)), [address])
    case 2: return peerInfoBytes(new Uint8Array(rng.pick([65, 1000, 10_000])).fill(0x12), [address])
    case 3: return peerInfoBytes(own, [rng.bytes(rng.between(0, 24))])
    case 4: return peerInfoBytes(own, Array.from({ length: rng.between(257, 400) }, () => address))
    case 5: return peerInfoBytes(own, [])
    case 6: return body(bytesField(2, address))
    default: return peerInfoBytes(own, [new Uint8Array(rng.between(3000, 5000)).fill(0x04)])
  }
}

export interface ReadPeerInfo {
  id: Uint8Array
  /** Each address as the multiaddr library writes it; undefined for one it cannot read */
  addresses: Array<Uint8Array | undefined>
  addressBytes: number
}

/** A PeerInfo's id and addresses: fields 1 and 2 only, all bytes, one id; undefined for anything else (an envelope, say) */
export function readPeerInfo (bytes: Uint8Array): ReadPeerInfo | undefined {
  let fields
  try {
    fields = readFields(bytes)
  } catch {
    return undefined
  }
  if (fields.some(f => (f.field !== 1 && f.field !== 2) || typeof f.value === 'bigint')) return undefined
  const ids = fields.filter(f => f.field === 1)
  if (ids.length !== 1) return undefined
  const raw = fields.filter(f => f.field === 2).map(f => f.value as Uint8Array)
  return {
    id: ids[0].value as Uint8Array,
    addressBytes: raw.reduce((sum, address) => sum + address.byteLength, 0),
    addresses: raw.map(address => {
      try {
        return multiaddr(address).bytes
      } catch {
        return undefined
      }
    })
  }
}

/** Whether a point may have taken this PeerInfo from `sender`: its own id, and addresses that are addresses */
export function isUsablePeerInfo (info: ReadPeerInfo, sender: PeerId, allowEmptyAddresses: boolean): boolean {
  return toHex(info.id, 'base16') === toHex(sender.toMultihash().bytes, 'base16') &&
    (info.addresses.length > 0 || allowEmptyAddresses) &&
    info.addresses.every(address => address != null) &&
    info.addressBytes <= MAX_ADDRESS_BYTES
}

/** How the judge knows a registration by its PeerInfo: namespace, id and addresses */
export function peerInfoKey (namespace: string, id: Uint8Array, addresses: Array<Uint8Array | undefined>): string {
  return `${namespace}\u0000${toHex(id, 'base16')}\u0000${addresses.map(a => a == null ? '?' : toHex(a, 'base16')).join(',')}`
}
