/**
 * The rendezvous point as users run it: the command line in a process of its
 * own, with default flags, measured from outside through /proc.
 */
import { startCli } from '../cli/cli-process.ts'
import { processUsage } from './process-usage.ts'
import type { CliProcess } from '../cli/cli-process.ts'
import type { ProcessUsage } from './process-usage.ts'

/** The flags it runs with: the defaults, and one JSON object per line to read its address from */
export const POINT_ARGS = ['--mode', 'server', '--json']

export interface CliPoint {
  cli: CliProcess
  peerId: string
  /** Where browsers dial it: its WebSocket address */
  webSocket: string
  usage(): ProcessUsage
  stop(): Promise<void>
}

export async function startCliPoint (): Promise<CliPoint> {
  const cli = startCli(POINT_ARGS)
  try {
    const { peerId, multiaddrs } = JSON.parse(await cli.line(() => true)) as { peerId: string, multiaddrs: string[] }
    const webSocket = multiaddrs.find(ma => ma.includes('/ws/'))
    const pid = cli.pid
    if (webSocket == null || pid == null) throw new Error(`the point printed no WebSocket address: ${multiaddrs.join(' ')}`)
    return {
      cli,
      peerId,
      webSocket,
      usage: () => processUsage(pid),
      stop: async () => { await cli.stop() }
    }
  } catch (err) {
    await cli.stop('SIGKILL')
    throw err
  }
}
