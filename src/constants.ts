/**
 * Protocol constants, and every default that more than one program reads (the
 * client, the discovery service, the point, the command line): each has its
 * home here and one name. Durations on the wire are seconds (as the spec has
 * them); everything local is milliseconds, and each name says which. Defaults
 * only the discovery service reads live in `discovery/constants.ts`.
 *
 * @see https://github.com/libp2p/specs/blob/master/rendezvous/README.md#recommendations-for-rendezvous-points-configurations
 */

export const second = 1000
export const minute = 60 * second
export const hour = 60 * minute

/** The protocol id every known implementation (but one) speaks */
export const RENDEZVOUS_PROTOCOL = '/rendezvous/1.0.0'

/** WebRTC's signalling through a relay (specs: webrtc/webrtc.md); a node that handles it can be dialed at `<relayed address>/webrtc` */
export const WEBRTC_SIGNALING_PROTOCOL = '/webrtc-signaling/0.0.1'

/**
 * Seconds, as on the wire: the TTL implied when a REGISTER carries none, the
 * one clients ask for, and the one every known point admits (rust and nim
 * refuse anything shorter), so the TTL to fall back to when a point refuses ours
 */
export const DEFAULT_TTL = 2 * 60 * 60

/** Seconds: the shortest TTL a point admits by default. The spec recommends 2 h; browser tabs come and go faster */
export const DEFAULT_MIN_TTL = 120

/** Seconds, as on the wire: the spec's upper bound for any TTL */
export const MAX_TTL = 72 * 60 * 60

/** Bytes of UTF-8: the longest namespace every implementation accepts */
export const MAX_NAMESPACE_LENGTH = 255

/** The most registrations a point returns for one DISCOVER */
export const MAX_DISCOVER_LIMIT = 1000

/** The most registrations one peer may hold at a point */
export const MAX_REGISTRATIONS_PER_PEER = 1000

/** The most registrations a point holds at once, over all peers, by default */
export const DEFAULT_MAX_REGISTRATIONS = 100_000

/**
 * Bytes of multiaddr in one record. Go points refuse records over 2048 bytes
 * of addresses, so a record that stays under it is accepted everywhere.
 */
export const MAX_RECORD_ADDRESS_BYTES = 2048

/**
 * Bytes: the longest request a point reads. The smallest cap in the wild is
 * nim's 4096 bytes for a whole REGISTER; ours is roomier for long namespaces
 * and many addresses but still far from a memory risk.
 */
export const MAX_REQUEST_SIZE = 64 * 1024

/**
 * Bytes: the longest response a client reads. A full page of 1000
 * registrations with generous records fits well inside it.
 */
export const MAX_RESPONSE_SIZE = 4 * 1024 * 1024

/** Milliseconds one request/response may take when the caller gives no signal */
export const DEFAULT_REQUEST_TIMEOUT = 10 * second

/** Fraction of the granted TTL after which a registration is refreshed */
export const DEFAULT_REFRESH_RATIO = 0.8

/**
 * Pages the low-level client's `discoverAll` fetches at most: with a point's
 * largest page (1000), ten times what one of our points holds by default
 */
export const DEFAULT_WALK_PAGES = 1000
