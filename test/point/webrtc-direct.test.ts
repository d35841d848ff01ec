/**
 * WebRTC-direct at the point: the listener beside TCP and WebSockets, a
 * certificate that follows the key (so the certhash, and the address, survive
 * restarts with `keyFile`), and a real WebRTC-direct dial from a Node peer
 * (node-datachannel) that checks the certhash and reaches the rendezvous
 * protocol.
 */
import { X509Certificate } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { webRTCDirect } from '@libp2p/webrtc'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { webRTCDirectCertificate } from '../../src/server/point/webrtc-certificate.ts'
import { cleanUp, startPoint } from './support.ts'
import type { RendezvousPointNode } from '../../src/server/index.ts'

afterEach(cleanUp)

function webRTCDirectAddress (point: RendezvousPointNode): string {
  const address = point.getMultiaddrs().map(String).find(ma => ma.includes('/webrtc-direct/'))
  if (address == null) throw new Error(`the point has no WebRTC-direct address: ${point.getMultiaddrs().join(' ')}`)
  return address
}

describe('webRTCDirectCertificate', () => {
  it('is a valid self-signed certificate, the same for the same key and another for another key', async () => {
    const key = await generateKeyPair('Ed25519')
    const certificate = webRTCDirectCertificate(key)

    const x509 = new X509Certificate(certificate.pem)
    expect(x509.verify(x509.publicKey)).toBe(true)
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(webRTCDirectCertificate(key)).toEqual(certificate)
    expect(webRTCDirectCertificate(await generateKeyPair('Ed25519')).certhash).not.toBe(certificate.certhash)
  })
})

describe('createRendezvousPoint on WebRTC-direct', () => {
  let directory: string | undefined
  afterEach(async () => { if (directory != null) await rm(directory, { recursive: true, force: true }) })

  it('restarted with the same key file, it has the same WebRTC-direct address: same certhash, same peer id', async () => {
    directory = await mkdtemp(join(tmpdir(), 'rendezvous-point-webrtc-'))
    const keyFile = join(directory, 'point.key')
    const listen = ['/ip4/127.0.0.1/udp/0/webrtc-direct']
    // the port is whatever --webrtc-port says; a free one each time here, since node-datachannel lets go of a
    // UDP port some time after stop() (a process that exits frees it at once)
    const withoutPort = (address: string): string => address.replace(/\/udp\/\d+\//, '/udp/<port>/')
    const first = await startPoint({ keyFile, listen })
    const address = webRTCDirectAddress(first)
    await first.stop()

    const again = await startPoint({ keyFile, listen })
    expect(withoutPort(webRTCDirectAddress(again))).toBe(withoutPort(address))
    expect(address).toContain('/certhash/u')
  })

  it('an announced WebRTC-direct address (behind a NAT, say) is told with the point\'s certhash', async () => {
    const point = await startPoint({ announce: ['/ip4/203.0.113.5/udp/4003/webrtc-direct'] })
    const certhash = webRTCDirectAddress(point).split('/certhash/')[1].split('/')[0]

    expect(point.getMultiaddrs().map(String)).toEqual([`/ip4/203.0.113.5/udp/4003/webrtc-direct/certhash/${certhash}/p2p/${point.peerId.toString()}`])
    expect(point.services.point.getListenAddrs().map(String)).toContainEqual(expect.stringContaining(`/certhash/${certhash}`))
  })

  it('a peer dials it over WebRTC-direct (the certhash checked) and reaches the rendezvous protocol', async () => {
    const point = await startPoint()
    const peer = await createLibp2p({
      transports: [webRTCDirect()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() }
    })
    try {
      const connection = await peer.dial(multiaddr(webRTCDirectAddress(point)))
      expect(connection.remotePeer.equals(point.peerId)).toBe(true)
      const stream = await connection.newStream('/rendezvous/1.0.0')
      expect(stream.protocol).toBe('/rendezvous/1.0.0')
      await stream.close()
    } finally {
      await peer.stop()
    }
  })

  it('with another key, the certhash differs: a dial to the old address is refused', async () => {
    const point = await startPoint()
    const stale = webRTCDirectAddress(point).replace(/\/certhash\/[^/]+/, `/certhash/${webRTCDirectCertificate(await generateKeyPair('Ed25519')).certhash}`)
    const peer = await createLibp2p({ transports: [webRTCDirect()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    try {
      await expect(peer.dial(multiaddr(stale), { signal: AbortSignal.timeout(20_000) })).rejects.toThrow()
    } finally {
      await peer.stop()
    }
  })
})
