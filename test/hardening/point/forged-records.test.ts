/**
 * Forged records against a point that already holds real registrations, over
 * real libp2p connections: every forgery is refused with its status, and the
 * store afterwards is exactly what it was, byte for byte, victims' records
 * included.
 *
 * The status of each forgery on every carrier is pinned down in
 * test/server/register.test.ts ('signed peer record', 're-registration');
 * the records come from test/fixtures/records.ts. What this adds is the
 * attacker's view: forgeries aimed at registrations that exist, replays of
 * records taken from the point's own answers, and the check that nothing at
 * all changed.
 */
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MemoryRegistrationStore } from '../../../src/server/store/memory-store.ts'
import { startPoint, stopPoints } from '../../fixtures/harness.ts'
import { LEGACY_ROUTING_STATE, newKey, signRecord, tamper } from '../../fixtures/records.ts'
import { snapshot } from './fuzz-check.ts'
import { report, watchUnhandled } from './support.ts'
import type { TestPeer, TestPoint } from '../../fixtures/harness.ts'

const unhandled = watchUnhandled()
afterAll(() => {
  unhandled.stop()
  expect(unhandled.seen).toEqual([])
})

const encoder = new TextEncoder()

interface Scene {
  point: TestPoint
  store: MemoryRegistrationStore
  /** Registered in 'app' with a record of seq 10 */
  alice: TestPeer
  /** The attacker, registered in 'app' with a record of seq 10 */
  mallory: TestPeer
  /** Alice's record as the point hands it to anyone who asks */
  alicesRecord: Uint8Array
}

interface Forgery {
  name: string
  /** Who sends it */
  from: 'mallory' | 'alice'
  status: 'E_INVALID_SIGNED_PEER_RECORD' | 'E_NOT_AUTHORIZED'
  /**
   * Where it is sent. An older record is stale only where a newer one is
   * registered: elsewhere it is the sender's own record and may be used.
   * @default the victims' namespace and one nobody is in
   */
  namespaces?: string[]
  record(scene: Scene): Promise<Uint8Array>
}

const FORGERIES: Forgery[] = [
  {
    name: "another peer's record, replayed from a DISCOVER answer",
    from: 'mallory',
    status: 'E_NOT_AUTHORIZED',
    record: async ({ alicesRecord }) => alicesRecord
  },
  {
    name: "another peer's older record",
    from: 'mallory',
    status: 'E_NOT_AUTHORIZED',
    record: async ({ alice }) => signRecord(alice.privateKey, { seq: 9n })
  },
  {
    name: "a record about the sender signed by a different key",
    from: 'mallory',
    status: 'E_INVALID_SIGNED_PEER_RECORD',
    record: async ({ mallory }) => signRecord(await newKey(), { peerId: mallory.peerId, seq: 11n })
  },
  {
    name: "a record about the victim signed by the sender's key",
    from: 'mallory',
    status: 'E_INVALID_SIGNED_PEER_RECORD',
    record: async ({ mallory, alice }) => signRecord(mallory.privateKey, { peerId: alice.peerId, seq: 11n })
  },
  {
    name: "the victim's record with the sender's public key in the envelope",
    from: 'mallory',
    status: 'E_INVALID_SIGNED_PEER_RECORD',
    record: async ({ mallory, alicesRecord }) => {
      const original = RecordEnvelope.createFromProtobuf(alicesRecord)
      return new RecordEnvelope({ publicKey: mallory.privateKey.publicKey, payloadType: original.payloadType, payload: original.payload, signature: original.signature }).marshal()
    }
  },
  {
    name: "the sender's own record with its addresses changed after signing",
    from: 'mallory',
    status: 'E_INVALID_SIGNED_PEER_RECORD',
    record: async ({ mallory }) => tamper(await signRecord(mallory.privateKey, { seq: 11n }))
  },
  {
    name: "the victim's record with its addresses changed after signing",
    from: 'mallory',
    status: 'E_INVALID_SIGNED_PEER_RECORD',
    record: async ({ alicesRecord }) => tamper(alicesRecord)
  },
  {
    name: 'an envelope whose payload type is not a peer record',
    from: 'mallory',
    status: 'E_INVALID_SIGNED_PEER_RECORD',
    record: async ({ mallory }) => signRecord(mallory.privateKey, { seq: 11n, payloadType: encoder.encode('/libp2p/not-a-peer-record'), domain: 'libp2p-not-a-peer-record' })
  },
  {
    name: 'a peer-record payload type over a payload that is no peer record',
    from: 'mallory',
    status: 'E_INVALID_SIGNED_PEER_RECORD',
    record: async ({ mallory }) => signRecord(mallory.privateKey, { payload: encoder.encode('not a peer record at all') })
  },
  {
    name: "rust's legacy payload type signed under the peer-record domain",
    from: 'mallory',
    status: 'E_INVALID_SIGNED_PEER_RECORD',
    record: async ({ mallory }) => signRecord(mallory.privateKey, { seq: 11n, payloadType: LEGACY_ROUTING_STATE.payloadType, domain: PeerRecord.DOMAIN })
  },
  {
    name: "the sender's own older record, replayed",
    from: 'mallory',
    status: 'E_INVALID_SIGNED_PEER_RECORD',
    namespaces: ['app'],
    record: async ({ mallory }) => signRecord(mallory.privateKey, { seq: 9n, multiaddrs: ['/ip4/203.0.113.9/tcp/9'] })
  },
  {
    name: "the victim's own older record, replayed by the victim",
    from: 'alice',
    status: 'E_INVALID_SIGNED_PEER_RECORD',
    namespaces: ['app'],
    record: async ({ alice }) => signRecord(alice.privateKey, { seq: 9n, multiaddrs: ['/ip4/203.0.113.9/tcp/9'] })
  }
]

