/**
 * A real redis-server per test file, on a free loopback port, in a temporary
 * directory, without persistence. Stopped (and awaited) by `stop()`; it can
 * be started again on the same port to play a Redis restart.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { ChildProcess } from 'node:child_process'

export interface RedisServer {
  port: number
  url: string
  /** Start it again on the same port (after `stop()`), empty: nothing is persisted */
  start(): Promise<void>
  /** Kill it and wait until it has exited */
  stop(): Promise<void>
  /** Stop it for good and remove its directory */
  destroy(): Promise<void>
  /** A plain client, to look at keys from outside any store */
  client(): Promise<Redis>
}

export interface RedisServerOptions {
  /** Run as a Redis Cluster node (slots are assigned by `startCluster`) */
  cluster?: boolean
  /** Clients must give this password (`requirepass`) */
  password?: string
}

/** redis-server cannot pick a free port itself (`--port 0` means "no TCP"), so ask the kernel for one */
export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address != null && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port'))
      })
    })
  })
}

function launch (port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
  if (options.password != null) args.push('--requirepass', options.password)
  if (options.cluster === true) args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`))
  const child = spawn(process.env.REDIS_SERVER ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let output = ''
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData)
        // keep draining, or a full pipe would block the server
        child.stdout?.resume()
        child.off('exit', onExit)
        resolve(child)
      }
    }
    const onExit = (code: number | null): void => {
      reject(new Error(`redis-server on port ${port} exited (${code}) before it was ready:\n${output}`))
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.once('exit', onExit)
    child.once('error', (err) => { reject(new Error(`cannot run redis-server (is it installed?): ${err.message}`)) })
  })
}

async function kill (child: ChildProcess): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) return
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  child.kill('SIGKILL')
  await exited
}

export async function startRedis (options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'rendezvous-redis-'))
  let port = 0
  let child: ChildProcess | undefined
  // another process may take the port between our probe and redis binding it; then try another
  for (let attempt = 0; child == null; attempt++) {
    port = await freePort()
    try {
      child = await launch(port, dir, options)
    } catch (err) {
      if (attempt >= 4) throw err
    }
  }
  const clients: Redis[] = []
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start () {
      if (child?.exitCode == null && child?.signalCode == null) throw new Error('redis-server is still running')
      child = await launch(port, dir, options)
    },
    async stop () {
      if (child != null) await kill(child)
    },
    async destroy () {
      clients.splice(0).forEach(client => { client.disconnect() })
      if (child != null) await kill(child)
      await rm(dir, { recursive: true, force: true })
    },
    async client () {
      const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, protocol: 2 })
      client.on('error', () => {})
      await client.connect()
      clients.push(client)
      return client
    }
  }
}

export interface RedisCluster {
  nodes: RedisServer[]
  /** host/port of every node, as a Cluster client wants them */
  startupNodes: Array<{ host: string, port: number }>
  destroy(): Promise<void>
}

/** A Redis Cluster of `size` masters on loopback, slots split evenly, no replicas */
export async function startCluster (size = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = []
  try {
    for (let i = 0; i < size; i++) nodes.push(await startRedis({ cluster: true }))
    const clients = await Promise.all(nodes.map(async node => node.client()))
    const slots = 16384
    await Promise.all(clients.map(async (client, i) => {
      const first = Math.floor(i * slots / size)
      const last = Math.floor((i + 1) * slots / size) - 1
      await client.call('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last))
    }))
    for (const node of nodes.slice(1)) await clients[0].call('CLUSTER', 'MEET', '127.0.0.1', String(node.port))
    // gossip takes a moment; the test's timeout bounds the wait
    for (const client of clients) {
      while (true) {
        const info = String(await client.call('CLUSTER', 'INFO'))
        if (info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${size}`)) break
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    }
  } catch (err) {
    await Promise.all(nodes.map(async node => node.destroy()))
    throw err
  }
  return {
    nodes,
    startupNodes: nodes.map(node => ({ host: '127.0.0.1', port: node.port })),
    async destroy () {
      await Promise.all(nodes.map(async node => node.destroy()))
    }
  }
}
