import '../../../src/cli/node-compat.ts'
import { inMemoryPoint } from '../../fixtures/in-memory.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

const point = await inMemoryPoint({ timeout: 8000 })
const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const s = await point.openStream(peer)
const chunk = new Uint8Array(Number(process.argv[2] ?? 4096)).fill(0xff)
let sent = 0
let done = false
s.addEventListener('close', (e: any) => { done = true; console.log('closed', e.error?.name, e.error?.message, 'sent', sent) })
const t0 = Date.now()
globalThis.gc?.()
const h0 = process.memoryUsage().heapUsed
let last = 0
while (!done && Date.now() - t0 < 9000) {
  if (!s.send(chunk)) await new Promise(r => s.addEventListener('drain', r, { once: true }))
  sent += chunk.byteLength
  await new Promise(r => setTimeout(r, 1))
  if (Date.now() - last > 1000) { last = Date.now(); console.log('sent KB', sent >> 10, 'heap MB', Math.round((process.memoryUsage().heapUsed - h0) / 1048576)) }
}
console.log('end', sent, done)
process.exit(0)
