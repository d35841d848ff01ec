import { randomBytes } from '@libp2p/crypto'
import { logger } from '@libp2p/logger'
import { loadOptional } from '../optional-dependency.ts'
import { RedisKeys } from './redis-keys.ts'
import { SCRIPTS } from './redis-scripts.ts'
import { StoreUnavailableError } from './registration-store.ts'
import type { ScriptCommands } from './redis-scripts.ts'
import type { DiscoverOptions, DiscoverPage, NewRegistration, RegisterOutcome, RegistrationLimits, RegistrationStore, StoredRegistration } from './registration-store.ts'
import type { Cluster, Redis, RedisOptions } from 'ioredis'

const log = logger('libp2p:rendezvous:server:store')

export interface RedisStoreInit {
  /** `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. @default 'redis://127.0.0.1:6379' */
  url?: string
  /**
   * A client of your own (Sentinel, Cluster, or options the URL cannot say)
   * to use instead of `url`. The store leaves it open on `close()`. Give it
   * `enableOfflineQueue: false` and `maxRetriesPerRequest: 0`, or requests
   * wait for Redis instead of failing with E_UNAVAILABLE while it is down.
   */
  client?: Redis | Cluster
  /** Names the fleet's keys: points with the same fleet name share registrations, other fleets on the same Redis stay apart. @default 'rendezvous' */
  fleet?: string
  /** Milliseconds `open` may take to reach Redis. @default 5000 */
  connectTimeout?: number
  /** Milliseconds one command may take before the store reports itself unavailable. @default 5000 */
  commandTimeout?: number
  /** Longest pause between attempts to reconnect while Redis is down, in milliseconds. @default 2000 */
  maxReconnectDelay?: number
}

/** `open` could not reach Redis, or Redis refused us (wrong password, no such database) */
export class StoreConnectionError extends Error {
  static name = 'StoreConnectionError'
  constructor (message = 'Cannot reach the registration store') {
    super(message)
    this.name = 'StoreConnectionError'
  }
}

type Client = (Redis | Cluster) & ScriptCommands

/** One registration as the index holds it, before its record is fetched */
interface IndexEntry {
  peerId: string
  namespace: string
  cursor: bigint
  seq: bigint
  expiresAt: number
  id: string
  unsigned: boolean
  relayedVia?: string
}

const PRUNE_BATCH = 500
/** Redis wants a finite LIMIT; no point asks for more than this in one page */
const MAX_PAGE = 2 ** 31 - 1

/**
 * A registration store in Redis, shared by every point of a fleet: what one
 * point registers, another discovers; cursors, limits and the cookie secret
 * are the fleet's, not a process's. Writes are Lua scripts, so they are
 * atomic with their limit checks however many points write at once; every
 * key expires in Redis with its last registration, so no process has to be
 * alive to clean up. Expired registrations are filtered out when read.
 */
export class RedisRegistrationStore implements RegistrationStore {
  /** Key for cookie MACs, kept in Redis so every point of the fleet uses the same one */
  readonly cookieSecret: Uint8Array
  readonly fleet: string

  private readonly client: Client
  private readonly keys: RedisKeys
  private readonly owned: boolean

