import { describe, it, expect } from 'vitest'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { openPeerRecord, openPeerRecordNow, sealPeerRecord } from '../../src/protocol/peer-record.ts'
import { LEGACY_ROUTING_STATE, newKey, signRecord, tamper } from '../fixtures/records.ts'

describe('signed peer records', () => {
  it('given a record we sealed, then it opens to its peer, addresses and sequence number', async () => {
    const key = await newKey()
    const sealed = await sealPeerRecord(key, [multiaddr('/ip4/10.0.0.1/tcp/1'), multiaddr('/dns4/example.com/tcp/443/wss')], 42n)
    const opened = await openPeerRecord(sealed)
    expect(opened.peerId.equals(peerIdFromPrivateKey(key))).toBe(true)
    expect(opened.multiaddrs.map(String)).toEqual(['/ip4/10.0.0.1/tcp/1', '/dns4/example.com/tcp/443/wss'])
    expect(opened.seq).toBe(42n)
  })

  it.each([
    ['a tampered payload', async () => tamper(await signRecord(await newKey())), 'signature does not verify'],
    ['a signature for another domain', async () => signRecord(await newKey(), { domain: 'some-other-domain' }), 'signature does not verify'],
    ['a signer other than the record\'s peer', async () => signRecord(await newKey(), { peerId: peerIdFromPrivateKey(await newKey()) }), 'record is signed by another peer'],
    ['bytes that are no envelope', async () => Uint8Array.from([0xff, 0xff, 0xff]), 'envelope does not decode'],
    ['an envelope holding something else', async () => signRecord(await newKey(), { payloadType: Uint8Array.from([0x03, 0x02]) }), 'envelope does not hold a peer record'],
    ['a payload that is no peer record', async () => signRecord(await newKey(), { payload: Uint8Array.from([0xff, 0xff]) }), 'peer record does not decode']
  ])('given %s, then it is refused as InvalidSignedPeerRecordError saying why, checked by WebCrypto or in JavaScript', async (_, make, why) => {
    const bytes = await make()
    await expect(openPeerRecord(bytes)).rejects.toMatchObject({ name: 'InvalidSignedPeerRecordError', statusText: why })
    expect(() => openPeerRecordNow(bytes)).toThrow(expect.objectContaining({ name: 'InvalidSignedPeerRecordError', statusText: why }))
  })

  it('given valid records, then checking them without leaving the task opens them alike; keys other than Ed25519 are left to the async check', async () => {
    const key = await newKey()
    for (const bytes of [await signRecord(key, { seq: 7n }), await signRecord(key, LEGACY_ROUTING_STATE)]) {
      const now = openPeerRecordNow(bytes)
      const later = await openPeerRecord(bytes)
      expect([now?.peerId.toString(), now?.seq, now?.multiaddrs.map(String)]).toEqual([later.peerId.toString(), later.seq, later.multiaddrs.map(String)])
    }
    expect(openPeerRecordNow(await signRecord(await generateKeyPair('secp256k1')))).toBeUndefined()
  })

  it('given a record signed under rust-libp2p\'s routing-state domain, then it opens unless legacy records are turned off', async () => {
    const key = await newKey()
    const legacy = await signRecord(key, LEGACY_ROUTING_STATE)
    expect((await openPeerRecord(legacy)).peerId.equals(peerIdFromPrivateKey(key))).toBe(true)
    await expect(openPeerRecord(legacy, { acceptLegacyDomain: false })).rejects.toHaveProperty('name', 'InvalidSignedPeerRecordError')
  })

  it('given the legacy payload type signed under the standard domain, then the signature does not verify', async () => {
    const mixed = await signRecord(await newKey(), { payloadType: LEGACY_ROUTING_STATE.payloadType })
    await expect(openPeerRecord(mixed)).rejects.toMatchObject({ statusText: 'signature does not verify' })
  })
})
