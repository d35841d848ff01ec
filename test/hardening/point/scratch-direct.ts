import '../../../src/cli/node-compat.ts'
import { AbstractStream } from '@libp2p/utils'
import { defaultLogger } from '@libp2p/logger'
import { Uint8ArrayList } from 'uint8arraylist'
import { RendezvousPoint } from '../../../src/server/rendezvous-server.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Message, discoverRequest, registerRequest } from '../../../src/protocol/messages.ts'
import { signRecord } from '../../fixtures/records.ts'
import { varint } from '../../fixtures/wire.ts'

const log = defaultLogger().forComponent('fuzz')
class S extends AbstractStream {
  out = new Uint8ArrayList(); wasReset = false; closedWrite = false
  sendData (d: Uint8ArrayList) { this.out.append(d); return { sentBytes: d.byteLength, canSendMore: true } }
  sendReset () { this.wasReset = true }
  async sendCloseWrite () { this.closedWrite = true }
  async sendCloseRead () {}
  sendPause () {}
  sendResume () {}
}
let handler: any
const registrar = { async handle (_p: string, h: any) { handler = h }, async unhandle () {} } as any
const server = new RendezvousPoint({ registrar, logger: defaultLogger() }, {})
await server.start()
const key = await generateKeyPair('Ed25519')
const peer = peerIdFromPrivateKey(key)
const rec = await signRecord(key)
const conn = { remotePeer: peer } as any
const frame = (m: Message) => { const b = Message.encode(m); return Uint8Array.from([...varint(b.length), ...b]) }
const disc = frame(discoverRequest('app'))
const reg = frame(registerRequest('app', rec, 300))
const garbage = Uint8Array.from([3, 0xff, 0xff, 0xff])
let id = 0
async function run (bytes: Uint8Array) {
  const s = new S({ id: String(id++), direction: 'inbound', log })
  const p = handler(s, conn)
  s.onData(new Uint8ArrayList(bytes))
  s.onRemoteCloseWrite()
  await p
  return s
}
for (const [name, f] of [['discover', disc], ['register', reg], ['garbage', garbage]] as const) {
  const N = 5000
  const t0 = performance.now()
  let s
  for (let i = 0; i < N; i++) s = await run(f)
  console.log(name, N, (performance.now() - t0).toFixed(0), 'ms', s!.wasReset, s!.closedWrite, s!.out.byteLength)
}
process.exit(0)
