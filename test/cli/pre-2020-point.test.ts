/**
 * The command line client at a point of the pre-2020 schema, on a machine
 * without py-libp2p: a real libp2p node whose `/rendezvous/1.0.0` handler
 * answers as py's point does (refuses a signed record with E_NOT_AUTHORIZED
 * "Peer can only register itself", keeps a PeerInfo, returns PeerInfos).
 * The same client against the real py point: test/interop.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { encodePeerInfo, readRecordField } from '../../src/protocol/peer-info.ts'
import { createScriptedPoint, stopNodes } from '../fixtures/nodes.ts'
import { newKey } from '../fixtures/records.ts'
import { DiscoverResponseField, MessageField, MessageType, RegisterField, RegisterResponseField, body, bytesField, embedded, fieldNumbers, fieldValue, varintField } from '../fixtures/wire.ts'
import { killAll, startCli, startClient } from './cli-process.ts'
import type { Answer } from '../fixtures/nodes.ts'

afterEach(async () => {
  await killAll()
  await stopNodes()
})

function answer (...fields: Uint8Array[]): Uint8Array {
  return body(varintField(MessageField.type, MessageType.REGISTER_RESPONSE), bytesField(MessageField.registerResponse, body(...fields)))
}

/** A py-like point holding `held` PeerInfos, and every PeerInfo registered at it */
function pyLike (held: Uint8Array[]): Answer {
  return request => {
    const fields = fieldNumbers(request)
    if (fields.includes(MessageField.register)) {
      const record = fieldValue(embedded(request, MessageField.register), RegisterField.signedPeerRecord) as Uint8Array
      if (readRecordField(record).kind !== 'peer-info') {
        return answer(varintField(RegisterResponseField.status, 200), bytesField(RegisterResponseField.statusText, 'Peer can only register itself'))
      }
      held.push(record)
      return answer(varintField(RegisterResponseField.ttl, 7200))
    }
    if (!fields.includes(MessageField.discover)) return undefined
    const entries = held.map(peerInfo => bytesField(DiscoverResponseField.registrations, body(bytesField(RegisterField.signedPeerRecord, peerInfo), varintField(RegisterField.ttl, 7200))))
    return body(varintField(MessageField.type, MessageType.DISCOVER_RESPONSE), bytesField(MessageField.discoverResponse, body(...entries)))
  }
}

describe('the command line client at a point of the pre-2020 schema', () => {
  const mark = ' (uncertified: an unsigned PeerInfo)'

  async function pointWithPyPeer (): Promise<{ address: string, py: string, pyAddress: string }> {
    const py = peerIdFromPrivateKey(await newKey())
    const pyAddress = `/ip4/127.0.0.1/tcp/4100/p2p/${py}`
    const point = await createScriptedPoint(pyLike([encodePeerInfo({ id: py, multiaddrs: [multiaddr(pyAddress)] })]))
    return { address: point.address.toString(), py: py.toString(), pyAddress }
  }

  it('given a py peer registered, then the client registers and prints it and itself, marked uncertified', async () => {
    const { address, py, pyAddress } = await pointWithPyPeer()
    const { cli, peerId } = await startClient(address)
    const printed = cli.lines.join('\n')
    expect(cli.lines.some(l => l.endsWith('Registered with TTL 7200s; pass --refresh to register again before it lapses')), printed).toBe(true)
    expect(cli.lines.some(l => l.endsWith(`Found peer: ${py}${mark}`)), printed).toBe(true)
    expect(cli.lines.some(l => l.endsWith(`Found self: ${peerId}${mark}`)), printed).toBe(true)
    expect(cli.lines.some(l => l.trim() === pyAddress), printed).toBe(true)
  })

  it('given --json, then such a peer\'s event says certified: false', async () => {
    const { address, py, pyAddress } = await pointWithPyPeer()
    const json = startCli(['--mode', 'client', '--address', address, '--json'])
    const peer = JSON.parse(await json.line(l => l.startsWith('{"event": "peer"') && l.includes(`"peerId": "${py}"`)))
    expect(peer).toMatchObject({ event: 'peer', peerId: py, multiaddrs: [pyAddress], self: false, certified: false })
  })
})
