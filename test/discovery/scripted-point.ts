/**
 * A rendezvous point that behaves like other implementations do, for interop
 * tests: it speaks the wire format through our codec but answers the way
 * proto3 encoders (berty, py, canvas), capping points (canvas), cookie-less
 * points (go on an empty page), silent points (rust on a request it will
 * not serve) or points of the pre-2020 schema (py) answer. It keeps
 * registrations in a plain list, in arrival order.
 */
import { Message } from '../../src/pb/rendezvous.ts'
import { parseRequest } from '../../src/protocol/messages.ts'
import { rendezvousStream } from '../../src/protocol/stream.ts'
import type { PeerId, Stream } from '@libp2p/interface'

export interface Quirks {
  /** Leave out `type`, `status = OK` and registration `ns`, as proto3 encoders do */
  omitDefaults?: boolean
  /** Never send a cookie, so every DISCOVER returns the first page */
  noCookie?: boolean
  /** Seconds: grant at most this (canvas clamps instead of refusing) */
  capTtl?: number
  /** Return at most this many registrations per page, whatever was asked */
  capLimit?: number
  /** Close the stream without answering a REGISTER */
  silentOnRegister?: boolean
  /** Answer E_INVALID_NAMESPACE to a DISCOVER of a namespace nobody is registered in, as nim does */
  unknownNamespaceError?: boolean
  /** Read REGISTER field 2 as a PeerInfo, as py does: refuse a signed record as py refuses it, keep a PeerInfo */
  peerInfo?: boolean
}

interface Entry { namespace: string, peerId: string, signedPeerRecord: Uint8Array, ttl: number }

export class ScriptedPoint {
  readonly entries: Entry[] = []
  readonly requests: string[] = []
  private readonly quirks: Quirks

  constructor (quirks: Quirks) {
    this.quirks = quirks
  }

  /** Serve one request on `stream`, from `remotePeer` */
  readonly handle = (stream: Stream, remotePeer: PeerId): void => {
    void this.serve(stream, remotePeer).catch(err => { stream.abort(err) })
  }

  private async serve (stream: Stream, remotePeer: PeerId): Promise<void> {
    const messages = rendezvousStream(stream, 1024 * 1024)
    const request = parseRequest(await messages.read())
    if (request == null) throw new Error('not a request')
    this.requests.push(request.type)
    const omit = this.quirks.omitDefaults === true

    if (request.type === 'REGISTER') {
      if (this.quirks.silentOnRegister === true) {
        await stream.close()
        return
      }
      if (this.quirks.peerInfo === true && request.record?.kind !== 'peer-info') {
        await messages.write({
          type: Message.MessageType.REGISTER_RESPONSE,
          registerResponse: { status: Message.ResponseStatus.E_NOT_AUTHORIZED, statusText: 'Peer can only register itself' }
        })
        await stream.close()
        return
      }
      const ttl = Math.min(request.ttl ?? 7200, this.quirks.capTtl ?? Infinity)
      const peerId = remotePeer.toString()
      const existing = this.entries.findIndex(e => e.peerId === peerId && e.namespace === request.namespace)
      if (existing >= 0) this.entries.splice(existing, 1)
      this.entries.push({ namespace: request.namespace ?? '', peerId, signedPeerRecord: request.signedPeerRecord ?? new Uint8Array(), ttl })
      await messages.write({
        type: omit ? undefined : Message.MessageType.REGISTER_RESPONSE,
        registerResponse: { status: omit ? undefined : Message.ResponseStatus.OK, ttl: BigInt(ttl) }
      })
    } else if (request.type === 'UNREGISTER') {
      const existing = this.entries.findIndex(e => e.peerId === remotePeer.toString() && e.namespace === request.namespace)
      if (existing >= 0) this.entries.splice(existing, 1)
    } else if (this.quirks.unknownNamespaceError === true && !this.entries.some(e => e.namespace === request.namespace)) {
      await messages.write({
        type: Message.MessageType.DISCOVER_RESPONSE,
        discoverResponse: { status: Message.ResponseStatus.E_INVALID_NAMESPACE, statusText: 'unknown namespace', registrations: [] }
      })
    } else {
      const inNamespace = this.entries.filter(e => e.namespace === request.namespace)
      const start = request.cookie == null || this.quirks.noCookie === true ? 0 : new DataView(request.cookie.buffer, request.cookie.byteOffset).getUint32(0)
      const limit = Math.min(request.limit ?? 1000, this.quirks.capLimit ?? Infinity)
      const page = inNamespace.slice(start, start + limit)
      const cookie = new Uint8Array(4)
      new DataView(cookie.buffer).setUint32(0, start + page.length)
      await messages.write({
        type: omit ? undefined : Message.MessageType.DISCOVER_RESPONSE,
        discoverResponse: {
          status: omit ? undefined : Message.ResponseStatus.OK,
          cookie: this.quirks.noCookie === true ? undefined : cookie,
          registrations: page.map(e => ({
            ns: omit ? undefined : e.namespace,
            signedPeerRecord: e.signedPeerRecord as Uint8Array<ArrayBuffer>,
            ttl: BigInt(e.ttl)
          }))
        }
      })
    }
    await stream.close()
  }
}
