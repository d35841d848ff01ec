import { DEFAULT_TTL, MAX_TTL } from '../constants.ts'
import { openPeerRecord, peekPeerRecord } from '../protocol/peer-record.ts'
import type { Registration, VerifiedPage, VerifyOptions } from './api.ts'
import type { WireRegistration } from '../protocol/messages.ts'

/** Points have been seen to return absurd TTLs (nim's wrap-around, rust's u64::MAX) */
export function clampTtl (ttl: number): number {
  return Math.min(Math.max(ttl, 0), MAX_TTL)
}

/**
 * Verifications in flight at once. In a browser they queue for WebCrypto,
 * so with all of them at once the first to pass would wait for most of the
 * rest; a few at a time keeps it busy and lets the first be told at once.
 */
export const VERIFYING = 4

/** Call `run` on every item, `limit` at a time, in order */
export async function eachLimited<T> (items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await run(items[next++])
  }))
}

interface Candidate {
  entry: WireRegistration
  index: number
  seq: bigint
}

/**
 * The registrations of one page that can be trusted, one per peer and
 * namespace: the newest of its records that verifies. The newest record of
 * each peer is verified first, and an older one only once every newer one
 * has failed, so an older record is never passed on while a newer valid one
 * is on the page, whatever their order; and a forged newer record cannot hide
 * a valid older one. Peers are verified a few at a time, in the order the
 * point sent them, each passed on as soon as its record verifies.
 */
export async function verifyPage (entries: WireRegistration[], options: VerifyOptions = {}): Promise<VerifiedPage> {
  const groups = new Map<string, Candidate[]>()
  let dropped = 0
  entries.forEach((entry, index) => {
    const peeked = peekPeerRecord(entry.signedPeerRecord)
    if (peeked == null) {
      dropped++
      options.onInvalid?.(new Error('signed peer record does not decode'))
      return
    }
    // a peer id never holds a space, so the key cannot be ambiguous
    const key = `${peeked.peerId} ${entry.namespace}`
    const group = groups.get(key) ?? []
    group.push({ entry, index, seq: peeked.seq })
    groups.set(key, group)
  })

  const chosen: Array<{ registration: Registration, index: number }> = []
  await eachLimited([...groups.values()], VERIFYING, async candidates => {
    // newest first; of equal ones, the first the point sent
    candidates.sort((a, b) => a.seq === b.seq ? a.index - b.index : a.seq > b.seq ? -1 : 1)
    for (const [tried, { entry, index }] of candidates.entries()) {
      try {
        const record = await openPeerRecord(entry.signedPeerRecord, options)
        const registration: Registration = {
          namespace: entry.namespace,
          peerId: record.peerId,
          multiaddrs: record.multiaddrs,
          ttl: clampTtl(entry.ttl ?? DEFAULT_TTL),
          seq: record.seq,
          signedPeerRecord: entry.signedPeerRecord,
          certified: true
        }
        dropped += candidates.length - tried - 1
        chosen.push({ registration, index })
        options.onRegistration?.(registration)
        return
      } catch (err) {
        options.signal?.throwIfAborted()
        dropped++
        options.onInvalid?.(err)
      }
    }
  })

  const registrations = chosen.sort((a, b) => a.index - b.index).map(c => c.registration)
  return { registrations, dropped }
}
