import { describe, it, expect } from 'vitest'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { OwnRecord } from '../../src/client/own-record.ts'
import { WEBRTC_SIGNALING_PROTOCOL } from '../../src/constants.ts'
import { openPeerRecord } from '../../src/protocol/peer-record.ts'
import { newKey } from '../fixtures/records.ts'
import type { OwnRecordInit } from '../../src/client/own-record.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { AddressManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

interface Subject {
  record: OwnRecord
  key: PrivateKey
  setAddresses(addresses: string[]): void
  setTime(ms: number): void
}

/** An OwnRecord over a stand-in address manager (the only part of a node it reads) and a clock we move */
async function ownRecord (addresses: string[], init: Omit<OwnRecordInit, 'now'> = {}, key?: PrivateKey, protocols: string[] = []): Promise<Subject> {
  const privateKey = key ?? await newKey()
  let current: Multiaddr[] = addresses.map(a => multiaddr(a))
  let time = 1_000_000
  const addressManager = { getAddresses: () => current } as unknown as AddressManager
  const registrar = { getProtocols: () => protocols }
  return {
    record: new OwnRecord({ privateKey, addressManager, registrar }, { ...init, now: () => time }),
    key: privateKey,
    setAddresses (next) { current = next.map(a => multiaddr(a)) },
    setTime (ms) { time = ms }
  }
}