  /** Connect, check that Redis answers, and load (or create) the fleet's cookie secret */
  static async open (init: RedisStoreInit = {}): Promise<RedisRegistrationStore> {
    const connectTimeout = init.connectTimeout ?? 5000
    const owned = init.client == null
    const target = owned ? parseRedisUrl(init.url ?? 'redis://127.0.0.1:6379') : undefined
    const keys = new RedisKeys(init.fleet ?? target?.fleet ?? 'rendezvous')
    const where = target == null ? 'the given client' : redact(target.url)
    const client = (init.client ?? await connectUrl(target?.url ?? '', init)) as Client

    // while connecting, the refused connection says more than the "Connection is closed" it leads to
    let lastError: Error | undefined
    const onError = (err: Error): void => { lastError = err }
    client.on('error', onError)

    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`no answer within ${connectTimeout} ms`)) }, connectTimeout)
    })
    try {
      const work = (async () => {
        if (owned) await (client as Redis).connect()
        // a wrong database or password does not stop the client becoming ready; the first command finds out
        if (target != null && target.db !== 0) await (client as Redis).select(target.db)
        // NX: the first point of a fleet picks the secret, every later one reads it
        await client.set(keys.secret, Buffer.from(randomBytes(32)), 'NX')
        return client.getBuffer(keys.secret)
      })()
      // once the deadline has won, whatever the work still throws has no one to tell
      work.catch(() => {})
      const secret = await Promise.race([deadline, work])
      if (secret == null || secret.byteLength < 16) throw new Error(`${keys.secret} holds no usable cookie secret`)
      return new RedisRegistrationStore(client, keys, new Uint8Array(secret), owned)
    } catch (err: any) {
      if (owned) {
        // closing may still raise an event; unheard, the client would print it
        client.on('error', () => {})
        client.disconnect()
      }
      const reason = err?.message === 'Connection is closed.' && lastError != null ? lastError.message : err?.message ?? String(err)
      throw new StoreConnectionError(`cannot use Redis at ${where}: ${reason}`)
    } finally {
      clearTimeout(timer)
      client.off('error', onError)
    }
  }

  private constructor (client: Client, keys: RedisKeys, cookieSecret: Uint8Array, owned: boolean) {
    this.client = client
    this.keys = keys
    this.fleet = keys.fleet
    this.cookieSecret = cookieSecret
    this.owned = owned
    for (const [name, script] of Object.entries(SCRIPTS)) client.defineCommand(name, script)
    client.on('error', this.onError)
    client.on('ready', this.onReady)
  }

  // reconnection failures arrive as events; without a listener the client would print them
  private readonly onError = (err: Error): void => {
    log.error('redis - %e', err)
  }

  // a Redis that came back empty (restarted without persistence) gets our secret back, so the fleet
  // keeps one secret and cookies issued before stay valid; NX: the first point to say so wins
  private readonly onReady = (): void => {
    this.client.set(this.keys.secret, Buffer.from(this.cookieSecret), 'NX').catch((err: Error) => {
      log.error('restoring the cookie secret failed - %e', err)
    })
  }

  /** Stop listening to the client, and close the connection when the store opened it */
  async close (): Promise<void> {
    this.client.off('error', this.onError)
    this.client.off('ready', this.onReady)
    if (!this.owned) return
    // a client whose error events nobody hears prints them; this one is closing, there is nothing to hear
    this.client.on('error', () => {})
    try {
      await this.client.quit()
    } catch {
      // quitting needs Redis; when it is down, just drop the socket
      this.client.disconnect()
    }
  }

  async register (registration: NewRegistration, limits: RegistrationLimits, now: number): Promise<RegisterOutcome> {
    const { peerId, namespace, signedPeerRecord, seq, expiresAt, unsigned, relayedVia } = registration
    const keys = this.keys
    const id = Buffer.from(randomBytes(8)).toString('hex')
    // relative to Redis's clock: points' clocks (and tests' `now`) need not agree with it
    const ttl = Math.max(1, Math.ceil(expiresAt - now))

    return this.call(async () => {
      // the record first, so that an index entry never names a record that is not there yet
      await this.client.set(keys.record(namespace, id), Buffer.from(signedPeerRecord.buffer, signedPeerRecord.byteOffset, signedPeerRecord.byteLength), 'PX', ttl)
      // should this fail, the record stays: the script may have run before the connection broke, and
      // a record nobody names costs only memory until its TTL runs out
      const reply = await this.client.rendezvousRegister(
        keys.cursor, keys.all, keys.expiry, keys.namespace(namespace), keys.peer(peerId),
        keys.base, peerId, namespace, seq.toString(), String(expiresAt), String(now),
        limits.maxPerPeer, limits.maxTotal, id, ttl, unsigned === true ? '1' : '', relayedVia ?? ''
      )
      const [status, detail] = reply
      const gone = pairs(reply.slice(2))
      if (status !== 'ok') gone.push([namespace, id])
      await this.unlink(gone)
      switch (status) {
        case 'ok': return { ok: true }
        case 'stale-record': return { ok: false, reason: 'stale-record', currentSeq: BigInt(detail) }
        case 'peer-limit': return { ok: false, reason: 'peer-limit' }
        case 'total-limit': return { ok: false, reason: 'total-limit' }
        default: throw new Error(`unexpected reply from the register script: ${status}`)
      }
    })
  }

  async unregister (peerId: string, namespace: string | undefined, _now?: number): Promise<number> {
    return this.remove(peerId, namespace == null ? 'all' : 'one', namespace ?? '')
  }

  async unregisterRelayed (peerId: string, relay: string, _now?: number): Promise<number> {
    // the script keeps an empty relay for "none", which no relay is
    return relay === '' ? 0 : this.remove(peerId, 'relayed', relay)
  }

  /** Run the unregister script: every registration of the peer, one, or those through one relay */
  private async remove (peerId: string, which: 'all' | 'one' | 'relayed', argument: string): Promise<number> {
    const keys = this.keys
    return this.call(async () => {
      const reply = await this.client.rendezvousUnregister(
        keys.peer(peerId), keys.all, keys.expiry,
        keys.base, peerId, which, argument
      )
      const gone = pairs(reply)
      await this.unlink(gone)
      return gone.length
    })
  }

  async discover (namespace: string | undefined, after: bigint, limit: number, now: number, options: DiscoverOptions = {}): Promise<DiscoverPage> {
    const keys = this.keys
    return this.call(async () => {
      const reply = await this.client.rendezvousDiscover(
        namespace == null ? keys.all : keys.namespace(namespace),
        keys.base, after.toString(), Math.max(0, Math.min(Math.floor(limit), MAX_PAGE)), String(now), namespace ?? '',
        options.signedOnly === true ? '1' : ''
      )
      const entries: IndexEntry[] = []
      for (let i = 0; i + 7 < reply.length; i += 8) {
        entries.push({
          peerId: reply[i],
          namespace: reply[i + 1],
          cursor: BigInt(reply[i + 2]),
          seq: BigInt(reply[i + 3]),
          expiresAt: Number(reply[i + 4]),
          id: reply[i + 5],
          unsigned: reply[i + 6] === '1',
          relayedVia: reply[i + 7] === '' ? undefined : reply[i + 7]
        })
      }
      const records = await this.fetchRecords(entries)
      const registrations: StoredRegistration[] = []
      entries.forEach((entry, i) => {
        const record = records[i]
        // gone between the index read and this one: replaced (it comes back at a later cursor),
        // unregistered or expired; either way not part of this page
        if (record == null) return
        registrations.push({
          peerId: entry.peerId,
          namespace: entry.namespace,
          signedPeerRecord: record,
          ...(entry.unsigned ? { unsigned: true } : {}),
          seq: entry.seq,
          expiresAt: entry.expiresAt,
          cursor: entry.cursor,
          ...(entry.relayedVia != null ? { relayedVia: entry.relayedVia } : {})
        })
      })
      // past every entry read, returned or not: what vanished will not come back below its cursor
      return { registrations, cursor: entries.at(-1)?.cursor ?? after }
    })
  }

  async namespaceStats (now: number): Promise<Map<string, number>> {
    return this.call(async () => {
      const reply = await this.client.rendezvousNamespaceStats(this.keys.expiry, this.keys.base, String(now))
      const stats = new Map<string, number>()
      for (let i = 0; i + 1 < reply.length; i += 2) stats.set(String(reply[i]), Number(reply[i + 1]))
      return stats
    })
  }

  async prune (now: number): Promise<number> {
    return this.call(async () => {
      let pruned = 0
      // in batches, so no one script holds Redis for long
      while (true) {
        const gone = pairs(await this.client.rendezvousPrune(this.keys.expiry, this.keys.all, this.keys.base, String(now), PRUNE_BATCH))
        pruned += gone.length
        await this.unlink(gone)
        if (gone.length < PRUNE_BATCH) return pruned
      }
    })
  }

  /** The records of `entries`, in their order; null where one is gone. One MGET per namespace: a namespace's records share a slot */
  private async fetchRecords (entries: IndexEntry[]): Promise<Array<Uint8Array | null>> {
    const records = new Array<Uint8Array | null>(entries.length).fill(null)
    await Promise.all([...groupByNamespace(entries.map((e, i) => [e.namespace, e.id, i] as const))].map(async ([namespace, members]) => {
      const found = await this.client.mgetBuffer(...members.map(([id]) => this.keys.record(namespace, id)))
      members.forEach(([, i], j) => {
        const record = found[j]
        records[i] = record == null ? null : new Uint8Array(record)
      })
    }))
    return records
  }

  /** Delete records the index no longer names; they would expire anyway, so a failure here is only logged */
  private async unlink (gone: Array<[namespace: string, id: string]>): Promise<void> {
    const named = gone.filter(([, id]) => id !== '')
    if (named.length === 0) return
    try {
      await Promise.all([...groupByNamespace(named.map(([namespace, id]) => [namespace, id, 0] as const))].map(async ([namespace, members]) =>
        this.client.unlink(...members.map(([id]) => this.keys.record(namespace, id)))
      ))
    } catch (err) {
      log.error('unlinking %d records failed - %e', named.length, err)
    }
  }

  /** Run `op`, reporting a Redis that is down or cannot serve as `StoreUnavailableError` */
  private async call<T> (op: () => Promise<T>): Promise<T> {
    try {
      return await op()
    } catch (err) {
      throw storeError(err)
    }
  }
}

