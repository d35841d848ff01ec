/**
 * The markdown report of one run: the machine, the targets (met or missed,
 * with a note for each one missed), then one section per benchmark with
 * every figure next to its baseline. Written to bench/RESULTS.md after a
 * full run and printed after every run.
 */
import { kB, ms, ratio, spreadMs, spreadRatio, spreadUs, table, us, whole } from './format.ts'
import { crowd } from './report-crowd.ts'
import { judge } from './targets.ts'
import type { BenchRun, Results } from './results.ts'
import type { KindSummary } from '../point/load-driver.ts'

function machine (run: BenchRun): string {
  const m = run.machine
  return table(['Machine', ''], [
    ['CPU', m.cpu],
    ['Cores', String(m.cores)],
    ['Memory', `${m.memory} GiB`],
    ['OS', m.os],
    ['Node', m.node],
    ['Chromium', m.chromium],
    ['Load average (1 min) at start', String(m.loadAverage)]
  ])
}

function targets (results: Results): string {
  const judged = judge(results)
  if (judged.length === 0) return ''
  const verdict = (t: typeof judged[number]): string => `${t.met ? '**met**' : '**missed**'}${t.unsettled === true ? ' (unsettled, see note)' : ''}`
  const rows = judged.map(t => [t.name, t.measured, t.baseline, t.ratio, t.bound, verdict(t)])
  const notes = judged.filter(t => t.note != null).map(t => `- **${t.name}**: ${t.note ?? ''}`)
  return [
    '## Targets',
    '',
    table(['Target', 'Measured (median)', 'Baseline (same run)', 'Ratio', 'Bound', 'Result'], rows),
    ...(notes.length > 0 ? ['', '### What bounds the missed (and unsettled) targets, and what would move them', '', ...notes] : [])
  ].join('\n')
}

function firstPeer (r: NonNullable<Results['firstPeer']>): string {
  const { floor, cold, warm } = r.phases
  return [
    '## Time to first peer (headless Chromium, local point over WebSockets)',
    '',
    `Milliseconds from the libp2p node's \`start()\`, ${r.runs} runs of each in a fresh browser context, the three taking turns; ` +
      `the point holds ${r.peers} real registrations and every request asks for a page of 100. Chromium ${r.browser}. ` +
      `Every cold run's first peer came from the network and every warm run's from the cache: ${r.sourcesAsExpected ? 'yes' : '**no**'}.`,
    '',
    table(['', 'Median (IQR, min–max)', 'vs floor', 'vs cold', 'Round by round: median (IQR, min–max)'], [
      ['Floor: bare node, dial, one raw DISCOVER', spreadMs(r.floor), '1.00×', '', ''],
      ['Cold: SDK, empty cache, to first `peer`', spreadMs(r.cold), ratio(r.coldVsFloor), '1.00×', `${spreadRatio(r.pairedColdVsFloor)} of floor`],
      [`Warm: SDK, ${r.peers} peers in IndexedDB, to first \`peer\``, spreadMs(r.warm), ratio(r.warm.median / r.floor.median), ratio(r.warmVsCold), `${spreadRatio(r.pairedWarmVsCold)} of cold`]
    ]),
    '',
    'The ratios are of medians; the last column takes them round by round, each run against the other kind\'s run of the same round, as a check on how settled they are.',
    '',
    'Where the time went (medians, ms from `start()`; the SDK\'s cache reads are timed through its public cache option):',
    '',
    table(['', 'Cache: registrations read (opens IndexedDB)', 'Cache: seq read', '`start()` resolved', 'First connection', 'First peer / response'], [
      ['Floor', '', '', ms(floor.started), ms(floor.connected), ms(r.floor.median)],
      ['Cold', ms(cold.registrationsRead), ms(cold.seqRead), ms(cold.started), ms(cold.connected), ms(r.cold.median)],
      ['Warm', ms(warm.registrationsRead), ms(warm.seqRead), ms(warm.started), ms(warm.connected), ms(r.warm.median)]
    ]),
    '',
    `Timed alone in each warm page after its run: reading the ${r.peers} cached registrations again ${ms(r.warmParts.cacheRead)}, verifying their ${r.peers} records ${ms(r.warmParts.verify)}.`,
    '',
    `How long libp2p's own \`start()\` took: bare node ${spreadMs(r.started.floor)}; SDK, empty cache ${spreadMs(r.started.cold)}; SDK, warm cache ${spreadMs(r.started.warm)}. ` +
      `Warm over empty: ${ratio(r.startWarmVsCold)} (round by round ${spreadRatio(r.pairedStartWarmVsCold)}).`
  ].join('\n')
}