describe('our own peer record', () => {
  it('given addresses that end in our own /p2p, then the sealed record holds them without it, signed by us', async () => {
    const key = await newKey()
    const self = peerIdFromPrivateKey(key).toString()
    const { record } = await ownRecord([`/ip4/10.0.0.1/tcp/1/p2p/${self}`, '/ip4/10.0.0.2/tcp/2/ws'], {}, key)
    const opened = await openPeerRecord(await record.seal())
    expect(opened.peerId.toString()).toBe(self)
    expect(opened.multiaddrs.map(String)).toEqual(['/ip4/10.0.0.1/tcp/1', '/ip4/10.0.0.2/tcp/2/ws'])
    expect(opened.seq).toBe(record.seq)
  })

  it('given the addresses have not changed, then the same envelope is reused and the sequence number stays', async () => {
    const subject = await ownRecord(['/ip4/10.0.0.1/tcp/1'])
    const first = await subject.record.seal()
    const seq = subject.record.seq
    subject.setTime(2_000_000)
    expect(await subject.record.seal()).toBe(first)
    expect(subject.record.seq).toBe(seq)
  })

  it('given the addresses change, then the record is sealed again with a sequence number that follows the clock', async () => {
    const subject = await ownRecord(['/ip4/10.0.0.1/tcp/1'])
    await subject.record.seal()
    expect(subject.record.seq).toBe(1_000_000n)
    subject.setAddresses(['/ip4/10.0.0.1/tcp/2'])
    subject.setTime(1_500_000)
    expect((await openPeerRecord(await subject.record.seal())).seq).toBe(1_500_000n)
  })

  it('given the clock goes back or stands still, then the sequence number still only grows', async () => {
    const subject = await ownRecord(['/ip4/10.0.0.1/tcp/1'])
    await subject.record.seal()
    subject.setAddresses(['/ip4/10.0.0.1/tcp/2'])
    subject.setTime(10)
    await subject.record.seal()
    expect(subject.record.seq).toBe(1_000_001n)
    subject.setAddresses(['/ip4/10.0.0.1/tcp/3'])
    await subject.record.seal()
    expect(subject.record.seq).toBe(1_000_002n)
  })

  it('given a floor from an earlier session above the clock, then the next sequence number is above the floor', async () => {
    const subject = await ownRecord(['/ip4/10.0.0.1/tcp/1'])
    subject.record.raiseSeqFloor(5_000_000n)
    subject.record.raiseSeqFloor(4_000_000n)
    expect((await openPeerRecord(await subject.record.seal())).seq).toBe(5_000_001n)
  })

  it('given an envelope already sealed, when a higher floor arrives, then the next seal is a new record above it', async () => {
    const subject = await ownRecord(['/ip4/10.0.0.1/tcp/1'])
    const early = await openPeerRecord(await subject.record.seal())
    subject.record.raiseSeqFloor(early.seq + 1_000n)
    expect((await openPeerRecord(await subject.record.seal())).seq).toBe(early.seq + 1_001n)
  })

  it('given a relayed address and a node that takes WebRTC signalled through the relay, then the /webrtc address behind it comes first, once', async () => {
    const key = await newKey()
    // the address manager ends every address with our own /p2p/
    const self = `/p2p/${peerIdFromPrivateKey(key).toString()}`
    const relayed = '/ip4/10.0.0.1/tcp/1/ws/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq/p2p-circuit'
    const withWebRTC = await ownRecord([relayed + self, `/ip4/10.0.0.2/tcp/2${self}`], {}, key, [WEBRTC_SIGNALING_PROTOCOL])
    expect(withWebRTC.record.addresses().map(String)).toEqual([`${relayed}/webrtc`, relayed, '/ip4/10.0.0.2/tcp/2'])

    // listening on /webrtc already gave it: not twice
    withWebRTC.setAddresses([`${relayed}/webrtc${self}`, relayed + self])
    expect(withWebRTC.record.addresses().map(String)).toEqual([`${relayed}/webrtc`, relayed])

    const without = await ownRecord([relayed + self], {}, key, ['/ipfs/id/1.0.0'])
    expect(without.record.addresses().map(String)).toEqual([relayed])
  })

  it('given a filter, then only the addresses it keeps are advertised', async () => {
    const { record } = await ownRecord(['/ip4/127.0.0.1/tcp/1', '/ip4/203.0.113.1/tcp/2'], { addressFilter: ma => !ma.toString().startsWith('/ip4/127.') })
    expect(record.addresses().map(String)).toEqual(['/ip4/203.0.113.1/tcp/2'])
  })

  it('given more addresses than go points accept, then the record stays within 2048 bytes and keeps what fits, in order', async () => {
    const long = Array.from({ length: 12 }, (_, i) => `/dns4/${String(i).padStart(2, '0')}${'x'.repeat(190)}.example/tcp/443/wss`)
    const { record } = await ownRecord([...long, '/ip4/10.0.0.1/tcp/1'])
    const advertised = record.addresses()
    const bytes = advertised.reduce((sum, ma) => sum + ma.bytes.byteLength, 0)
    expect(bytes).toBeLessThanOrEqual(2048)
    expect(advertised.length).toBeLessThan(long.length + 1)
    expect(advertised.map(String)).toEqual([...long.slice(0, advertised.length - 1), '/ip4/10.0.0.1/tcp/1'])
  })

  it('given no addresses, then sealing fails with NoAddressesError, unless empty records are allowed', async () => {
    await expect((await ownRecord([])).record.seal()).rejects.toHaveProperty('name', 'NoAddressesError')
    const lenient = await ownRecord([], { allowEmptyAddresses: true })
    expect((await openPeerRecord(await lenient.record.seal())).multiaddrs).toEqual([])
  })

  it('given signing fails once, then the failure is not kept: the next seal signs again', async () => {
    const key = await newKey()
    let failures = 1
    const flaky = new Proxy(key, {
      get (target, property, receiver) {
        if (property !== 'sign') return Reflect.get(target, property, receiver)
        return async (data: Uint8Array) => {
          if (failures-- > 0) throw new Error('the key store is locked')
          return target.sign(data)
        }
      }
    })
    const { record } = await ownRecord(['/ip4/10.0.0.1/tcp/1'], {}, flaky)
    await expect(record.seal()).rejects.toThrow('the key store is locked')
    expect((await openPeerRecord(await record.seal())).peerId.equals(peerIdFromPrivateKey(key))).toBe(true)
  })
})
