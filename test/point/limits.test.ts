/**
 * Every limit of the whole point, each pushed over once through the real
 * factory and real sockets on loopback: what a peer over it sees, and that
 * the point serves again once it is back under. Limits are set low here
 * through `limits`, the option the command line's flags fill in.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { WebSocket } from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { embedded, fieldValue } from '../fixtures/wire.ts'
import { browserShaped, cleanUp, dialer, HOP, HopField, hopStatus, HopStatus, LimitField, portOf, rawSocket, relayAddresses, reserve, startPoint, tcpAddress, wsAddress } from './support.ts'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'

afterEach(cleanUp)

const ECHO = '/test/echo/1.0.0'

/** Resolves when the connection has ended, closed or aborted by either side */
async function ended (connection: Connection): Promise<void> {
  if (connection.timeline.close != null) return
  await new Promise(resolve => connection.addEventListener('close', resolve, { once: true }))
}

/** `a` dials `b` through the point's relay; both echo what comes on ECHO streams, relayed ones too */
async function relayedConnection (a: Libp2p, b: Libp2p): Promise<Connection> {
  for (const node of [a, b]) {
    await node.handle(ECHO, async (stream: Stream) => {
      for await (const chunk of stream) {
        if (!stream.send(chunk)) await stream.onDrain()
      }
      await stream.close()
    }, { runOnLimitedConnection: true })
  }
  const connection = await a.dial(multiaddr(relayAddresses(b)[0]))
  expect(connection.limits).toBeDefined()
  return connection
}

/** Send `bytes` on an echo stream; resolves with how many came back */
async function echo (connection: Connection, bytes: number): Promise<number> {
  const stream = await connection.newStream(ECHO, { runOnLimitedConnection: true })
  const received = (async () => {
    let count = 0
    for await (const chunk of stream) count += chunk.byteLength
    return count
  })()
  const chunk = new Uint8Array(1024)
  for (let sent = 0; sent < bytes; sent += chunk.byteLength) {
    if (!stream.send(chunk)) await stream.onDrain()
  }
  await stream.close()
  return received
}

