/** The report's section on the crowd at the point (bench/point/crowd.ts) */
import { kB, mib, ms, optionalSpread, table, whole } from './format.ts'
import type { Results } from './results.ts'

export function crowd (r: NonNullable<Results['crowd']>): string {
  const p = r.point
  return [
    `## A crowd of ${whole(r.peers)} browsers at one point`,
    '',
    `The point as it ships, \`${r.command}\`, in a process of its own, measured from outside (RSS and CPU from /proc). ` +
      `${whole(r.peers)} browser-shaped peers (libp2p with WebSockets and circuit relay only, listening on \`/p2p-circuit\`, running the SDK) in ${r.processes} worker processes ` +
      '(the point and each of them in a session of its own, so that on a shared machine the scheduler gives each a share of the cores as it does any other session) ' +
      `arrive from one address, ${r.arrivalsPerSecond} a second, and join one namespace. ${r.walkers} of them list their peers (the SDK polls, with its defaults) ` +
      `and at the end walk the whole namespace, one at a time in each of their processes, and dial ${r.dials} of the peers they found, through the point's relay; the others only register, to be found. Times are milliseconds.`,
    '',
    table(['Step', 'Peers', 'Time: median (IQR, min–max)'], [
      ['Started (time: the first to the last)', `${r.started} / ${r.peers}`, ms(r.ramp)],
      ['Connected to the point at the end', `${r.connected} / ${r.peers}`, ''],
      ['Relay address (from its start)', `${r.addressed} / ${r.peers}`, optionalSpread(r.toAddress)],
      ['Registered (from its start)', `${r.registered} / ${r.peers}`, optionalSpread(r.toRegistered)],
      ['Every peer registered (from the first start)', r.allRegistered != null ? 'all' : 'not all', ms(r.allRegistered)],
      ['Found by every polling peer (from its registration)', `${r.foundByAll} / ${r.registered}`, optionalSpread(r.toFoundByAll)],
      ['A polling peer has found everyone (after the last registration)', `${r.walkersFound} / ${r.walkers}`, optionalSpread(r.toWalkerComplete)],
      [`Complete walk of the namespace (pages of 100)`, `${r.walks.complete} / ${r.walkers}`, optionalSpread(r.walks.ms)],
      ['Dial through the relay to a peer found', `${r.dialled.ok} / ${r.dialled.attempted}`, optionalSpread(r.dialled.ms)]
    ]),
    '',
    'The point\'s process:',
    '',
    table(['', ''], [
      ['RSS, the point alone (baseline)', mib(p.baselineRss)],
      [`RSS with the crowd connected (median, ${whole(p.rssPeers)} peers connected)`, mib(p.rss)],
      ['**RSS per connected browser**', p.rssPerPeer != null ? `**${kB(p.rssPerPeer)}**` : '— (too few connected)'],
      ['CPU per browser joining (connect, reserve, register)', ms(p.joinCpuPerPeer)],
      ['CPU per connected browser per minute (the crowd connected, the sample polling)', ms(p.steadyCpuPerPeerMinute)],
      ['CPU per complete walk of the namespace', ms(p.walkCpu)],
      ['So: browsers per GiB of RSS, and per core kept busy only by connected browsers',
        p.rssPerPeer != null && p.steadyCpuPerPeerMinute != null ? `${whole(2 ** 30 / p.rssPerPeer)}, ${whole(60_000 / p.steadyCpuPerPeerMinute)}` : '—']
    ]),
    '',
    `The point's ping round trip from the measuring process, on a connection of its own: alone ${optionalSpread(r.pointPing.alone)}; ` +
      `while the crowd joined ${optionalSpread(r.pointPing.join)}; with the crowd connected ${optionalSpread(r.pointPing.steady)}; during the walks ${optionalSpread(r.pointPing.walks)}` +
      `${r.pointPing.lost > 0 ? `; ${r.pointPing.lost} pings went unanswered for 10 s` : ''}. ` +
      'RSS includes what the garbage collector has not given back yet. ' +
      `The crowd itself took ${mib(r.crowdRssPerPeer)} of RSS per peer (its ${r.processes} Node processes together), and its event loops stalled at most ${ms(r.crowdMaxLag)} ` +
      '(over about 5 s, libp2p\'s connection monitor starts closing connections, so a long stall is the harness\'s limit, not the point\'s). ' +
      `Connections between peers that nobody dialled: ${whole(r.unaskedConnections)}.` +
      (r.problems.length > 0 ? ` The peers' last failures, most common first: ${r.problems.map(x => `${x.problem} (${x.peers})`).join('; ')}.` : ''),
    '',
    `Over time (the machine's load average was ${r.loadAverage.start} as the crowd began and ${r.loadAverage.end} as it ended, on ${r.loadAverage.cores} cores):`,
    '',
    table(['Second', 'Connected', 'Registered', 'The point counts: connections, reservations', 'Point RSS', 'Point CPU so far', 'Point\'s slowest ping', 'Crowd\'s longest stall'],
      r.timeline.map(m => [String(m.second), whole(m.connected), whole(m.registered), m.point == null ? '—' : `${whole(m.point.connections)}, ${whole(m.point.reservations)}`,
        mib(m.rss), `${m.cpu.toFixed(1)} s`, ms(m.ping), ms(m.lag)]))
  ].join('\n')
}
