/**
 * The issue's targets, judged against one run. A missed target carries a
 * note with what bounds it and what would move it, filled in with this run's
 * own figures, so the note stays true when the numbers change.
 */
import { kB, ms, ratio, us } from './format.ts'
import type { Results } from './results.ts'

export interface Target {
  name: string
  measured: string
  baseline: string
  ratio: string
  bound: string
  met: boolean
  /**
   * The ratio of medians and the median of the round-by-round ratios fall on
   * different sides of the bound: the verdict could flip on a rerun
   */
  unsettled?: boolean
  /** When missed or unsettled: what bounds it, and what would move it */
  note?: string
}

/** Whether a ratio of medians and the median of paired ratios disagree about `bound` */
function unsettled (ofMedians: number, paired: number, bound: number): boolean {
  return (ofMedians <= bound) !== (paired <= bound)
}

/** Says so when the two ways of taking the ratio disagree; empty otherwise */
function unsettledNote (ofMedians: number, paired: number, bound: number): string {
  if (!unsettled(ofMedians, paired, bound)) return ''
  return `The ratio of medians is ${ratio(ofMedians)} but taken round by round it is ${ratio(paired)}: this run cannot settle it, and a rerun may land on either side. `
}

function warmTarget (r: NonNullable<Results['firstPeer']>): Target {
  const bound = 0.1 * r.cold.median
  const { warm, floor, cold } = r.phases
  const read = warm.registrationsRead ?? 0
  const alone = floor.started >= bound
    ? `A bare libp2p node's own start() (${ms(floor.started)}) takes longer than the whole bound of ${ms(bound)}. `
    : ''
  return {
    name: 'Time to first peer, warm ≤ 0.1 × cold',
    measured: `warm ${ms(r.warm.median)}`,
    baseline: `cold ${ms(r.cold.median)}`,
    ratio: ratio(r.warmVsCold),
    bound: `≤ 0.10× (${ms(bound)})`,
    met: r.warmVsCold <= 0.1,
    unsettled: unsettled(r.warmVsCold, r.pairedWarmVsCold.median, 0.1),
    note: `${unsettledNote(r.warmVsCold, r.pairedWarmVsCold.median, 0.1)}` +
      'A warm start shows the cache\'s first look from start() itself: a quick copy of a few cached registrations in localStorage, whose signatures are checked in JavaScript as libp2p makes the service; ' +
      `the rest follow as IndexedDB answers (here at ${ms(read)}) and WebCrypto checks them. A bare libp2p node's own start() takes ${ms(floor.started)}. ${alone}` +
      'libp2p starts its components in one unbroken run of promise callbacks, and the answers of IndexedDB and WebCrypto arrive as tasks, so anything that waits for them waits for the end of that run. ' +
      `The cold start it is compared with runs on loopback (${ms(cold.connected)} to a connection), where the network costs almost nothing. ` +
      'What would move it: whatever delays the first look: a first look that is empty or whose records fail their check (the first peer then waits for IndexedDB), or a service made long before it is started.'
  }
}

function coldTarget (r: NonNullable<Results['firstPeer']>): Target {
  const { floor, cold } = r.phases
  return {
    name: 'Time to first peer, cold ≤ 1.25 × floor',
    measured: `cold ${ms(r.cold.median)}`,
    baseline: `floor ${ms(r.floor.median)}`,
    ratio: ratio(r.coldVsFloor),
    bound: `≤ 1.25× (${ms(1.25 * r.floor.median)})`,
    met: r.coldVsFloor <= 1.25,
    unsettled: unsettled(r.coldVsFloor, r.pairedColdVsFloor.median, 1.25),
    note: `${unsettledNote(r.coldVsFloor, r.pairedColdVsFloor.median, 1.25)}The SDK's start() waits for no cache read (its registrations are read by ${ms(cold.registrationsRead)}, behind it), and libp2p's start() resolves at ${ms(cold.started)} against a bare node's ${ms(floor.started)}; ` +
      `the first connection opens at ${ms(cold.connected)} instead of ${ms(floor.connected)}, and the first peer is announced as soon as its own record verifies, a few at a time ` +
      `(about ${ms(r.warmParts.verify)} for all 100 records in this browser). ` +
      'What would move it: whatever runs between libp2p\'s start and the first DISCOVER (the dial, then the cache\'s sequence number before the first REGISTER).'
  }
}

