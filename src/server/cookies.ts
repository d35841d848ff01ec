import { create as createHmac } from '@libp2p/crypto/hmac'
import type { HMAC } from '@libp2p/crypto/hmac'

const VERSION = 1
const CURSOR_BYTES = 8
const TAG_BYTES = 16
const COOKIE_BYTES = 1 + CURSOR_BYTES + TAG_BYTES
const encoder = new TextEncoder()

/**
 * Stateless cookies: a version byte, a store cursor and a MAC over both and
 * the namespace they were issued for. The point holds no per-client state for
 * them, a cookie cannot be moved to another namespace or forged to skip ahead,
 * and any point that shares the secret (and the store) accepts it.
 */
export class Cookies {
  private readonly hmac: Promise<HMAC>

  constructor (secret: Uint8Array) {
    this.hmac = createHmac('SHA256', secret)
  }

  /** A cookie that resumes after `cursor` in `namespace` (undefined: all namespaces) */
  async seal (namespace: string | undefined, cursor: bigint): Promise<Uint8Array> {
    const cookie = new Uint8Array(COOKIE_BYTES)
    cookie[0] = VERSION
    new DataView(cookie.buffer).setBigUint64(1, cursor)
    cookie.set(await this.tag(namespace, cookie.subarray(0, 1 + CURSOR_BYTES)), 1 + CURSOR_BYTES)
    return cookie
  }

  /** The cursor a cookie resumes after, or undefined when it was not issued by us for this namespace */
  async open (namespace: string | undefined, cookie: Uint8Array): Promise<bigint | undefined> {
    if (cookie.byteLength !== COOKIE_BYTES || cookie[0] !== VERSION) return undefined
    const tag = await this.tag(namespace, cookie.subarray(0, 1 + CURSOR_BYTES))
    if (!sameBytes(tag, cookie.subarray(1 + CURSOR_BYTES))) return undefined
    return new DataView(cookie.buffer, cookie.byteOffset, cookie.byteLength).getBigUint64(1)
  }

  private async tag (namespace: string | undefined, body: Uint8Array): Promise<Uint8Array> {
    // "all namespaces" and every real namespace must never share a MAC input
    const scope = namespace == null ? new Uint8Array([0]) : new Uint8Array([1, ...encoder.encode(namespace)])
    const input = new Uint8Array(body.byteLength + scope.byteLength)
    input.set(body)
    input.set(scope, body.byteLength)
    return (await (await this.hmac).digest(input)).subarray(0, TAG_BYTES)
  }
}

/** Compares in time independent of where the bytes differ, so a forger learns nothing from how fast a guess fails */
function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  let difference = 0
  for (let i = 0; i < a.byteLength; i++) difference |= a[i] ^ b[i]
  return difference === 0
}