function connect (r: NonNullable<Results['connect']>): string {
  return [
    '## Time from `peer` to a connection: relayed, and direct over WebRTC (headless Chromium, local point over WebSockets)',
    '',
    `Milliseconds from the SDK's \`peer\` event in one page to the open connection to the peer it announced, in another page (each its own browser context), ${r.runs} runs of each with a fresh pair of pages, the two kinds taking turns. ` +
      'Relayed: the relayed address only, through the point\'s circuit relay. Direct: every registered address, as the demo\'s "Connect" dials them; libp2p takes the /webrtc one the SDK registered, opens the relayed connection to signal over it and then the WebRTC one (ICE over this machine\'s host candidates). ' +
      `Chromium ${r.browser}. Every direct run got a direct connection and every relayed run a relayed one: ${r.kindsAsExpected ? 'yes' : '**no**'}.`,
    '',
    table(['', 'Median (IQR, min–max)', 'vs relayed', 'Round by round: median (IQR, min–max)'], [
      ['Relayed (baseline)', spreadMs(r.relayed), '1.00×', ''],
      ['Direct (WebRTC, signalled through the relay)', spreadMs(r.direct), ratio(r.directVsRelayed), `${spreadRatio(r.pairedDirectVsRelayed)} of relayed`]
    ])
  ].join('\n')
}

function bundle (r: NonNullable<Results['bundle']>): string {
  return [
    '## Bundle cost',
    '',
    `A minimal browser app (libp2p, WebSockets, noise, yamux, identify) built by vite ${r.vite} in production mode (app mode), ` +
      'without and with the SDK (`rendezvousDiscovery` as a service); gzip level 9, brotli quality 11. kB are 1000 bytes. Builds are deterministic: one of each.',
    '',
    table(['App', 'Minified', 'gzip', 'brotli'], [
      ['Without the SDK (baseline)', kB(r.base.raw), kB(r.base.gzip), kB(r.base.brotli)],
      ['With the SDK', kB(r.sdk.raw), kB(r.sdk.gzip), kB(r.sdk.brotli)],
      ['**Added by the SDK**', kB(r.added.raw), `**${kB(r.added.gzip)}**`, kB(r.added.brotli)]
    ]),
    '',
    'The SDK\'s own modules, from the bundle\'s source map: minified bytes, and the gzip bytes the bundle loses without each one ' +
      '(they do not add up to the total: gzip shares context between modules).',
    '',
    table(['Module', 'Minified', 'gzip without it'], r.modules.map(m => [`\`${m.module}\``, kB(m.minified), kB(m.gzip)])),
    '',
    'The same by folder, each one part of the SDK: the gzip bytes the bundle loses without every module of the part.',
    '',
    table(['Part', 'Modules', 'Minified', 'gzip without it'], r.parts.map(p => [`\`${p.part}/\``, String(p.modules), kB(p.minified), kB(p.gzip)])),
    '',
    `String and template literals (error, log and option texts, protocol and enum names) are ${kB(r.sdkStrings)} of the SDK's minified output. ` +
      `With every one of them emptied the SDK would still add ${kB(r.addedWithoutStrings)} gzip: the most that shorter texts could save is ${kB(r.added.gzip - r.addedWithoutStrings)}.`,
    '',
    'Packages whose bytes differ between the two apps (minified):',
    '',
    table(['Package', 'Without', 'With', 'Added'], r.packages
      .filter(p => Math.abs(p.sdk - p.base) >= 50)
      .map(p => [p.name, kB(p.base), kB(p.sdk), kB(p.sdk - p.base)]))
  ].join('\n')
}

function loadRow (name: string, k: KindSummary, vs?: { p50Ratio: number, perSecondRatio: number, pointCpuRatio: number }): string[] {
  return [
    name,
    ms(k.latency.median),
    ms(k.latency.p99),
    `${whole(k.perSecond.median)} (${whole(k.perSecond.min)}–${whole(k.perSecond.max)})`,
    us(k.pointCpuUs),
    whole(1e6 / k.pointCpuUs),
    vs == null ? 'baseline' : `${ratio(vs.p50Ratio)} / ${ratio(vs.perSecondRatio)} / ${ratio(vs.pointCpuRatio)}`
  ]
}