/** Open a Redis registration store; see `RedisRegistrationStore.open` */
export async function redisStore (init: RedisStoreInit = {}): Promise<RedisRegistrationStore> {
  return RedisRegistrationStore.open(init)
}

async function connectUrl (url: string, init: RedisStoreInit): Promise<Redis> {
  // loaded on demand: only Node processes that use Redis pay for (or can load) the client, an optional peer dependency
  const { Redis } = await loadOptional('A redis:// store', ['ioredis'], async () => import('ioredis'))
  const maxDelay = init.maxReconnectDelay ?? 2000
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: init.connectTimeout ?? 5000,
    commandTimeout: init.commandTimeout ?? 5000,
    // fail at once while disconnected, rather than queue requests until Redis is back: the point
    // answers E_UNAVAILABLE and the client retries, which beats a stream waiting out its timeout
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay),
    // every Redis-compatible server speaks RESP2, and nothing here needs RESP3
    protocol: 2
  }
  return new Redis(url, options)
}

/** Redis replies that mean "not now" rather than "wrong request" */
const UNAVAILABLE_REPLIES = new Set(['LOADING', 'BUSY', 'READONLY', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN', 'OOM', 'NOREPLICAS', 'MISCONF'])

/** What the point should see for an error from Redis */
function storeError (err: any): Error {
  if (err?.name === 'ReplyError') {
    const code = String(err.message).split(' ', 1)[0]
    return UNAVAILABLE_REPLIES.has(code) ? new StoreUnavailableError(`Redis cannot serve now: ${err.message}`) : err
  }
  // our own mistakes stay what they are
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) return err
  // the rest come from the connection: closed, refused, timed out, not writable while reconnecting
  return new StoreUnavailableError(`Redis is unreachable: ${err?.message ?? String(err)}`)
}

function pairs (flat: string[]): Array<[namespace: string, id: string]> {
  const out: Array<[string, string]> = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]])
  return out
}

function groupByNamespace (items: ReadonlyArray<readonly [namespace: string, id: string, index: number]>): Map<string, Array<[id: string, index: number]>> {
  const groups = new Map<string, Array<[string, number]>>()
  for (const [namespace, id, index] of items) {
    let group = groups.get(namespace)
    if (group == null) {
      group = []
      groups.set(namespace, group)
    }
    group.push([id, index])
  }
  return groups
}

/** The URL for the client (without our own `fleet` parameter), the database and the fleet it names */
function parseRedisUrl (url: string): { url: string, db: number, fleet?: string } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new StoreConnectionError('the Redis URL is not a URL')
  }
  const fleet = parsed.searchParams.get('fleet') ?? undefined
  parsed.searchParams.delete('fleet')
  const db = parsed.pathname.replace(/^\//, '')
  if (!/^\d*$/.test(db)) throw new StoreConnectionError(`the database in ${redact(url)} must be a number, as in redis://host:6379/0`)
  return { url: parsed.toString(), db: Number(db), fleet }
}

/** The URL without its password, for messages */
function redact (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'the given URL'
  }
}
