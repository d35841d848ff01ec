/**
 * Clients built on proto3 encoders (berty, py, canvas) leave out every field
 * that holds its zero value: no `type` on a REGISTER, no `ttl` when they want
 * the default. Strict clients (rust, nim) need every field present in what
 * the point answers. Both are checked on the raw bytes.
 */
import { afterEach, describe, it, expect } from 'vitest'
import { CARRIERS, startPoint, stopPoints } from '../fixtures/harness.ts'
import { signRecord } from '../fixtures/records.ts'
import { DiscoverField, DiscoverResponseField, MessageField, MessageType, RegisterField, RegisterResponseField, UnregisterField, body, bytesField, embedded, fieldNumbers, fieldValue, readFields, varintField } from '../fixtures/wire.ts'
import type { TestPeer } from '../fixtures/harness.ts'

const encoder = new TextEncoder()

async function proto3Register (peer: TestPeer, namespace: string): Promise<Uint8Array> {
  const register = body(bytesField(RegisterField.ns, namespace), bytesField(RegisterField.signedPeerRecord, await signRecord(peer.privateKey)))
  return bytesField(MessageField.register, register)
}

/** Send one hand-built frame on a fresh stream, return the raw answer */
async function exchange (peer: TestPeer, frame: Uint8Array): Promise<Uint8Array> {
  const raw = await peer.session()
  await raw.send(frame)
  const answer = await raw.receiveBytes()
  await raw.close()
  return answer
}

describe.each(CARRIERS)('clients that omit default fields, over %s', (carrier) => {
  afterEach(stopPoints)

  it('given a REGISTER without type and ttl, then it is registered for 2 h, and the answer carries type, status OK and ttl', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    const answer = await exchange(alice, await proto3Register(alice, 'app'))

    expect(fieldValue(answer, MessageField.type)).toBe(BigInt(MessageType.REGISTER_RESPONSE))
    const response = embedded(answer, MessageField.registerResponse)
    expect(fieldValue(response, RegisterResponseField.status)).toBe(0n)
    expect(fieldValue(response, RegisterResponseField.ttl)).toBe(7200n)
    expect(await point.server.getNamespaceStats()).toEqual(new Map([['app', 1]]))
  })

  it('given a DISCOVER with only a namespace, then the answer carries type, status, cookie, and ns, record and ttl on every registration', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    await exchange(alice, await proto3Register(alice, 'app'))
    const answer = await exchange(alice, body(
      varintField(MessageField.type, MessageType.DISCOVER),
      bytesField(MessageField.discover, bytesField(DiscoverField.ns, 'app'))
    ))

    expect(fieldValue(answer, MessageField.type)).toBe(BigInt(MessageType.DISCOVER_RESPONSE))
    const response = embedded(answer, MessageField.discoverResponse)
    expect(fieldValue(response, DiscoverResponseField.status)).toBe(0n)
    expect((fieldValue(response, DiscoverResponseField.cookie) as Uint8Array).byteLength).toBeGreaterThan(0)
    const registrations = readFields(response).filter(f => f.field === DiscoverResponseField.registrations).map(f => f.value as Uint8Array)
    expect(registrations).toHaveLength(1)
    expect(fieldNumbers(registrations[0])).toEqual([RegisterField.ns, RegisterField.signedPeerRecord, RegisterField.ttl])
    expect(fieldValue(registrations[0], RegisterField.ns)).toEqual(encoder.encode('app'))
    expect(fieldValue(registrations[0], RegisterField.ttl)).toBe(7200n)
  })

  it('given a DISCOVER with no type and an empty body, then it asks for everything, and even an empty answer carries status and cookie', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    const answer = await exchange(alice, bytesField(MessageField.discover, new Uint8Array()))
    const response = embedded(answer, MessageField.discoverResponse)
    expect(fieldNumbers(response).sort()).toEqual([DiscoverResponseField.cookie, DiscoverResponseField.status])
  })

  it('given an UNREGISTER without type, then the registration goes', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    await exchange(alice, await proto3Register(alice, 'app'))
    const raw = await alice.session()
    await raw.send(bytesField(MessageField.unregister, bytesField(UnregisterField.ns, 'app')))
    const answer = await raw.request(bytesField(MessageField.discover, new Uint8Array()))
    expect(answer.discoverResponse?.registrations).toEqual([])
  })

  it('given a refused REGISTER, then the answer carries type, status and statusText', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    const answer = await exchange(alice, bytesField(MessageField.register, bytesField(RegisterField.ns, 'app')))
    expect(fieldValue(answer, MessageField.type)).toBe(BigInt(MessageType.REGISTER_RESPONSE))
    const response = embedded(answer, MessageField.registerResponse)
    expect(fieldValue(response, RegisterResponseField.status)).toBe(101n)
    expect(new TextDecoder().decode(fieldValue(response, RegisterResponseField.statusText) as Uint8Array)).toBe('signed peer record is missing')
  })
})