function load (r: NonNullable<Results['load']>): string {
  const header = ['', 'p50', 'p99', 'Requests/s (min–max over bursts)', 'Point CPU per request', 'Requests/s per point core (CPU-bound)', 'vs baseline: p50 / req/s / CPU']
  return [
    '## The point under load (Node, real libp2p connections over loopback)',
    '',
    `${r.clients} client nodes, each with its own TCP connection and one request in flight, against a point in its own process; ` +
      `${r.rounds} bursts of ${r.requests} requests per kind, kinds taking turns. DISCOVER asks for a page of 100 (the namespace holds the ${r.clients} clients) ` +
      'and verifies no record, so the point is what is measured. The point\'s CPU time per request is read from its process and is the steadiest figure on a shared machine; ' +
      'the clients share one process and this machine\'s cores with the point, so requests/s is a floor, not the point\'s capacity.',
    '',
    table(header, [
      loadRow('ping (baseline: new stream + round trip)', r.ping),
      loadRow('REGISTER', r.register, r.register),
      loadRow('DISCOVER (limit 100)', r.discover, r.discover)
    ]),
    '',
    `### Registrations in Redis vs in memory (redis-server ${r.redisVersion} on loopback)`,
    '',
    'The same clients and bursts, in the same rounds, against a second point whose store is Redis. Point CPU excludes redis-server\'s own.',
    '',
    table([...header.slice(0, 6), 'vs memory: p50 / req/s / CPU'], [
      loadRow('REGISTER, memory (baseline)', r.register),
      loadRow('REGISTER, Redis', r.redis.register, r.redis.register),
      loadRow('DISCOVER, memory (baseline)', r.discover),
      loadRow('DISCOVER, Redis', r.redis.discover, r.redis.discover)
    ])
  ].join('\n')
}

function scale (r: NonNullable<Results['scale']>): string {
  return [
    '## DISCOVER (limit 100) against namespace size',
    '',
    `One point per size, one client asking them in turn, ${r.samples} samples each. End to end is a raw request over a real connection (records not verified); ` +
      'the handler is the point\'s request handler alone on the same store. The cookie page resumes halfway through the namespace.',
    '',
    table(['Registrations', 'First page, end to end', 'Cookie page, end to end', 'First page, handler', 'Cookie page, handler'], [
      ...r.rows.map(row => [whole(row.registrations), spreadMs(row.firstPage), spreadMs(row.cookiePage), spreadUs(row.handlerFirstPage), spreadUs(row.handlerCookiePage)]),
      [`**${whole(r.rows[r.rows.length - 1].registrations)} vs ${whole(r.rows[0].registrations)}**`, ratio(r.firstPageRatio), ratio(r.cookiePageRatio), ratio(r.handlerFirstPageRatio), ratio(r.handlerCookiePageRatio)]
    ])
  ].join('\n')
}

function departure (r: NonNullable<Results['departure']>): string {
  const sizes = r.rows.filter(row => row.store === 'memory').map(row => whole(row.registrations))
  return [
    '## Dropping the registrations of a peer that left, against store size',
    '',
    `Stores of ${sizes.join(' and ')} registrations in ${r.namespaces} namespaces, in memory and in Redis (redis-server ${r.redisVersion} on loopback); ` +
      `each departing peer holds ${r.perPeer}, all relayed through the point, and the point drops them all in one call. ` +
      'Baselines: another peer\'s UNREGISTER of as many registrations, timed in turns with the drops; and a walk of the whole store, 1000 registrations to a page, ' +
      'what finding a peer\'s registrations would cost without the index by peer.',
    '',
    table(['Store', 'Registrations', 'Drop one peer\'s registrations', 'UNREGISTER as many (baseline)', 'Drop vs UNREGISTER', 'Walk the store'],
      r.rows.map(row => [row.store, whole(row.registrations), spreadUs(row.drop), spreadUs(row.unregister), ratio(row.dropVsUnregister), spreadMs(row.walk)])),
    '',
    `Largest over smallest store, median drop: memory ${ratio(r.memoryGrowth)}, Redis ${ratio(r.redisGrowth)} ` +
      '(the memory store keeps expiries in a heap, so any removal, an UNREGISTER\'s too, costs O(log n)).'
  ].join('\n')
}

function memory (r: NonNullable<Results['memory']>): string {
  const b = r.bytesPerRegistration
  return [
    '## Point memory per registration',
    '',
    `${whole(r.registrations)} registrations in ${r.namespaces} namespaces in a fresh in-memory store; heap and array-buffer growth after a full GC, ${b.n} repetitions. ` +
      'Includes each registration\'s peer id string, made as a point makes it from the connection.',
    '',
    table(['', 'Bytes per registration'], [
      ['The signed record alone (baseline: no store can hold less)', whole(r.recordBytes)],
      ['The store, per registration', `${whole(b.median)} (${whole(b.min)}–${whole(b.max)})`],
      ['Store over record', ratio(r.overheadRatio)],
      [`So ${whole(r.registrations)} registrations take`, `${(b.median * r.registrations / 2 ** 20).toFixed(0)} MiB`]
    ])
  ].join('\n')
}