describe('limits of the point', () => {
  it('maxConnections: the connection over it is refused; once one closes, the next is accepted', async () => {
    const point = await startPoint({ limits: { maxConnections: 2 } })
    const [a, b, c] = [await dialer(), await dialer(), await dialer()]
    const first = await a.dial(tcpAddress(point))
    await b.dial(tcpAddress(point))

    await expect(c.dial(tcpAddress(point))).rejects.toThrow()
    expect(point.getConnections()).toHaveLength(2)

    await first.close()
    // the point counts the close a moment after the dialer
    await expect.poll(async () => c.dial(tcpAddress(point)).then(() => true, () => false)).toBe(true)
  })

  it('maxConnectionsPerHost: a host over it is refused, other hosts are not, and it may connect again once one closes', async () => {
    const point = await startPoint({ limits: { maxConnectionsPerHost: 2 } })
    const port = portOf(tcpAddress(point))
    const held = [rawSocket(port, '127.0.0.2'), rawSocket(port, '127.0.0.2')]
    expect(await Promise.all(held.map(async socket => socket.outcome))).toEqual(['accepted', 'accepted'])

    expect(await rawSocket(port, '127.0.0.2').outcome).toBe('refused')
    expect(await rawSocket(port, '127.0.0.3').outcome).toBe('accepted')

    held[0].socket.destroy()
    // the point counts the close a moment after it happens
    await expect.poll(async () => rawSocket(port, '127.0.0.2').outcome).toBe('accepted')
  })

  it('maxConnectionsPerHost counts upgraded connections too, over WebSockets as over TCP', async () => {
    const point = await startPoint({ limits: { maxConnectionsPerHost: 1 } })
    const [a, b] = [await dialer(), await dialer()]
    const connection = await a.dial(wsAddress(point))
    await expect(b.dial(wsAddress(point))).rejects.toThrow()

    await connection.close()
    await expect.poll(async () => b.dial(wsAddress(point)).then(() => true, () => false)).toBe(true)
  })

  it('maxConnectionRatePerHost: of connections opened in one burst, those over the rate are refused', async () => {
    const point = await startPoint({ limits: { maxConnectionRatePerHost: 1 } })
    const dialers = await Promise.all(Array.from({ length: 8 }, async () => dialer()))

    const outcomes = await Promise.allSettled(dialers.map(async node => node.dial(tcpAddress(point))))

    // eight dials in flight at once: they would have to spread over eight seconds for all to pass
    expect(outcomes.filter(o => o.status === 'rejected').length).toBeGreaterThan(0)
    expect(outcomes.filter(o => o.status === 'fulfilled').length).toBeGreaterThan(0)
  })

  it('maxPendingConnections: handshakes over it are refused, one host holds at most half of them, and a freed slot serves again', async () => {
    const point = await startPoint({ limits: { maxPendingConnections: 4 } })
    const port = portOf(tcpAddress(point))
    const stuck = []
    for (const host of ['127.0.0.2', '127.0.0.3']) {
      const pair = [rawSocket(port, host), rawSocket(port, host)]
      expect(await Promise.all(pair.map(async socket => socket.outcome))).toEqual(['accepted', 'accepted'])
      expect(await rawSocket(port, host).outcome).toBe('refused')
      stuck.push(...pair)
    }
    const late = await dialer()

    await expect(late.dial(tcpAddress(point))).rejects.toThrow()
    // the stuck handshakes were still pending (libp2p gives each 10 s): the refusal was theirs
    expect(stuck.every(socket => socket.isOpen())).toBe(true)

    for (const socket of stuck) socket.socket.destroy()
    await expect.poll(async () => late.dial(tcpAddress(point)).then(() => true, () => false)).toBe(true)
  })

  it('maxReservations: a RESERVE over it is refused; a reservation ends when its peer disconnects, and frees its slot', async () => {
    const point = await startPoint({ limits: { maxReservations: 2 } })
    const first = await browserShaped(wsAddress(point))
    await browserShaped(wsAddress(point))
    expect(point.services.relay.reservations.size).toBe(2)
    const late = await dialer()

    expect(hopStatus(await reserve(late, wsAddress(point)))).toBe(HopStatus.RESERVATION_REFUSED)

    await first.stop()
    await expect.poll(() => point.services.relay.reservations.size).toBe(1)
    expect(hopStatus(await reserve(late, wsAddress(point)))).toBe(HopStatus.OK)
  })

  it('relayDataLimit and relayDurationLimit: a reservation carries both, as set', async () => {
    const point = await startPoint({ limits: { relayDataLimit: 4096, relayDurationLimit: 30_000 } })
    const answer = await reserve(await dialer(), wsAddress(point))

    expect(hopStatus(answer)).toBe(HopStatus.OK)
    const limit = embedded(answer, HopField.limit)
    expect(fieldValue(limit, LimitField.data)).toBe(4096n)
    // circuit-relay-v2 sends its duration in milliseconds, though the spec says seconds
    expect(fieldValue(limit, LimitField.duration)).toBe(30_000n)
  })

  it('relayDataLimit: a relayed connection carries data up to it and is reset past it', async () => {
    const point = await startPoint({ limits: { relayDataLimit: 32 * 1024 } })
    const [alice, bob] = [await browserShaped(wsAddress(point)), await browserShaped(wsAddress(point))]
    const connection = await relayedConnection(alice, bob)
    expect(await echo(connection, 1024)).toBe(1024)

    await echo(connection, 64 * 1024).catch(() => {})

    await ended(connection)
    expect(connection.status).not.toBe('open')
  })

  it('relayDurationLimit: an idle relayed connection is reset when its time is up', async () => {
    const point = await startPoint({ limits: { relayDurationLimit: 1000 } })
    const [alice, bob] = [await browserShaped(wsAddress(point)), await browserShaped(wsAddress(point))]
    const connection = await relayedConnection(alice, bob)

    await ended(connection)
    expect(connection.status).not.toBe('open')
    // the peers themselves stay connected to the point and keep their addresses
    expect(relayAddresses(bob).length).toBeGreaterThan(0)
  })

  it('maxWebSocketMessageSize: a peer whose WebSocket message grows past it, even in fragments, is disconnected with 1009', async () => {
    const point = await startPoint({ limits: { maxWebSocketMessageSize: 4096 } })
    const socket = new WebSocket(`ws://127.0.0.1:${portOf(wsAddress(point))}`)
    const closed = new Promise<number>(resolve => socket.once('close', resolve))
    socket.on('error', () => {})
    await new Promise(resolve => socket.once('open', resolve))

    // one message that never ends, in 1 KiB fragments: the server holds every fragment until the last
    for (let i = 0; i < 8; i++) socket.send(new Uint8Array(1024), { fin: false, binary: true })

    expect(await closed).toBe(1009)
  })

  it('a malformed WebSocket frame closes that connection only: the point serves on', async () => {
    const point = await startPoint()
    const socket = new WebSocket(`ws://127.0.0.1:${portOf(wsAddress(point))}`)
    const closed = new Promise<number>(resolve => socket.once('close', resolve))
    socket.on('error', () => {})
    await new Promise(resolve => socket.once('open', resolve))

    // a frame with a reserved opcode: no WebSocket implementation sends it
    ;(socket as unknown as { _socket: { write(bytes: Uint8Array): void } })._socket.write(Uint8Array.from([0x83, 0x80, 0, 0, 0, 0]))

    expect(await closed).toBe(1002)
    await expect((await dialer()).dial(wsAddress(point))).resolves.toBeDefined()
  })

  it('maxRelayedConnectionsPerPeer: a HOP stream over it is reset, the ones before it stay', async () => {
    const point = await startPoint({ limits: { maxRelayedConnectionsPerPeer: 2 } })
    const peer = await dialer()
    const connection = await peer.dial(wsAddress(point))
    const open = [await connection.newStream(HOP), await connection.newStream(HOP)]

    // the point may refuse it while negotiating, or reset it right after
    const third = await connection.newStream(HOP).catch((err: Error) => err)
    if (!(third instanceof Error) && third.status === 'open') {
      await new Promise(resolve => third.addEventListener('close', resolve, { once: true }))
    }

    expect(third instanceof Error || third.status !== 'open').toBe(true)
    // the two before it wait for their request (circuit-relay-v2 gives them 30 s)
    expect(open.map(stream => stream.status)).toEqual(['open', 'open'])
  })

  it('maxRelayedConnectionsPerPeer: a relayed connection to a peer that already has that many through the point is refused, the ones before it stay', async () => {
    const point = await startPoint({ limits: { maxRelayedConnectionsPerPeer: 2 } })
    const bob = await browserShaped(wsAddress(point))
    const callers = [await browserShaped(wsAddress(point)), await browserShaped(wsAddress(point)), await browserShaped(wsAddress(point))]
    // each relayed connection to bob is a STOP stream the point holds open to him
    const open = [await relayedConnection(callers[0], bob), await callers[1].dial(multiaddr(relayAddresses(bob)[0]))]

    await expect(callers[2].dial(multiaddr(relayAddresses(bob)[0]))).rejects.toThrow()

    expect(open.map(connection => connection.status)).toEqual(['open', 'open'])
    expect(await echo(open[1], 1024)).toBe(1024)
  })
})
