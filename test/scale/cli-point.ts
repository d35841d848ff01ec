/**
 * The rendezvous point as users run it: the command line in a process of its
 * own, with default flags, measured from outside through /proc.
 */
import { startCli } from '../cli/cli-process.ts'
import { processUsage } from './process-usage.ts'
import { isPlainTcp } from '../fixtures/addresses.ts'
import type { CliProcess } from '../cli/cli-process.ts'
import type { ProcessUsage } from './process-usage.ts'

/** The flags it runs with: the defaults, and one JSON object per line to read its address from */
export const POINT_ARGS = ['--mode', 'server', '--json']

export interface CliPoint {
  cli: CliProcess
  peerId: string
  /** Where browsers dial it: its WebSocket address */
  webSocket: string
  /** Where Node peers dial it */
  tcp: string
  usage(): ProcessUsage
  /** What its last statistics line (every 10 s by default) counted, if it has printed one */
  stats(): PointCounts | undefined
  stop(): Promise<void>
}

export interface PointCounts { connections: number, reservations: number }

export async function startCliPoint (): Promise<CliPoint> {
  // in a session of its own, the scheduler gives it a share of the cores as it would a point on a machine of its own
  const cli = startCli(POINT_ARGS, undefined, undefined, true)
  try {
    const { peerId, multiaddrs } = JSON.parse(await cli.line(() => true)) as { peerId: string, multiaddrs: string[] }
    const webSocket = multiaddrs.find(ma => ma.includes('/ws/'))
    const tcp = multiaddrs.find(isPlainTcp)
    const pid = cli.pid
    if (webSocket == null || tcp == null || pid == null) throw new Error(`the point printed no WebSocket or TCP address: ${multiaddrs.join(' ')}`)
    // a run that ends without stopping it (a benchmark over its time) must not leave it behind
    const orphaned = (): void => {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // it has ended already
      }
    }
    process.once('exit', orphaned)
    return {
      cli,
      peerId,
      webSocket,
      tcp,
      usage: () => processUsage(pid),
      stats: () => {
        const line = cli.lines.findLast(l => /"event":\s*"stats"/.test(l))
        if (line == null) return undefined
        const { connections, reservations } = JSON.parse(line) as PointCounts
        return { connections, reservations }
      },
      stop: async () => {
        process.off('exit', orphaned)
        await cli.stop()
      }
    }
  } catch (err) {
    await cli.stop('SIGKILL')
    throw err
  }
}
