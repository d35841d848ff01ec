import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { soleRelay } from '../../src/server/relay-path.ts'

const R1 = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const R2 = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
const SELF = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'

function relayOf (...addresses: string[]): string | undefined {
  return soleRelay(addresses.map(a => multiaddr(a)))
}

describe('the one relay a record goes through', () => {
  it('is the relay of every address, whatever carries each one to it', () => {
    expect(relayOf(`/ip4/127.0.0.1/tcp/4001/ws/p2p/${R1}/p2p-circuit`)).toBe(R1)
    expect(relayOf(
      `/dns4/rdv.example.com/tcp/443/wss/p2p/${R1}/p2p-circuit`,
      `/ip4/198.51.100.7/tcp/4001/p2p/${R1}/p2p-circuit/p2p/${SELF}`,
      `/ip4/198.51.100.7/tcp/4001/ws/p2p/${R1}/p2p-circuit/webrtc`
    )).toBe(R1)
  })

  it('is the hop holding the reservation, the last one, on a path through several relays', () => {
    expect(relayOf(`/ip4/198.51.100.7/tcp/4001/p2p/${R2}/p2p-circuit/p2p/${R1}/p2p-circuit`)).toBe(R1)
  })

  it('is none when any address stands on its own, goes through another relay or names no relay', () => {
    expect(relayOf(`/ip4/127.0.0.1/tcp/4001/ws/p2p/${R1}/p2p-circuit`, '/ip4/198.51.100.7/tcp/4001')).toBeUndefined()
    expect(relayOf(`/ip4/127.0.0.1/tcp/4001/p2p/${R1}/p2p-circuit`, `/ip4/127.0.0.1/tcp/4002/p2p/${R2}/p2p-circuit`)).toBeUndefined()
    expect(relayOf('/ip4/127.0.0.1/tcp/4001/ws/p2p-circuit')).toBeUndefined()
    expect(relayOf(`/ip4/127.0.0.1/tcp/4001/p2p/${R1}`)).toBeUndefined()
    expect(relayOf()).toBeUndefined()
  })
})
