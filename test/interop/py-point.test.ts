/**
 * Our codec for the pre-2020 schema (src/protocol) against the real
 * py-libp2p point (the kit's `run-server.sh`), over raw streams: what the
 * client side builds on to register and discover at such a point. One py
 * point serves the whole file.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { RENDEZVOUS_PROTOCOL } from '../../src/constants.ts'
import { discoverRequest, isPeerInfoRefusal, parseDiscoverResponse, parseRegisterResponse, peerInfoRegisterRequest, registerRequest, unregisterRequest } from '../../src/protocol/messages.ts'
import { readRecordField } from '../../src/protocol/peer-info.ts'
import { sealPeerRecord } from '../../src/protocol/peer-record.ts'
import { UNANSWERED } from '../fixtures/harness.ts'
import { createClient, stopNodes } from '../fixtures/nodes.ts'
import { newKey } from '../fixtures/records.ts'
import { rawSession } from '../fixtures/session.ts'
import { body, bytesField } from '../fixtures/wire.ts'
import { describeWithPy, pyClient, pyPoint, stopPy } from './py-libp2p.ts'
import type { RawSession } from '../fixtures/session.ts'
import type { Libp2p, PrivateKey } from '@libp2p/interface'

describeWithPy('our pre-2020 codec at a py-libp2p point', () => {
  let address: string
  let key: PrivateKey
  let node: Libp2p

  beforeAll(async () => {
    ({ address } = await pyPoint())
    key = await newKey()
    ;({ node } = await createClient({}, 'tcp', key))
  })

  afterAll(async () => {
    await stopNodes()
    await stopPy()
  })

  async function session (): Promise<RawSession> {
    return rawSession(await node.dialProtocol(multiaddr(address), RENDEZVOUS_PROTOCOL))
  }

  /** Who is registered in `namespace` at the py point, read as PeerInfo */
  async function registered (namespace: string): Promise<Map<string, string[]>> {
    const raw = await session()
    const page = parseDiscoverResponse(await raw.request(discoverRequest(namespace, 100)), namespace)
    await raw.close()
    return new Map(page.registrations.map(r => {
      const field = readRecordField(r.signedPeerRecord)
      if (field.kind !== 'peer-info') throw new Error(`py returned a registration that is no PeerInfo: ${field.kind}`)
      return [field.peer.id.toString(), field.peer.multiaddrs.map(String)]
    }))
  }

  it('given a spec REGISTER of our own valid record, then py refuses it the way isPeerInfoRefusal recognises', async () => {
    const raw = await session()
    const record = await sealPeerRecord(key, node.getMultiaddrs(), 1n)
    const refusal = await raw.request(registerRequest('codec', record, 7200)).then(parseRegisterResponse).catch((err: unknown) => err)
    await raw.close()
    expect(refusal).toMatchObject({ name: 'NotAuthorizedError', statusText: 'Peer can only register itself' })
    expect(isPeerInfoRefusal(refusal)).toBe(true)
  })

  it('given a PeerInfo REGISTER, then py takes it; its DISCOVER answer reads as PeerInfo, ours and a py client\'s; a legacy UNREGISTER removes ours', async () => {
    const raw = await session()
    const multiaddrs = node.getMultiaddrs()
    expect(parseRegisterResponse(await raw.request(peerInfoRegisterRequest('codec', { id: node.peerId, multiaddrs }, 7200)), 'peer-info')).toBe(7200)
    await raw.close()
    const py = await pyClient(address, ['-n', 'codec', '--no-unregister'])
    const pyId = py.stdout.find(l => l.startsWith('SELF '))?.slice('SELF '.length) ?? ''
    // py's client reads what we registered, too
    expect(py.stdout).toContain(`DISCOVERED ${node.peerId} ${multiaddrs.map(String).join(' ')}`)

    const found = await registered('codec')
    expect(found.get(node.peerId.toString())).toEqual(multiaddrs.map(String))
    expect(found.get(pyId)?.every(a => a.endsWith(`/p2p/${pyId}`))).toBe(true)

    const leave = await session()
    await leave.send(unregisterRequest('codec', node.peerId.toMultihash().bytes))
    await leave.close()
    await vi.waitFor(async () => { expect([...(await registered('codec')).keys()]).toEqual([pyId]) }, UNANSWERED)
  })

  it('given a PeerInfo py refuses (an address over its 2048 bytes), then the refusal is an InvalidPeerInfoError', async () => {
    const raw = await session()
    const peerInfo = body(bytesField(1, node.peerId.toMultihash().bytes), bytesField(2, new Uint8Array(2049)))
    await expect(raw.request(registerRequest('codec', peerInfo, 7200)).then(answer => parseRegisterResponse(answer, 'peer-info')))
      .rejects.toMatchObject({ name: 'InvalidPeerInfoError', code: 101, statusText: 'Address too long' })
    await raw.close()
  })
})
