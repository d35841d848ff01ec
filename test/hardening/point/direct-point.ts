/**
 * The real `RendezvousPoint` and its real stream handler, fed by hand. Each
 * stream handed to the handler is a genuine `AbstractStream`, the base class
 * of every libp2p stream (yamux's included), so the point's reads, writes,
 * closes and resets run exactly as they do on a connection; only the muxer
 * and the socket under it are missing. That is what lets a fuzzer push a
 * hundred thousand frames through the point in-process in seconds, where a
 * mocked muxer pair costs milliseconds per stream.
 */
import { defaultLogger } from '@libp2p/logger'
import { AbstractStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { Message } from '../../../src/protocol/messages.ts'
import { RENDEZVOUS_PROTOCOL } from '../../../src/constants.ts'
import { RendezvousPoint } from '../../../src/server/rendezvous-server.ts'
import { MemoryRegistrationStore } from '../../../src/server/store/memory-store.ts'
import { nodelessParts, openConnection } from '../../fixtures/nodeless.ts'
import { varint } from '../../fixtures/wire.ts'
import type { RendezvousServerInit } from '../../../src/server/rendezvous-server.ts'
import type { AbortOptions, PeerId, StreamHandler } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'
import type { SendResult } from '@libp2p/utils'

const log = defaultLogger().forComponent('libp2p:rendezvous:hardening')
let streams = 0

/** The point's end of a stream: what the point sends is kept, and how it ended */
export class PointEnd extends AbstractStream {
  readonly written = new Uint8ArrayList()
  wasReset = false
  closedWrite = false

  constructor () {
    super({ id: String(streams++), direction: 'inbound', log, protocol: '/rendezvous/1.0.0' })
  }

  sendData (data: Uint8ArrayList): SendResult {
    this.written.append(data)
    return { sentBytes: data.byteLength, canSendMore: true }
  }

  sendReset (): void {
    this.wasReset = true
  }

  async sendCloseWrite (_options?: AbortOptions): Promise<void> {
    this.closedWrite = true
  }

  async sendCloseRead (_options?: AbortOptions): Promise<void> {}
  sendPause (): void {}
  sendResume (): void {}
}

export type Ending = 'closed' | 'reset' | 'open'

interface StreamOutcome {
  /** Bodies of the frames the point wrote, in order */
  frames: Uint8Array[]
  /** 'closed': the point closed its side cleanly; 'reset': it reset the stream; 'open': neither (a bug) */
  ending: Ending
  /** Bytes the point wrote that do not make up a whole frame (always 0 for a sound point) */
  leftover: number
}

/** Split what the point wrote into frame bodies; a frame cut short is counted as leftover */
function splitFrames (bytes: Uint8ArrayList): { frames: Uint8Array[], leftover: number } {
  const all = bytes.subarray()
  const frames: Uint8Array[] = []
  let offset = 0
  while (offset < all.byteLength) {
    let length = 0
    let shift = 1
    let at = offset
    let complete = false
    while (at < all.byteLength && at - offset < 10) {
      const byte = all[at++]
      length += (byte & 0x7f) * shift
      shift *= 128
      if (byte < 0x80) {
        complete = true
        break
      }
    }
    if (!complete || at + length > all.byteLength) break
    frames.push(all.subarray(at, at + length))
    offset = at + length
  }
  return { frames, leftover: all.byteLength - offset }
}

export interface DirectPoint {
  server: RendezvousPoint
  store: MemoryRegistrationStore
  /**
   * Open a stream from `remotePeer`, push `chunks` into it one by one, then
   * close our writing side (unless `keepOpen`), and wait for the point's
   * handler to finish with it.
   */
  exchange(remotePeer: PeerId, chunks: Uint8Array[], keepOpen?: boolean): Promise<StreamOutcome>
  /** A stream the caller drives itself; `done` settles when the point's handler returns */
  open(remotePeer: PeerId): { stream: PointEnd, done: Promise<void> }
  stop(): Promise<void>
}

export async function directPoint (init: RendezvousServerInit = {}): Promise<DirectPoint> {
  let handler: StreamHandler | undefined
  // the point's one protocol; its stream limits are libp2p's to enforce, which the caps tests do over real connections
  const registrar = {
    async handle (_protocol: string, registered: StreamHandler) {
      handler = registered
    },
    async unhandle () { handler = undefined },
    getProtocols () { return handler == null ? [] : [RENDEZVOUS_PROTOCOL] }
  } as unknown as Registrar
  const store = (init.store as MemoryRegistrationStore | undefined) ?? new MemoryRegistrationStore()
  const server = new RendezvousPoint({ ...await nodelessParts(), registrar, logger: defaultLogger() }, { ...init, store })
  await server.start()

  const open = (remotePeer: PeerId): { stream: PointEnd, done: Promise<void> } => {
    if (handler == null) throw new Error('the point is not started')
    const stream = new PointEnd()
    const done = Promise.resolve(handler(stream, openConnection(remotePeer)))
    return { stream, done }
  }

  return {
    server,
    store,
    open,
    async exchange (remotePeer, chunks, keepOpen = false) {
      const { stream, done } = open(remotePeer)
      for (const chunk of chunks) {
        if (stream.readStatus !== 'readable') break
        stream.onData(new Uint8ArrayList(chunk))
      }
      if (!keepOpen) stream.onRemoteCloseWrite()
      await done
      const { frames, leftover } = splitFrames(stream.written)
      return { frames, leftover, ending: stream.wasReset ? 'reset' : stream.closedWrite ? 'closed' : 'open' }
    },
    async stop () { await server.stop() }
  }
}

/** Requests in one stream: well inside the two frames' worth the point buffers */
const PIPELINE_DEPTH = 100
const PIPELINE_BYTES = 32 * 1024

/**
 * Every message answered by the point, in order, many to a stream;
 * UNREGISTERs get no answer, so the answers are fewer than the messages by
 * their number. Each stream must end cleanly.
 */
export async function ask (point: DirectPoint, remotePeer: PeerId, messages: Message[]): Promise<Message[]> {
  const answers: Message[] = []
  let batch = new Uint8ArrayList()
  let count = 0
  const flush = async (): Promise<void> => {
    if (count === 0) return
    const outcome = await point.exchange(remotePeer, [batch.subarray()])
    if (outcome.ending !== 'closed') throw new Error(`the point ended a stream of plain requests with ${outcome.ending}`)
    answers.push(...outcome.frames.map(frame => Message.decode(frame)))
    batch = new Uint8ArrayList()
    count = 0
  }
  for (const message of messages) {
    const body = Message.encode(message)
    if (count > 0 && (count >= PIPELINE_DEPTH || batch.byteLength + body.byteLength > PIPELINE_BYTES)) await flush()
    batch.append(varint(body.byteLength), body)
    count++
  }
  await flush()
  return answers
}