/** libp2p's own start() must not wait for the cache: with 100 cached peers it takes about as long as with none */
function startTarget (r: NonNullable<Results['firstPeer']>): Target {
  const { floor, cold, warm } = r.started
  return {
    name: 'libp2p\'s start() with a warm cache ≤ 1.25 × with an empty one',
    measured: `warm ${ms(warm.median)}`,
    baseline: `empty cache ${ms(cold.median)} (bare node ${ms(floor.median)})`,
    ratio: ratio(r.startWarmVsCold),
    bound: `≤ 1.25× (${ms(1.25 * cold.median)})`,
    met: r.startWarmVsCold <= 1.25,
    unsettled: unsettled(r.startWarmVsCold, r.pairedStartWarmVsCold.median, 1.25),
    note: `${unsettledNote(r.startWarmVsCold, r.pairedStartWarmVsCold.median, 1.25)}` +
      'The cache\'s first look (a few records from localStorage, their signatures checked in JavaScript) is taken as libp2p makes the service, and start() only emits it; IndexedDB and WebCrypto answer behind it. ' +
      'What would move it: work the service\'s start() waits for again (a cache read, a verification), or a larger first look checked within start().'
  }
}

function bundleTarget (r: NonNullable<Results['bundle']>): Target {
  const top = r.parts.slice(0, 3).map(p => `${p.part}/ ${kB(p.gzip)}`).join(', ')
  const deps = r.packages.filter(p => !p.name.startsWith('(') && p.sdk - p.base > 100).map(p => `${p.name} ${kB(p.sdk - p.base)} minified`).join(', ')
  const own = r.modules.reduce((sum, m) => sum + m.minified, 0)
  const codec = r.modules.find(m => m.module.startsWith('src/pb/'))
  return {
    name: 'Bundle: the SDK adds ≤ 8 kB gzipped',
    measured: `+${kB(r.added.gzip)} gzip (+${kB(r.added.brotli)} brotli)`,
    baseline: `app without it ${kB(r.base.gzip)} gzip`,
    ratio: ratio(r.sdk.gzip / r.base.gzip),
    bound: '≤ 8.0 kB',
    met: r.added.gzip <= 8000,
    note: `It is the SDK's own code, ${kB(own)} minified; dependencies it adds: ${deps === '' ? 'none of note' : deps}. ` +
      `Its largest parts by the gzip bytes the bundle loses without them: ${top}${codec == null ? '' : `; the codec protons generates from the protocol's schema is ${kB(codec.gzip)}`}. ` +
      `Texts do not hold it up: with every string literal emptied it would still add ${kB(r.addedWithoutStrings)}. ` +
      'The app uses the service as the README does, and its defaults use every part (registering, polling, the IndexedDB cache, point health, the page lifecycle). ' +
      'What would move it: defaults that leave parts out until the app asks for them, a change to the public API\'s behaviour. ' +
      'Loading rare paths on demand (dynamic import) would not: the figure counts every chunk the app can load.'
  }
}

