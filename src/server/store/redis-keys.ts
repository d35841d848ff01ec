import { InvalidParametersError } from '@libp2p/interface'

/**
 * Where one fleet's registrations live in Redis.
 *
 * The index (cursor counter, cursor and expiry orders, per-namespace and
 * per-peer entries) shares the hash tag `{fleet}`, so one Lua script can
 * change all of it atomically, and on Redis Cluster it sits in one slot. The
 * signed records, the bulk of the bytes, carry a hash tag per namespace,
 * `{fleet:<hash of namespace>}`, so a cluster spreads them over its shards
 * and one namespace's records can still be read with one MGET.
 *
 * Index keys (all with the tag `{fleet}`):
 * - `cursor`: the counter cursors are taken from; never expires
 * - `secret`: the cookie secret the fleet's points share; never expires
 * - `all`: sorted set, score cursor, member `<peer>\n<namespace>`
 * - `exp`: sorted set, score expiresAt, member `<peer>\n<namespace>`
 * - `ns:<namespace>`: sorted set, score cursor, member `<peer>`
 * - `peer:<peer>`: hash, field namespace, value `<cursor>|<seq>|<expiresAt>|<record id>`, then `|u`
 *   when the registration is unsigned (a PeerInfo, whose record key holds the encoded PeerInfo), and
 *   `|r=<relay>` when every address of the record goes through that relay
 *
 * Record keys: `{fleet:<hash of namespace>}:rec:<record id>`, the record's bytes.
 *
 * The Lua scripts build `ns:` and `peer:` keys of other entries from the
 * same `base` as `namespace()` and `peer()` here; the two must agree.
 */
export class RedisKeys {
  /** The prefix every index key starts with, hash tag included */
  readonly base: string
  readonly fleet: string

  constructor (fleet: string) {
    // a brace would end the hash tag early and scatter the index over slots
    if (fleet === '' || /[{}\s]/.test(fleet)) {
      throw new InvalidParametersError(`fleet name "${fleet}" must be non-empty, without braces or spaces`)
    }
    this.fleet = fleet
    this.base = `{${fleet}}:`
  }

  get cursor (): string { return `${this.base}cursor` }
  get secret (): string { return `${this.base}secret` }
  get all (): string { return `${this.base}all` }
  get expiry (): string { return `${this.base}exp` }

  namespace (namespace: string): string {
    return `${this.base}ns:${namespace}`
  }

  peer (peerId: string): string {
    return `${this.base}peer:${peerId}`
  }

  /** The key of a record; records of one namespace share a hash tag */
  record (namespace: string, id: string): string {
    return `${this.recordTag(namespace)}:rec:${id}`
  }

  // a hash rather than the namespace itself: namespaces may hold braces, and are up to 255 bytes long
  private recordTag (namespace: string): string {
    return `{${this.fleet}:${fnv1a(namespace)}}`
  }
}

const encoder = new TextEncoder()

/**
 * FNV-1a, 32 bits, as 8 hex digits. The tag only has to spread namespaces
 * over slots, not resist anyone, and this keeps the module free of Node's
 * crypto so the server entry point stays importable everywhere.
 */
function fnv1a (text: string): string {
  let hash = 0x811c9dc5
  for (const byte of encoder.encode(text)) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0).toString(16).padStart(8, '0')
}
