import { describe, it, expect } from 'vitest'
import { Message, discoverError, discoverOk, discoverRequest, parseDiscoverResponse, parseRegisterResponse, parseRequest, registerError, registerOk, registerRequest, unregisterRequest } from '../../src/protocol/messages.ts'
import { DiscoverField, DiscoverResponseField, MessageField, MessageType, RegisterField, RegisterResponseField, UnregisterField, body, bytesField, embedded, fieldNumbers, fieldValue, readFields, varintField } from '../fixtures/wire.ts'
import { ERROR_NAMES, ERROR_STATUSES, STATUS_CODES } from '../fixtures/statuses.ts'

const record = Uint8Array.from([1, 2, 3, 4])
const cookie = Uint8Array.from([9, 9, 9])
const encoder = new TextEncoder()

/** The wire bytes of the message body under `field` of an encoded Message */
function section (message: Message, field: number): Uint8Array {
  return embedded(Message.encode(message), field)
}

describe('what the codec writes', () => {
  it('given a REGISTER, then type REGISTER (0) is on the wire although it is the zero value, with ns, record and ttl', () => {
    const message = registerRequest('app', record, 7200)
    expect(fieldValue(Message.encode(message), MessageField.type)).toBe(BigInt(MessageType.REGISTER))
    const register = section(message, MessageField.register)
    expect(fieldValue(register, RegisterField.ns)).toEqual(encoder.encode('app'))
    expect(fieldValue(register, RegisterField.signedPeerRecord)).toEqual(record)
    expect(fieldValue(register, RegisterField.ttl)).toBe(7200n)
  })

  it('given a REGISTER without a ttl, then ttl is left out so that the point applies its default', () => {
    expect(fieldNumbers(section(registerRequest('app', record), MessageField.register))).toEqual([RegisterField.ns, RegisterField.signedPeerRecord])
  })

  it('given an UNREGISTER, then it carries type and ns, and the removed id only when asked for', () => {
    const plain = unregisterRequest('app')
    expect(fieldValue(Message.encode(plain), MessageField.type)).toBe(BigInt(MessageType.UNREGISTER))
    expect(fieldNumbers(section(plain, MessageField.unregister))).toEqual([UnregisterField.ns])

    const id = Uint8Array.from([0, 36, 8, 1])
    expect(fieldValue(section(unregisterRequest('app', id), MessageField.unregister), UnregisterField.id)).toEqual(id)
  })

  it('given a DISCOVER with a namespace, a limit and a cookie, then all three are on the wire', () => {
    const message = discoverRequest('app', 10, cookie)
    expect(fieldValue(Message.encode(message), MessageField.type)).toBe(BigInt(MessageType.DISCOVER))
    const discover = section(message, MessageField.discover)
    expect(fieldValue(discover, DiscoverField.ns)).toEqual(encoder.encode('app'))
    expect(fieldValue(discover, DiscoverField.limit)).toBe(10n)
    expect(fieldValue(discover, DiscoverField.cookie)).toEqual(cookie)
  })

  it.each([
    ['no namespace, limit or cookie', undefined, undefined, undefined],
    ['ns "", limit 0 and an empty cookie', '', 0, new Uint8Array()],
    ['a negative limit', undefined, -5, undefined],
    ['a limit below one', undefined, 0.5, undefined]
  ])('given a DISCOVER with %s, then no zero sentinel is written: the discover body is empty', (_, namespace, limit, emptyCookie) => {
    const top = Message.encode(discoverRequest(namespace, limit, emptyCookie))
    expect(fieldNumbers(top)).toEqual([MessageField.type, MessageField.discover])
    expect(embedded(top, MessageField.discover).byteLength).toBe(0)
  })

  it('given a fractional limit, then it is rounded down', () => {
    expect(fieldValue(section(discoverRequest('app', 7.9), MessageField.discover), DiscoverField.limit)).toBe(7n)
  })

  it('given an OK REGISTER_RESPONSE, then type, status OK (0) and ttl are all on the wire', () => {
    const message = registerOk(7200)
    expect(fieldValue(Message.encode(message), MessageField.type)).toBe(BigInt(MessageType.REGISTER_RESPONSE))
    const response = section(message, MessageField.registerResponse)
    expect(fieldValue(response, RegisterResponseField.status)).toBe(0n)
    expect(fieldValue(response, RegisterResponseField.ttl)).toBe(7200n)
  })

  it('given an OK DISCOVER_RESPONSE with no registrations, then status OK and the cookie are still on the wire', () => {
    const message = discoverOk([], cookie)
    expect(fieldValue(Message.encode(message), MessageField.type)).toBe(BigInt(MessageType.DISCOVER_RESPONSE))
    const response = section(message, MessageField.discoverResponse)
    expect(fieldNumbers(response).sort()).toEqual([DiscoverResponseField.cookie, DiscoverResponseField.status])
    expect(fieldValue(response, DiscoverResponseField.status)).toBe(0n)
    expect(fieldValue(response, DiscoverResponseField.cookie)).toEqual(cookie)
  })

  it('given returned registrations, then each carries ns, signedPeerRecord and ttl', () => {
    const response = section(discoverOk([
      { namespace: 'a', signedPeerRecord: record, ttl: 60 },
      { namespace: 'b', signedPeerRecord: record, ttl: 1 }
    ], cookie), MessageField.discoverResponse)
    const registrations = readFields(response).filter(f => f.field === DiscoverResponseField.registrations).map(f => f.value as Uint8Array)
    expect(registrations).toHaveLength(2)
    const allFields = [RegisterField.ns, RegisterField.signedPeerRecord, RegisterField.ttl]
    expect(registrations.map(r => fieldNumbers(r))).toEqual([allFields, allFields])
    expect(registrations.map(r => fieldValue(r, RegisterField.ttl))).toEqual([60n, 1n])
  })

  it.each(ERROR_STATUSES)('given a %s response, then type, status and statusText are on the wire', (status) => {
    for (const [message, field] of [[registerError(status, 'why'), MessageField.registerResponse], [discoverError(status, 'why'), MessageField.discoverResponse]] as const) {
      const response = section(message, field)
      const statusField = field === MessageField.registerResponse ? RegisterResponseField.status : DiscoverResponseField.status
      expect(fieldValue(response, statusField)).toBe(BigInt(STATUS_CODES[status]))
      expect(readFields(response).some(f => f.value instanceof Uint8Array && new TextDecoder().decode(f.value) === 'why')).toBe(true)
      expect(fieldNumbers(Message.encode(message))).toContain(MessageField.type)
    }
  })
})