function breakdown (r: NonNullable<Results['breakdown']>): string {
  const section = (title: string, b: NonNullable<Results['breakdown']>['discover']): string[] => {
    const largest = b.parts.reduce((a, p) => p.us > a.us ? p : a)
    const rest = b.parts[b.parts.length - 1]
    // parts timed alone are medians of their own, on a machine whose load moves: they can add up to more than the whole
    const overshoot = rest.us < 0
      ? [`The parts timed alone add up to ${us(-rest.us)} more than the end-to-end median, so the last row is negative: what the parts leave over is within the noise of this run.`, '']
      : []
    return [
      `${title}: ${spreadMs(b.endToEnd)} end to end through the real client. The largest part: ${largest.name} (${(largest.share * 100).toFixed(0)} %).`,
      '',
      table(['Part', 'Median', 'Share'], b.parts.map(p => [p.name, us(p.us), `${(p.share * 100).toFixed(0)} %`])),
      '',
      ...overshoot
    ]
  }
  return [
    '## Where the time goes',
    '',
    `One client, one point in the same process over TCP, a namespace of ${whole(r.registrations)}; each part timed alone (${r.samples} samples), ` +
      'the last row is what the parts leave over. Shares of the end-to-end median.',
    '',
    ...section('DISCOVER, a page of 100 (the client verifies every record)', r.discover),
    ...section('REGISTER (a refresh: the record is already sealed)', r.register),
    ...(verificationLeads(r.discover)
      ? ['Record verification leads DISCOVER. The client verifies every record of every page, also those it verified in its previous poll ' +
          'and holds byte for byte in its view; skipping those would take this part away from every repeat poll. ' +
          '(On Node, @libp2p/crypto also imports the public key from JWK for each verification.)']
      : [])
  ].join('\n').trimEnd()
}

function verificationLeads (b: NonNullable<Results['breakdown']>['discover']): boolean {
  return b.parts.reduce((a, p) => p.us > a.us ? p : a).name.startsWith('client: verify')
}

function background (r: NonNullable<Results['background']>): string {
  const counts = (c: { streams: number, register: number, discover: number, wakeups: number }): string => `${c.streams} / ${c.register} / ${c.discover} / ${c.wakeups}`
  return [
    '## Background cost (one simulated hour)',
    '',
    'The SDK against the real point handler over in-memory streams, with a manual clock and page visibility: an hour visible (the baseline), then the same hour hidden. ' +
      `Polls every ${r.discoverInterval / 1000} s while visible (the default); a poll that finds the namespace in one page is 2 DISCOVER requests (the page, then the empty one after its cookie). ` +
      'REGISTER and DISCOVER are counted where the point\'s store receives them, all requests as the streams opened to the point; wake-ups are the SDK\'s timers that fired.',
    '',
    table(['Granted TTL', 'Visible hour: requests / REGISTER / DISCOVER / wake-ups', 'Hidden hour: requests / REGISTER / DISCOVER / wake-ups', 'Refresh deadlines in the hidden hour', 'Each refresh on its deadline', 'DISCOVER when visible again'],
      r.rows.map(row => [`${row.ttl} s`, counts(row.visible), counts(row.hidden), String(row.refreshesDue), row.refreshesOnTime ? 'yes' : '**no**', String(row.discoverOnReturn)]))
  ].join('\n')
}

export function renderReport (run: BenchRun): string {
  const r = run.results
  const minutes = (run.duration / 60).toFixed(1)
  return [
    '# Benchmark results',
    '',
    `${run.complete ? 'The latest full run' : 'A partial run'} of \`npm run bench\`, ${run.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${minutes} min. ` +
      'Every figure is a median over repeated runs, next to a baseline measured in the same run; spread is the interquartile range (IQR) and min–max. ' +
      'The machine is shared with other work, so absolute numbers are noisy: compare the ratios.',
    '',
    machine(run),
    '',
    targets(r),
    ...[
      r.firstPeer != null ? firstPeer(r.firstPeer) : '',
      r.connect != null ? connect(r.connect) : '',
      r.bundle != null ? bundle(r.bundle) : '',
      r.load != null ? load(r.load) : '',
      r.crowd != null ? crowd(r.crowd) : '',
      r.scale != null ? scale(r.scale) : '',
      r.departure != null ? departure(r.departure) : '',
      r.memory != null ? memory(r.memory) : '',
      r.breakdown != null ? breakdown(r.breakdown) : '',
      r.background != null ? background(r.background) : ''
    ].filter(s => s !== '').flatMap(s => ['', s])
  ].join('\n') + '\n'
}