function scaleTarget (r: NonNullable<Results['scale']>): Target {
  const largest = r.rows[r.rows.length - 1]
  const smallest = r.rows[0]
  const worst = Math.max(r.firstPageRatio, r.cookiePageRatio)
  return {
    name: `DISCOVER p50 at ${largest.registrations / 1000}k ≤ 1.5 × at ${smallest.registrations / 1000}k`,
    measured: `${ms(largest.firstPage.median)} first page, ${ms(largest.cookiePage.median)} from a cookie`,
    baseline: `${ms(smallest.firstPage.median)}, ${ms(smallest.cookiePage.median)}`,
    ratio: `${ratio(r.firstPageRatio)}, ${ratio(r.cookiePageRatio)}`,
    bound: '≤ 1.50×',
    met: worst <= 1.5,
    note: `The point's handler alone went from ${Math.round(smallest.handlerFirstPage.median)} to ${Math.round(largest.handlerFirstPage.median)} µs (first page) and ` +
      `${Math.round(smallest.handlerCookiePage.median)} to ${Math.round(largest.handlerCookiePage.median)} µs (from a cookie): if those grew, the store's page lookup is what grows with the namespace; ` +
      'if they did not, the difference is transport noise and a rerun on a quieter machine will tell.'
  }
}

function departureTarget (r: NonNullable<Results['departure']>): Target {
  const largest = Math.max(...r.rows.map(row => row.registrations))
  const [memory, redis] = (['memory', 'redis'] as const).map(store => r.rows.find(row => row.store === store && row.registrations === largest))
  if (memory == null || redis == null) throw new Error('the departure benchmark has no row at its largest size')
  const worst = Math.max(memory.dropVsUnregister, redis.dropVsUnregister)
  return {
    name: `Dropping a departed peer at ${largest / 1000}k registrations ≤ 1.5 × its UNREGISTER`,
    measured: `memory ${us(memory.drop.median)}, Redis ${us(redis.drop.median)}`,
    baseline: `${us(memory.unregister.median)}, ${us(redis.unregister.median)}`,
    ratio: `${ratio(memory.dropVsUnregister)}, ${ratio(redis.dropVsUnregister)}`,
    bound: '≤ 1.50×',
    met: worst <= 1.5,
    note: 'A drop reads the departing peer\'s own entries and removes those relayed through the point, as an UNREGISTER of all its namespaces does; ' +
      'if it costs more, the store is reading more than that peer\'s entries. The figures are microseconds in memory and one Redis round trip, ' +
      'so on a busy machine a rerun tells noise from cost.'
  }
}

function hiddenDiscoverTarget (r: NonNullable<Results['background']>): Target {
  const hidden = r.rows.reduce((sum, row) => sum + row.hidden.discover, 0)
  const visible = r.rows.map(row => row.visible.discover).join(' / ')
  return {
    name: 'Background, 1 h hidden: no DISCOVER',
    measured: `${hidden} DISCOVER (TTLs ${r.rows.map(row => `${row.ttl} s`).join(', ')})`,
    baseline: `${visible} in the same hour visible`,
    ratio: '—',
    bound: '0',
    met: hidden === 0,
    note: 'DISCOVER requests were sent while the page was hidden: the poll task must wait for a visible page (the scheduler\'s whileHidden: false).'
  }
}

function refreshTarget (r: NonNullable<Results['background']>): Target {
  const sent = r.rows.map(row => row.hidden.register).join(' / ')
  const due = r.rows.map(row => row.refreshesDue).join(' / ')
  return {
    name: 'Background, 1 h hidden: REGISTER refreshes exactly as the granted TTL requires',
    measured: `${sent} REGISTER`,
    baseline: `${due} refresh deadlines (TTL ${r.rows.map(row => `${row.ttl} s`).join(' / ')})`,
    ratio: '—',
    bound: 'equal, each on its deadline, never lapsed',
    met: r.rows.every(row => row.refreshesOnTime),
    note: 'A REGISTER came early, late or extra, or a registration lapsed while hidden: see the background table for the TTL it happened at.'
  }
}