const refused: Record<string, string> = {}

describe('forged records against a point with registrations', () => {
  let scene: Scene

  beforeEach(async () => {
    const store = new MemoryRegistrationStore()
    const point = await startPoint('tcp', { store })
    const [alice, mallory] = [await point.peer(), await point.peer()]
    expect(await alice.registerRecord('app', await signRecord(alice.privateKey, { seq: 10n }), 600)).toBe(600)
    expect(await mallory.registerRecord('app', await signRecord(mallory.privateKey, { seq: 10n }), 600)).toBe(600)
    const found = (await mallory.client.discover(point.target, 'app')).registrations.find(r => r.peerId.equals(alice.peerId))
    if (found == null) throw new Error('alice is not discoverable')
    scene = { point, store, alice, mallory, alicesRecord: found.signedPeerRecord }
  })

  afterEach(stopPoints)

  afterAll(() => {
    report('forged records', { refused: Object.keys(refused).length, statuses: refused })
  })

  it.each(FORGERIES)('given $name, then it is refused with $status and nothing is stored or changed', async (forgery) => {
    const { point, store } = scene
    const everything = async (): Promise<string[]> => snapshot((await store.discover(undefined, 0n, Number.MAX_SAFE_INTEGER, Date.now())).registrations)
    const before = await everything()
    const stats = await point.server.getNamespaceStats()
    const sender = scene[forgery.from]
    const record = await forgery.record(scene)

    for (const namespace of forgery.namespaces ?? ['app', 'elsewhere']) {
      await expect(sender.registerRecord(namespace, record, 600)).rejects.toMatchObject({ status: forgery.status })
    }
    refused[forgery.name] = forgery.status

    expect(await everything()).toEqual(before)
    expect(await point.server.getNamespaceStats()).toEqual(stats)
    // what anyone discovers is still the genuine records, byte for byte
    const { registrations } = await scene.alice.client.discover(point.target, 'app')
    expect(registrations.map(r => [r.peerId.toString(), r.seq])).toEqual([[scene.alice.peerId.toString(), 10n], [scene.mallory.peerId.toString(), 10n]])
    expect(registrations[0].signedPeerRecord).toEqual(scene.alicesRecord)
  })
})
