/**
 * WebRTC-direct at the point: a browser dials it by its certificate's hash
 * (`/udp/<port>/webrtc-direct/certhash/<hash>`), so a browser-facing point
 * needs neither a domain nor a TLS certificate. Its transport,
 * `@libp2p/webrtc`, is an optional dependency: it brings a native module
 * and a large dependency tree that only a point listening on WebRTC-direct
 * needs. Without it the point runs TCP and WebSockets, unless it was asked to
 * listen on WebRTC-direct, which then fails with `MissingDependencyError`.
 */
import { MissingDependencyError } from '../optional-dependency.ts'
import { webRTCDirectCertificate } from './webrtc-certificate.ts'
import type { PrivateKey, Transport } from '@libp2p/interface'

const PACKAGE = '@libp2p/webrtc'

type WebRTCModule = typeof import('@libp2p/webrtc')

let loading: Promise<WebRTCModule | Error> | undefined

/** The module, or why it cannot be loaded (not installed, or its native part missing) */
async function load (): Promise<WebRTCModule | Error> {
  loading ??= import(PACKAGE).then(
    (module: WebRTCModule) => module,
    (err: unknown) => err instanceof Error ? err : new Error(String(err))
  )
  return loading
}

/** Whether this installation can listen on WebRTC-direct */
export async function webRTCDirectAvailable (): Promise<boolean> {
  return !((await load()) instanceof Error)
}

/** Whether a listen address is a WebRTC-direct one */
export function isWebRTCDirect (address: string): boolean {
  return address.split('/').includes('webrtc-direct')
}

/**
 * The WebRTC-direct transport for a point with `privateKey`, its certificate
 * derived from that key (see webrtc-certificate.ts).
 *
 * @throws MissingDependencyError when @libp2p/webrtc cannot be loaded
 */
export async function webRTCDirectTransport (privateKey: PrivateKey, listen: string[]): Promise<(components: any) => Transport> {
  const module = await load()
  if (module instanceof Error) {
    const reason = (module as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' ? 'it is not installed' : `it does not load (${module.message})`
    throw new MissingDependencyError('WebRTC-direct', [PACKAGE], `listening on ${listen.join(', ')} needs ${PACKAGE}, and ${reason}: npm install ${PACKAGE}`, { cause: module })
  }
  return module.webRTCDirect({
    certificate: webRTCDirectCertificate(privateKey),
    // a browser dialing WebRTC-direct brings its own address; the point has no use for STUN servers, which
    // would otherwise be asked about every connection
    rtcConfiguration: { iceServers: [] }
  })
}
