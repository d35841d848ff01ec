import { addressKey, OwnRecord } from '../../client/own-record.ts'
import type { RendezvousClientComponents } from '../../client/api.ts'
import type { CacheSync } from '../cache/cache-sync.ts'
import type { Context } from '../context.ts'

/**
 * The record we register with, and its one owner: sealed once per change of
 * our addresses, its sequence number carried across page loads through the
 * cache (read before the first seal, saved before each new one goes out), so
 * that a reload never reuses one and points never see it go back.
 */
export class OurRecord {
  readonly #context: Context
  readonly #cache: CacheSync
  readonly #record: OwnRecord
  #seqFloor?: Promise<void>
  /**
   * Our addresses (as one string) when we last looked. Only a change counts:
   * libp2p raises `self:peer:update` for other reasons too, and those must not
   * cut short a failing point's backoff.
   */
  #addresses = ''

  constructor (context: Context, components: Pick<RendezvousClientComponents, 'privateKey' | 'addressManager' | 'registrar'>, cache: CacheSync) {
    this.#context = context
    this.#cache = cache
    const { settings, clock } = context
    this.#record = new OwnRecord(components, { addressFilter: settings.addressFilter, allowEmptyAddresses: settings.allowEmptyAddresses, now: () => clock.now() })
  }

  start (): void {
    this.#seqFloor ??= this.#cache.seq().then(seq => { if (seq != null) this.#record.raiseSeqFloor(seq) })
    this.#addresses = this.#key()
  }

  /** Whether there is anything to register (or a record without addresses is allowed) */
  hasAddresses (): boolean {
    return this.#context.settings.allowEmptyAddresses || this.#record.addresses().length > 0
  }

  /** Whether the addresses we would advertise changed since the last look */
  changed (): boolean {
    const key = this.#key()
    if (key === this.#addresses) return false
    this.#addresses = key
    return true
  }

  /** The envelope to REGISTER with, its sequence number persisted first */
  async seal (signal: AbortSignal): Promise<Uint8Array> {
    await this.#seqFloor
    const record = await this.#record.seal({ signal })
    await this.#cache.saveSeq(this.#record.seq, { signal })
    return record
  }

  #key (): string {
    return addressKey(this.#record.addresses())
  }
}