describe('what the codec reads from proto3 senders', () => {
  const registerBody = body(bytesField(RegisterField.ns, 'app'), bytesField(RegisterField.signedPeerRecord, record))

  it('given a REGISTER without a type field, then it is read as a REGISTER', () => {
    const request = parseRequest(Message.decode(body(bytesField(MessageField.register, registerBody))))
    expect(request).toEqual({ type: 'REGISTER', namespace: 'app', signedPeerRecord: record, record: { kind: 'envelope' }, ttl: undefined })
  })

  it('given an entirely empty message, then it is a REGISTER with nothing set, which the point will refuse on its merits', () => {
    expect(parseRequest(Message.decode(new Uint8Array()))).toEqual({ type: 'REGISTER', namespace: undefined, signedPeerRecord: undefined, record: undefined, ttl: undefined })
  })

  it('given UNREGISTER and DISCOVER bodies without a type field, then the body says what they are', () => {
    expect(parseRequest(Message.decode(body(bytesField(MessageField.unregister, bytesField(UnregisterField.ns, 'app'))))))
      .toEqual({ type: 'UNREGISTER', namespace: 'app', legacyId: undefined })
    expect(parseRequest(Message.decode(body(bytesField(MessageField.discover, varintField(DiscoverField.limit, 5))))))
      .toEqual({ type: 'DISCOVER', namespace: undefined, limit: 5, cookie: undefined })
  })

  it('given an empty legacy id, then it counts as absent', () => {
    const unregister = body(bytesField(UnregisterField.ns, 'app'), bytesField(UnregisterField.id, new Uint8Array()))
    expect(parseRequest(Message.decode(body(varintField(MessageField.type, MessageType.UNREGISTER), bytesField(MessageField.unregister, unregister)))))
      .toEqual({ type: 'UNREGISTER', namespace: 'app', legacyId: undefined })
  })

  it('given a response where a request belongs, then there is no request in it', () => {
    expect(parseRequest(registerOk(60))).toBeUndefined()
    expect(parseRequest(Message.decode(body(bytesField(MessageField.discoverResponse, new Uint8Array()))))).toBeUndefined()
  })

  it('given a REGISTER_RESPONSE without status, then it is OK, with the ttl when one was sent', () => {
    expect(parseRegisterResponse(Message.decode(body(varintField(MessageField.type, MessageType.REGISTER_RESPONSE), bytesField(MessageField.registerResponse, varintField(RegisterResponseField.ttl, 300)))))).toBe(300)
    expect(parseRegisterResponse(Message.decode(body(varintField(MessageField.type, MessageType.REGISTER_RESPONSE), bytesField(MessageField.registerResponse, new Uint8Array()))))).toBeUndefined()
  })

  it('given a REGISTER_RESPONSE body without a type field, then the body is enough', () => {
    expect(parseRegisterResponse(Message.decode(bytesField(MessageField.registerResponse, varintField(RegisterResponseField.ttl, 60))))).toBe(60)
  })

  it('given an answer of the wrong kind, or none at all, then it is an InvalidMessageError', () => {
    expect(() => parseRegisterResponse(discoverOk([], cookie))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    expect(() => parseDiscoverResponse(registerOk(60))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    expect(() => parseRegisterResponse(Message.decode(varintField(MessageField.type, MessageType.REGISTER_RESPONSE)))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    // a body of the right kind under a type that says otherwise is not trusted either
    expect(() => parseRegisterResponse({ type: Message.MessageType.DISCOVER_RESPONSE, registerResponse: {} })).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })

  it('given a DISCOVER_RESPONSE without status, cookie or registration ns, then it is OK, has no cookie, and entries take the namespace asked for', () => {
    const entry = body(bytesField(RegisterField.signedPeerRecord, record))
    const message = Message.decode(body(
      varintField(MessageField.type, MessageType.DISCOVER_RESPONSE),
      bytesField(MessageField.discoverResponse, body(bytesField(DiscoverResponseField.registrations, entry)))
    ))
    expect(parseDiscoverResponse(message, 'app')).toEqual({
      registrations: [{ namespace: 'app', signedPeerRecord: record, ttl: undefined }],
      cookie: undefined,
      malformed: 0
    })
  })

  it('given registrations with ns "" as go writes them and an empty cookie, then they are the namespace asked for and there is no cookie', () => {
    const entry = body(bytesField(RegisterField.ns, ''), bytesField(RegisterField.signedPeerRecord, record), varintField(RegisterField.ttl, 42))
    const response = body(bytesField(DiscoverResponseField.registrations, entry), bytesField(DiscoverResponseField.cookie, new Uint8Array()))
    const page = parseDiscoverResponse(Message.decode(bytesField(MessageField.discoverResponse, response)), 'app')
    expect(page.registrations).toEqual([{ namespace: 'app', signedPeerRecord: record, ttl: 42 }])
    expect(page.cookie).toBeUndefined()
  })

  it('given entries without a record, then they are counted as malformed and the rest are kept', () => {
    const good = body(bytesField(RegisterField.ns, 'app'), bytesField(RegisterField.signedPeerRecord, record))
    const response = body(
      bytesField(DiscoverResponseField.registrations, bytesField(RegisterField.ns, 'app')),
      bytesField(DiscoverResponseField.registrations, good),
      bytesField(DiscoverResponseField.registrations, body(bytesField(RegisterField.ns, 'app'), bytesField(RegisterField.signedPeerRecord, new Uint8Array())))
    )
    const page = parseDiscoverResponse(Message.decode(bytesField(MessageField.discoverResponse, response)))
    expect(page.registrations).toHaveLength(1)
    expect(page.malformed).toBe(2)
  })

  it('given a response decoded from a network buffer, then records and cookie own their bytes and do not pin the frame', () => {
    const frame = Buffer.from(Message.encode(discoverOk([{ namespace: 'app', signedPeerRecord: record, ttl: 60 }], cookie)))
    const page = parseDiscoverResponse(Message.decode(frame), 'app')
    for (const bytes of [page.registrations[0].signedPeerRecord, page.cookie ?? new Uint8Array()]) {
      expect(bytes.buffer.byteLength).toBe(bytes.byteLength)
      expect(bytes).toBeInstanceOf(Uint8Array)
      expect(Buffer.isBuffer(bytes)).toBe(false)
    }
    expect(Array.from(page.registrations[0].signedPeerRecord)).toEqual(Array.from(record))
    expect(Array.from(page.cookie ?? [])).toEqual(Array.from(cookie))
  })

  it.each(ERROR_STATUSES)('given a %s answer, then it is thrown as its named error, with the point\'s text', (status) => {
    const code = STATUS_CODES[status]
    const registerAnswer = bytesField(MessageField.registerResponse, body(varintField(RegisterResponseField.status, code), bytesField(RegisterResponseField.statusText, 'because')))
    const discoverAnswer = bytesField(MessageField.discoverResponse, body(varintField(DiscoverResponseField.status, code), bytesField(DiscoverResponseField.statusText, 'because')))
    for (const parse of [() => parseRegisterResponse(Message.decode(registerAnswer)), () => parseDiscoverResponse(Message.decode(discoverAnswer))]) {
      expect(parse).toThrow(expect.objectContaining({ name: ERROR_NAMES[status], status, code, statusText: 'because' }))
    }
  })

  it('given an error answer with an empty statusText, then the error has no statusText', () => {
    const answer = bytesField(MessageField.registerResponse, body(varintField(RegisterResponseField.status, 102), bytesField(RegisterResponseField.statusText, '')))
    expect(() => parseRegisterResponse(Message.decode(answer))).toThrow(expect.objectContaining({ name: 'InvalidTTLError', statusText: undefined }))
  })
})
