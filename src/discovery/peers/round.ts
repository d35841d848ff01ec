import { replaces, toPeer } from './peer-view.ts'
import type { Sighting } from './peer-view.ts'
import type { DiscoveredPeer } from '../api.ts'

/**
 * What one round (a walk of a namespace at every point at once, for
 * `discover`, `discoverAll` or `findPeers`) has seen so far: per peer, the
 * newest record any point returned and every point's expiry. Held back from
 * the view until the round ends, so that an older record one point still
 * holds is never emitted or cached when another point has a newer one.
 */
export class Round {
  readonly namespace: string
  readonly #peers = new Map<string, Sighting>()

  constructor (namespace: string) {
    this.namespace = namespace
  }

  /** Merge a sighting from one point; resolves the peer when it is new to the round or its record wins (see `replaces`), else undefined */
  add (sighting: Sighting): DiscoveredPeer | undefined {
    const key = sighting.id.toString()
    const known = this.#peers.get(key)
    if (known == null) {
      this.#peers.set(key, { ...sighting, points: [...sighting.points] })
      return toPeer(this.namespace, sighting)
    }
    const replaced = replaces(toPeer(this.namespace, sighting), toPeer(this.namespace, known))
    known.points.push(...sighting.points)
    if (!replaced) return undefined
    known.seq = sighting.seq
    known.multiaddrs = sighting.multiaddrs
    known.signedPeerRecord = sighting.signedPeerRecord
    known.certified = sighting.certified
    return toPeer(this.namespace, known)
  }

  /** Ids of every peer seen */
  ids (): Set<string> {
    return new Set(this.#peers.keys())
  }

  /** Every peer seen, each with its newest record, for the view */
  sightings (): Sighting[] {
    return [...this.#peers.values()]
  }
}
