/**
 * The command line as a child process, the way a user runs it from a clone:
 * `node --import tsx src/cli/main.ts ...`, with node itself as the child so a
 * signal reaches the program and not a wrapper. Every process started here is
 * killed by `killAll()`, which tests call in `afterEach`.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export class CliProcess {
  /** stdout so far, line by line */
  readonly lines: string[] = []
  /** stderr so far */
  stderr = ''
  readonly exited: Promise<Exit>
  private readonly child: ChildProcess
  private readonly waiters = new Set<() => void>()
  private exit?: Exit

  constructor (entry: string, args: string[], extraEnv: Record<string, string> = {}, detached = false) {
    // a DEBUG from the developer's shell would add log lines to stderr that the tests count
    const { DEBUG: _debug, ...env } = process.env
    this.child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], detached })
    createInterface({ input: this.child.stdout! }).on('line', line => { this.lines.push(line); this.wake() })
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk })
    this.exited = new Promise(resolve => {
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal }
        this.wake()
        resolve(this.exit)
      })
    })
  }

  /** The program's own process id: node runs it, with no wrapper in between */
  get pid (): number | undefined {
    return this.child.pid
  }

  /** The first stdout line that `matches`, once printed; rejects if the process ends without printing it */
  async line (matches: (line: string) => boolean): Promise<string> {
    while (true) {
      const found = this.lines.find(matches)
      if (found != null) return found
      if (this.exit != null) {
        throw new Error(`exited (${JSON.stringify(this.exit)}) before printing the line; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`)
      }
      await new Promise<void>(resolve => this.waiters.add(resolve))
    }
  }

  /** Send `signal` and wait for the process to end */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.exit == null) this.child.kill(signal)
    return this.exited
  }

  private wake (): void {
    for (const resolve of this.waiters) resolve()
    this.waiters.clear()
  }
}

const running = new Set<CliProcess>()

/**
 * `libp2p-rendezvous ...args`, or another entry of `src/cli` (or another
 * program), with `env` added to ours; `detached`, in a session of its own,
 * which the scheduler shares the cores with like any other session
 */
export function startCli (args: string[], entry = 'src/cli/main.ts', env?: Record<string, string>, detached?: boolean): CliProcess {
  const cli = new CliProcess(entry, args, env, detached)
  running.add(cli)
  void cli.exited.then(() => running.delete(cli))
  return cli
}

/** For `afterEach`: whatever a test left running is killed outright, and awaited */
export async function killAll (): Promise<void> {
  await Promise.all([...running].map(async cli => cli.stop('SIGKILL')))
}

/** Start a point with `--json` and read its first line */
export async function startPoint (args: string[] = [], entry?: string): Promise<{ cli: CliProcess, peerId: string, multiaddrs: string[] }> {
  const cli = startCli(['--mode', 'server', '--json', '--stats-interval', '0', ...args], entry)
  const { peerId, multiaddrs } = JSON.parse(await cli.line(() => true))
  return { cli, peerId, multiaddrs }
}

/** Start a client of `address` and wait until its first discover is printed; resolves with its peer id */
export async function startClient (address: string, args: string[] = []): Promise<{ cli: CliProcess, peerId: string }> {
  const cli = startCli(['--mode', 'client', '--address', address, '--poll-interval', '0.5', ...args])
  const started = await cli.line(line => line.startsWith('Client started with peer ID: '))
  await cli.line(line => line.startsWith('Total peers found: '))
  return { cli, peerId: started.slice('Client started with peer ID: '.length) }
}
