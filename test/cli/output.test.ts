import { describe, expect, it } from 'vitest'
import { describeError, jsonLine } from '../../src/cli/output.ts'
import { InvalidTTLError } from '../../src/errors.ts'

describe('jsonLine', () => {
  it('writes one line, spaced like {"peerId": "…", "multiaddrs": ["…"]}', () => {
    expect(jsonLine({ peerId: 'a', multiaddrs: ['/ip4/1.2.3.4/tcp/1', '/x\ny'] }))
      .toBe('{"peerId": "a", "multiaddrs": ["/ip4/1.2.3.4/tcp/1", "/x\\ny"]}')
    expect(jsonLine({ event: 'stats', namespaces: {}, list: [] })).toBe('{"event": "stats", "namespaces": {}, "list": []}')
  })
})

describe('describeError', () => {
  it('gives a status error its name and the point\'s text', () => {
    expect(describeError(new InvalidTTLError('ttl below 120'))).toBe('InvalidTTLError: E_INVALID_TTL: ttl below 120')
  })

  it('keeps to one line, and names what has no name', () => {
    expect(describeError(new Error('first\n    second\n  at most twice'))).toBe('Error: first second at most twice')
    expect(describeError(new AggregateError([new TypeError('a'), new RangeError('b')], 'all failed')))
      .toBe('AggregateError: all failed; TypeError: a; RangeError: b')
    expect(describeError({ message: 'connect ECONNREFUSED' })).toBe('Object: connect ECONNREFUSED')
    expect(describeError('plain')).toBe('plain')
  })

  it('drops stack frames that a message carries', () => {
    const listenFailure = 'addresses failed: /ip4/127.0.0.1/tcp/1: Error: listen EADDRINUSE\n    at Server.setupListenHandle [as _listen2] (node:net:1908:16)\n    at listenInCluster (node:net:1965:12)'
    expect(describeError(new Error(listenFailure))).toBe('Error: addresses failed: /ip4/127.0.0.1/tcp/1: Error: listen EADDRINUSE')
  })
})
