/**
 * The point's WebRTC-direct certificate, derived from its libp2p key. A
 * browser dials WebRTC-direct by the certificate's hash, which sits in the
 * point's address (`/webrtc-direct/certhash/<hash>`): a point that made a new
 * certificate on every start (js-libp2p's default without a keychain and a
 * datastore on disk) would publish a new address on every start. Derived
 * from the key, the certificate lives wherever the key does (`--key-file`):
 * the same key makes the same certificate, byte for byte, so the address
 * survives restarts with the peer id and there is nothing else to keep.
 *
 * Byte for byte needs every input fixed: the P-256 key and the serial come
 * from HKDF over the libp2p key, the validity window is fixed (WebRTC checks
 * a certificate by its fingerprint alone, never its dates), and the
 * signature is deterministic (RFC 6979). The DTLS certificate is not the
 * point's identity: noise, inside the DTLS channel, proves the peer id. HKDF
 * is one-way, so the certificate's key gives nothing of the libp2p key away.
 */
import { createHash, createPrivateKey, hkdfSync } from 'node:crypto'
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { p256 } from '@noble/curves/nist.js'
import type { PrivateKey } from '@libp2p/interface'

/** What `webRTCDirect({ certificate })` takes (`TransportCertificate` of @libp2p/webrtc) */
export interface WebRTCDirectCertificate {
  /** The certificate's P-256 key, PKCS#8 PEM */
  privateKey: string
  /** The certificate, PEM */
  pem: string
  /** Multibase (base64url) sha2-256 multihash of the DER certificate, as in `/certhash/` */
  certhash: string
}

/** Changing it changes every point's certhash: the derivation's version */
const HKDF_INFO = 'libp2p-rendezvous webrtc-direct certificate v1'
const NOT_BEFORE = Date.UTC(2020, 0, 1)
const NOT_AFTER = Date.UTC(2120, 0, 1)
const SUBJECT = 'libp2p-rendezvous'

// ASN.1 DER, just what one self-signed certificate needs
function der (tag: number, ...content: Uint8Array[]): Uint8Array {
  const length = content.reduce((sum, part) => sum + part.byteLength, 0)
  const lengthBytes: number[] = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) lengthBytes.unshift(rest % 256)
  const head = length < 128 ? [tag, length] : [tag, 0x80 | lengthBytes.length, ...lengthBytes]
  return Buffer.concat([Uint8Array.from(head), ...content])
}
const sequence = (...content: Uint8Array[]): Uint8Array => der(0x30, ...content)
const set = (...content: Uint8Array[]): Uint8Array => der(0x31, ...content)
const utf8 = (text: string): Uint8Array => der(0x0c, Buffer.from(text, 'utf8'))

function integer (bytes: Uint8Array): Uint8Array {
  let start = 0
  while (start < bytes.byteLength - 1 && bytes[start] === 0 && bytes[start + 1] < 0x80) start++
  const trimmed = bytes.subarray(start)
  return der(0x02, trimmed[0] >= 0x80 ? Uint8Array.of(0, ...trimmed) : trimmed)
}

function oid (dotted: string): Uint8Array {
  const [first, second, ...rest] = dotted.split('.').map(Number)
  const bytes = [40 * first + second]
  for (const arc of rest) {
    const base128 = [arc & 0x7f]
    for (let value = arc >>> 7; value > 0; value >>>= 7) base128.unshift(0x80 | (value & 0x7f))
    bytes.push(...base128)
  }
  return der(0x06, Uint8Array.from(bytes))
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5) */
function time (ms: number): Uint8Array {
  const digits = new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'
  return new Date(ms).getUTCFullYear() < 2050 ? der(0x17, Buffer.from(digits.slice(2))) : der(0x18, Buffer.from(digits))
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'))
const NAME = sequence(set(sequence(oid('2.5.4.3'), utf8(SUBJECT))))

/** The WebRTC-direct certificate `key` makes; the same key always makes the same one */
export function webRTCDirectCertificate (key: PrivateKey): WebRTCDirectCertificate {
  const seed = new Uint8Array(hkdfSync('sha256', privateKeyToProtobuf(key), new Uint8Array(0), HKDF_INFO, 64))
  const secret = p256.utils.randomSecretKey(seed.subarray(0, 48))
  // 16 bytes, positive and non-zero (RFC 5280 §4.1.2.2)
  const serial = Uint8Array.of(0x01, ...seed.subarray(48, 63))
  const publicKey = p256.getPublicKey(secret, false)

  const tbs = sequence(
    der(0xa0, integer(Uint8Array.of(2))),
    integer(serial),
    ECDSA_WITH_SHA256,
    NAME,
    sequence(time(NOT_BEFORE), time(NOT_AFTER)),
    NAME,
    sequence(
      sequence(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')),
      der(0x03, Uint8Array.of(0), publicKey)
    )
  )
  const signature = p256.sign(tbs, secret, { prehash: true, format: 'der' })
  const certificate = sequence(tbs, ECDSA_WITH_SHA256, der(0x03, Uint8Array.of(0), signature))

  const coordinate = (from: number): string => Buffer.from(publicKey.subarray(from, from + 32)).toString('base64url')
  const pkcs8 = createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: Buffer.from(secret).toString('base64url'), x: coordinate(1), y: coordinate(33) },
    format: 'jwk'
  }).export({ type: 'pkcs8', format: 'pem' }).toString()
  // multihash: sha2-256 (0x12), 32 bytes (0x20); multibase base64url: 'u'
  const digest = createHash('sha256').update(certificate).digest()
  return {
    privateKey: pkcs8.trim(),
    pem: pem('CERTIFICATE', certificate),
    certhash: `u${Buffer.concat([Uint8Array.of(0x12, 0x20), digest]).toString('base64url')}`
  }
}

function pem (label: string, bytes: Uint8Array): string {
  const lines = Buffer.from(bytes).toString('base64').match(/.{1,64}/g) ?? []
  return [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`].join('\n')
}