function crowdTarget (r: NonNullable<Results['crowd']>): Target {
  const walksOk = r.walks.complete === r.walkers
  const met = r.addressed === r.peers && r.registered === r.peers && walksOk && r.walkersFound === r.walkers && r.dialled.ok === r.dialled.attempted
  const why: string[] = []
  if (r.connected < r.started) {
    why.push(`${r.started - r.connected} peers were not connected at the end: the point refused their connections (over a limit) or they were closed (a ping unanswered for 5 s closes a connection, at either end).`)
  }
  if (r.pointPing.lost > 0) {
    why.push(`The point left ${r.pointPing.lost} of the measuring process's pings unanswered for 10 s: it stalled, and every peer's own pings with it.`)
  }
  if (r.addressed < r.connected) {
    why.push(`${r.connected - r.addressed} connected peers never got a relay address: the point's relay turned down their reservation (circuit-relay-v2 keeps 15 unless told otherwise), or it failed once and libp2p does not ask again on the same connection.`)
  }
  if (r.registered < r.addressed) why.push(`${r.addressed - r.registered} peers with an address did not register.`)
  if (!walksOk) why.push(`${r.walkers - r.walks.complete} of the ${r.walkers} walks did not return every registered peer (the fewest: ${r.walks.fewest})${r.walks.errors.length > 0 ? `; ${r.walks.errors.join('; ')}` : ''}.`)
  if (r.walkersFound < r.walkers) why.push(`${r.walkers - r.walkersFound} of the ${r.walkers} polling peers had not found every registered peer by their own polls, a poll interval and 15 s after the crowd joined.`)
  if (r.dialled.ok < r.dialled.attempted) why.push(`${r.dialled.attempted - r.dialled.ok} dials through the relay failed: ${r.dialled.errors.join('; ')}.`)
  const problems = r.problems.map(p => `${p.problem} (${p.peers} peers)`).join('; ')
  // libp2p closes a connection whose ping goes unanswered for 5 s or more: a stall in the crowd's own processes, or the
  // point's process waiting for a core on a machine busy with other work, does that as well as the point's limits
  const stalled = r.crowdMaxLag >= 5000
  const busy = Math.max(r.loadAverage.start, r.loadAverage.end) >= 2 * r.loadAverage.cores
  const starved = !met && (stalled || busy)
  const harness = starved
    ? `${stalled ? `The crowd's own processes stalled for up to ${(r.crowdMaxLag / 1000).toFixed(1)} s. ` : ''}` +
      `The machine's load average went from ${r.loadAverage.start} to ${r.loadAverage.end} on ${r.loadAverage.cores} cores, with the crowd and the point competing with other work: ` +
      'pings that wait that long for a core time out and close connections whatever the point\'s limits, so this run cannot tell them from the machine\'s, and a rerun on a quieter machine may land on either side. '
    : ''
  return {
    name: `A point with default flags serves ${r.peers.toLocaleString('en-US')} browsers in one namespace`,
    measured: `${r.addressed} relay addresses, ${r.registered} registered; ${r.walks.complete}/${r.walkers} walks and ${r.dialled.ok}/${r.dialled.attempted} relayed dials complete`,
    baseline: `${r.peers} peers`,
    ratio: '—',
    bound: 'every one',
    met,
    unsettled: starved,
    note: `${harness}${why.join(' ')}${problems !== '' ? ` The peers' last failures, most common first: ${problems}.` : ''}`
  }
}

/** Every target this run can judge, in the issue's order */
export function judge (results: Results): Target[] {
  const targets: Target[] = []
  if (results.firstPeer != null) targets.push(warmTarget(results.firstPeer), coldTarget(results.firstPeer), startTarget(results.firstPeer))
  if (results.bundle != null) targets.push(bundleTarget(results.bundle))
  if (results.scale != null) targets.push(scaleTarget(results.scale))
  if (results.crowd != null) targets.push(crowdTarget(results.crowd))
  if (results.departure != null) targets.push(departureTarget(results.departure))
  if (results.background != null) targets.push(hiddenDiscoverTarget(results.background), refreshTarget(results.background))
  // a note is for what was missed or is unsettled
  return targets.map(t => t.met && t.unsettled !== true ? { ...t, note: undefined } : t)
}
