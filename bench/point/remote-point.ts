/** Start and talk to a point in its own process (see point-process.ts) */
import { fork } from 'node:child_process'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface RemotePoint {
  address: Multiaddr
  /** Milliseconds of CPU (user + system) the point's process has used so far */
  cpuMs(): Promise<number>
  stop(): Promise<void>
}

export async function startRemotePoint (storeUrl = 'memory:'): Promise<RemotePoint> {
  const child = fork(join(import.meta.dirname, 'point-process.ts'), [storeUrl], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  const next = async <T>(key: string): Promise<T> => new Promise((resolve, reject) => {
    const onMessage = (message: any): void => {
      if (message?.[key] == null) return
      child.off('message', onMessage)
      resolve(message[key])
    }
    child.on('message', onMessage)
    void exited.then(() => { reject(new Error(`the point process exited (${child.exitCode ?? child.signalCode}) while we waited for ${key}`)) })
  })
  const address = await next<string>('address')
  return {
    address: multiaddr(address),
    async cpuMs () {
      const reply = next<{ user: number, system: number }>('cpu')
      child.send('cpu')
      const { user, system } = await reply
      return (user + system) / 1000
    },
    async stop () {
      if (child.exitCode != null || child.signalCode != null) return
      child.disconnect()
      await exited
    }
  }
}
