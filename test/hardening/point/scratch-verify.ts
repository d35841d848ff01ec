import '../../../src/cli/node-compat.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { openPeerRecord } from '../../../src/protocol/peer-record.ts'
import { RecordEnvelope } from '@libp2p/peer-record'
import { signRecord } from '../../fixtures/records.ts'
import { Cookies } from '../../../src/server/cookies.ts'
const key = await generateKeyPair('Ed25519')
const rec = await signRecord(key)
const N = 3000
let t0 = performance.now()
for (let i = 0; i < N; i++) await openPeerRecord(rec)
console.log('openPeerRecord', ((performance.now() - t0) / N * 1000).toFixed(0), 'us')
t0 = performance.now()
for (let i = 0; i < N; i++) RecordEnvelope.createFromProtobuf(rec)
console.log('createFromProtobuf', ((performance.now() - t0) / N * 1000).toFixed(0), 'us')
const env = RecordEnvelope.createFromProtobuf(rec)
t0 = performance.now()
for (let i = 0; i < N; i++) await env.validate('libp2p-peer-record')
console.log('validate', ((performance.now() - t0) / N * 1000).toFixed(0), 'us')
const c = new Cookies(new Uint8Array(32))
t0 = performance.now()
for (let i = 0; i < N; i++) await c.seal('app', 5n)
console.log('cookie seal', ((performance.now() - t0) / N * 1000).toFixed(0), 'us')
process.exit(0)
