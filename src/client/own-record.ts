import { CODE_P2P, CODE_P2P_CIRCUIT } from '@multiformats/multiaddr'
import { MAX_RECORD_ADDRESS_BYTES, WEBRTC_SIGNALING_PROTOCOL } from '../constants.ts'
import { NoAddressesError } from '../errors.ts'
import { sealPeerRecord } from '../protocol/peer-record.ts'
import type { AbortOptions, PrivateKey } from '@libp2p/interface'
import type { AddressManager, Registrar } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface OwnRecordComponents {
  privateKey: PrivateKey
  addressManager: AddressManager
  /** Tells whether we accept WebRTC signalled through a relay; a libp2p node always has one */
  registrar?: Pick<Registrar, 'getProtocols'>
}

export interface OwnRecordInit {
  /** Which of our addresses to advertise. @default all of them */
  addressFilter?(multiaddr: Multiaddr): boolean
  /** Register a record with no addresses instead of failing with `NoAddressesError`. @default false */
  allowEmptyAddresses?: boolean
  /** Milliseconds since the epoch; the sequence number follows it. @default Date.now */
  now?(): number
}

/** Our advertised addresses as one comparable value: a new one means a record to seal again */
export function addressKey (multiaddrs: Multiaddr[]): string {
  return multiaddrs.map(ma => ma.toString()).join(' ')
}

/**
 * Our own signed peer record. Its sequence number follows the clock in
 * milliseconds (as js-libp2p's own records do) but never repeats or goes
 * back, even when the clock does; `raiseSeqFloor` carries it across reloads.
 * The envelope is sealed again only when the advertised addresses change.
 */
export class OwnRecord {
  readonly #components: OwnRecordComponents
  readonly #init: OwnRecordInit
  #lastSeq = 0n
  #sealed?: { key: string, seq: bigint, bytes: Promise<Uint8Array> }

  constructor (components: OwnRecordComponents, init: OwnRecordInit = {}) {
    this.#components = components
    this.#init = init
  }

  /** The addresses we would advertise now: filtered, without `/p2p/<self>`, within the budget every point accepts */
  addresses (): Multiaddr[] {
    const selected: Multiaddr[] = []
    let bytes = 0
    for (const multiaddr of this.#reachable()) {
      if (this.#init.addressFilter?.(multiaddr) === false) continue
      if (bytes + multiaddr.bytes.byteLength > MAX_RECORD_ADDRESS_BYTES) continue
      bytes += multiaddr.bytes.byteLength
      selected.push(multiaddr)
    }
    return selected
  }

  /**
   * Our addresses, and for each relayed one the WebRTC address behind it when
   * we accept WebRTC signalled through the relay (@libp2p/webrtc's `webRTC()`
   * transport handles its protocol whether or not the node listens on
   * `/webrtc`): a peer that dials it meets us directly, beyond the relay's
   * limits, where the relayed address alone would keep it on the relay.
   */
  #reachable (): Multiaddr[] {
    const addresses = this.#components.addressManager.getAddresses().map(address => address.decapsulateCode(CODE_P2P))
    if (this.#components.registrar?.getProtocols().includes(WEBRTC_SIGNALING_PROTOCOL) !== true) return addresses
    const known = new Set(addresses.map(String))
    return addresses.flatMap(address => {
      if (address.getComponents().at(-1)?.code !== CODE_P2P_CIRCUIT) return [address]
      const webRTC = address.encapsulate('/webrtc')
      return known.has(webRTC.toString()) ? [address] : [webRTC, address]
    })
  }

  /** The highest sequence number handed out so far */
  get seq (): bigint {
    return this.#lastSeq
  }

  /** Never hand out a sequence number at or below `seq` (one persisted by an earlier page load, say) */
  raiseSeqFloor (seq: bigint): void {
    if (seq > this.#lastSeq) this.#lastSeq = seq
    // an envelope sealed at or below the floor would be refused as stale by a point that saw the newer one
    if (this.#sealed != null && this.#sealed.seq <= seq) this.#sealed = undefined
  }

  /** The envelope to REGISTER with; throws `NoAddressesError` when there is nothing to advertise */
  async seal (options?: AbortOptions): Promise<Uint8Array> {
    const multiaddrs = this.addresses()
    if (multiaddrs.length === 0 && this.#init.allowEmptyAddresses !== true) {
      throw new NoAddressesError()
    }
    const key = addressKey(multiaddrs)
    if (this.#sealed?.key !== key) {
      const now = BigInt(Math.floor(this.#init.now?.() ?? Date.now()))
      this.#lastSeq = now > this.#lastSeq ? now : this.#lastSeq + 1n
      const bytes = sealPeerRecord(this.#components.privateKey, multiaddrs, this.#lastSeq, options)
      this.#sealed = { key, seq: this.#lastSeq, bytes }
      // a failed seal must not be served from the cache next time
      bytes.catch(() => { if (this.#sealed?.bytes === bytes) this.#sealed = undefined })
    }
    return this.#sealed.bytes
  }
}
