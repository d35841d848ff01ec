/** `find-peer.ts`, with the SDK's Node 20 shims imported first, as the README says to */
import '../../../src/node/compat.ts'
import './find-peer.ts'
