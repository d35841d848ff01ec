/**
 * What a page costs the network in the background: one hour with the page
 * hidden, against the same hour visible, driven by a manual clock (nothing
 * sleeps) with a manual page visibility. The SDK runs for real against the
 * real point handler over in-memory streams (the discovery tests' harness);
 * requests are counted by kind where the point's store receives them.
 *
 * A refresh is due at the deadline the SDK set when the point last granted
 * the TTL (its refresh ratio of the TTL, less jitter), so "as many as the TTL
 * requires" is checked deadline by deadline: every REGISTER happened at its
 * deadline, none came early or extra, and the registration never lapsed.
 */
import { createTestNode, createTestPoint, ManualClock, ManualVisibility, settle, started, stopServices, TestNetwork, until } from '../../test/discovery/harness.ts'
import type { RegistrationState, RendezvousDiscovery } from '../../src/index.ts'
import type { StoreCalls, TestPoint } from '../../test/discovery/harness.ts'

const HOUR = 3_600_000
const NAMESPACE = 'app'

/** A manual clock that also knows when its next timer is due, to step from one timer to the next */
class SteppingClock extends ManualClock {
  private readonly due = new Map<number, number>()
  /** Timers that fired so far: how often a page would wake up */
  fired = 0

  override setTimeout (fn: () => void, ms: number): number {
    const id: number = super.setTimeout(() => {
      this.due.delete(id)
      this.fired++
      fn()
    }, ms)
    this.due.set(id, this.now() + ms)
    return id
  }

  override clearTimeout (id: unknown): void {
    this.due.delete(id as number)
    super.clearTimeout(id)
  }

  nextDue (): number | undefined {
    return this.due.size === 0 ? undefined : Math.min(...this.due.values())
  }
}

export interface HourCounts {
  /** Streams opened to the point: every request of any kind, also those the store never saw */
  streams: number
  register: number
  unregister: number
  discover: number
  /** Timers that fired: wake-ups of the page */
  wakeups: number
}

export interface TtlRow {
  /** Seconds, granted */
  ttl: number
  visible: HourCounts
  hidden: HourCounts
  /** Refresh deadlines the SDK's own schedule put inside the hidden hour */
  refreshesDue: number
  /** Every REGISTER while hidden was at a due deadline, and the registration never lapsed */
  refreshesOnTime: boolean
  /** DISCOVER requests right after the page became visible again */
  discoverOnReturn: number
}

export interface BackgroundResult {
  /** Milliseconds between polls while visible (the SDK's default) */
  discoverInterval: number
  rows: TtlRow[]
}

/** Run the clock forward by `ms`, timer by timer, letting each timer's requests finish before the next */
async function runFor (clock: SteppingClock, service: RendezvousDiscovery, ms: number): Promise<void> {
  const end = clock.now() + ms
  while (true) {
    const next = clock.nextDue()
    if (next == null || next > end) break
    clock.advance(next - clock.now())
    await settle()
    await until(() => service.getRegistrations().every(state => state.status !== 'registering'))
  }
  clock.advance(end - clock.now())
}

function snapshot (point: TestPoint, clock: SteppingClock): HourCounts {
  const calls: StoreCalls = point.calls
  return { ...calls, streams: point.streams, wakeups: clock.fired }
}

function minus (after: HourCounts, before: HourCounts): HourCounts {
  return {
    streams: after.streams - before.streams,
    register: after.register - before.register,
    unregister: after.unregister - before.unregister,
    discover: after.discover - before.discover,
    wakeups: after.wakeups - before.wakeups
  }
}

async function oneTtl (ttl: number): Promise<TtlRow> {
  const clock = new SteppingClock()
  const visibility = new ManualVisibility()
  const point = await createTestPoint({ now: () => clock.now() })
  const network = new TestNetwork().add(point)
  const { service } = await started(await createTestNode(network, { namespaces: [NAMESPACE], ttl, clock, visibility }))
  const states: RegistrationState[] = []
  service.addEventListener('registration:update', (evt) => { if (evt.detail.status === 'registered') states.push(evt.detail as RegistrationState) })
  try {
    await until(() => states.length > 0 && point.calls.discover > 0)
    await settle()

    // the baseline: an hour visible
    let before = snapshot(point, clock)
    await runFor(clock, service, HOUR)
    const visible = minus(snapshot(point, clock), before)

    // the same hour hidden
    visibility.fire('hidden')
    const hiddenFrom = clock.now()
    before = snapshot(point, clock)
    const registeredBefore = states.length
    await runFor(clock, service, HOUR)
    const hidden = minus(snapshot(point, clock), before)
    const hiddenUntil = clock.now()

    // deadline by deadline: each refresh is due at the refreshAt of the registration before it
    let last = states[registeredBefore - 1]
    let refreshesDue = 0
    let onTime = true
    for (const state of states.slice(registeredBefore)) {
      refreshesDue++
      if (state.updatedAt !== last.refreshAt || state.updatedAt >= (last.expiresAt ?? 0)) onTime = false
      last = state
    }
    // a deadline inside the hour that did not lead to a refresh is a missed one
    if ((last.refreshAt ?? Infinity) <= hiddenUntil) {
      refreshesDue++
      onTime = false
    }
    if (last.updatedAt < hiddenFrom && hidden.register > 0) onTime = false

    const beforeReturn = point.calls.discover
    visibility.fire('visible')
    await settle()
    await until(() => point.calls.discover > beforeReturn)
    await settle()

    return { ttl: states[0].ttl ?? ttl, visible, hidden, refreshesDue, refreshesOnTime: onTime && hidden.register === refreshesDue, discoverOnReturn: point.calls.discover - beforeReturn }
  } finally {
    await stopServices()
  }
}

export async function backgroundCost (ttls = [7200, 600, 120]): Promise<BackgroundResult> {
  const rows: TtlRow[] = []
  for (const ttl of ttls) rows.push(await oneTtl(ttl))
  return { discoverInterval: 60_000, rows }
}
