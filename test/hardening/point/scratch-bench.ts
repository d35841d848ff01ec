import '../../../src/cli/node-compat.ts'
import { inMemoryPoint } from '../../fixtures/in-memory.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { rawSession } from '../../fixtures/session.ts'
import { discoverRequest, registerRequest } from '../../../src/protocol/messages.ts'
import { signRecord } from '../../fixtures/records.ts'

const point = await inMemoryPoint({ timeout: 8000 })
const key = await generateKeyPair('Ed25519')
const peer = peerIdFromPrivateKey(key)
const rec = await signRecord(key)
const N = Number(process.argv[2] ?? 2000)
let t0 = Date.now()
for (let i = 0; i < N; i++) {
  const s = rawSession(await point.openStream(peer))
  await s.send(discoverRequest('app'))
  await s.close()
  await s.receive()
}
console.log('1 discover/stream seq', N, Date.now() - t0, 'ms')
t0 = Date.now()
await Promise.all(Array.from({ length: 8 }, async () => {
  for (let i = 0; i < N / 8; i++) {
    const s = rawSession(await point.openStream(peer))
    await s.send(discoverRequest('app'))
    await s.close()
    await s.receive()
  }
}))
console.log('1 discover/stream 8 conc', N, Date.now() - t0, 'ms')
t0 = Date.now()
{
  const s = rawSession(await point.openStream(peer))
  for (let i = 0; i < N; i++) { await s.send(discoverRequest('app')); await s.receive() }
  await s.close()
}
console.log('discover on 1 stream', N, Date.now() - t0, 'ms')
t0 = Date.now()
{
  const s = rawSession(await point.openStream(peer))
  for (let i = 0; i < N; i++) { await s.send(registerRequest('app' + (i % 100), rec, 300)); await s.receive() }
  await s.close()
}
console.log('register on 1 stream', N, Date.now() - t0, 'ms')
process.exit(0)
