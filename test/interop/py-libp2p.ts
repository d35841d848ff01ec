/**
 * The real py-libp2p (0.7) for the interop suite, from its offline kit (see
 * scripts/py-kit.mjs for where it is found). `npm test` builds the kit before
 * the tests wherever it finds one; the suite never builds it (that takes apt
 * and minutes).
 *
 * Every process started here runs under a bound of its own and is killed,
 * with its process group, by `stopPy()`.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, it } from 'vitest'
import { isPyKit, pyHome, pyKitFolder } from '../../scripts/py-kit.mjs'
import type { ChildProcess } from 'node:child_process'

export type PyKit =
  | { ready: true, kit: string, python: string }
  | { ready: false, reason: string }

function findKit (): PyKit {
  const kit = pyKitFolder()
  if (!isPyKit(kit)) {
    return { ready: false, reason: `no py-libp2p kit at ${kit}: set PY_LIBP2P_KIT to the folder that holds its setup.sh, run-client.sh and run-server.sh` }
  }
  if (!existsSync(join(pyHome(), '.ready'))) {
    return { ready: false, reason: `py-libp2p is not built: run npm test (or ${join(kit, 'setup.sh')}) once` }
  }
  // built: setup.sh only checks its stamp and prints the venv's python
  const python = execFileSync(join(kit, 'setup.sh'), { encoding: 'utf8' }).trim().split('\n').at(-1) ?? ''
  return { ready: true, kit, python }
}

export const pyKit: PyKit = findKit()
// a skipped suite shows only as a count; the reason belongs in every run's output
if (!pyKit.ready) console.warn(`[interop] py-libp2p suite skipped: ${pyKit.reason}`)

/** `describe(name, body)` when the kit is ready; else a suite of that name with one skipped test saying why */
export function describeWithPy (name: string, body: () => void): void {
  const kit = pyKit
  if (kit.ready) {
    describe(name, body)
    return
  }
  // Skipped, not failed: the kit is not part of this repository, so a clone without one has no
  // py-libp2p to run. Wherever a kit is, `npm test` builds it first, and the suite runs (as in CI).
  describe(name, () => { it.skip(`skipped: ${kit.reason}`, () => {}) })
}

/** A py-libp2p process: its stdout and stderr line by line, and how it ended */
export class PyProcess {
  readonly stdout: string[] = []
  readonly stderr: string[] = []
  readonly exited: Promise<number | null>
  private readonly child: ChildProcess
  private readonly waiters = new Set<() => void>()
  private code?: number | null

  constructor (command: string, args: string[], bound: number) {
    // its own process group, so that stopping it reaches the python under the wrapper and `timeout`
    this.child = spawn('timeout', ['--kill-after=5', String(Math.ceil(bound / 1000)), command, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    createInterface({ input: this.child.stdout! }).on('line', line => { this.stdout.push(line); this.wake() })
    createInterface({ input: this.child.stderr! }).on('line', line => { this.stderr.push(line); this.wake() })
    this.exited = new Promise(resolve => {
      this.child.once('close', code => {
        this.code = code
        this.wake()
        resolve(code)
      })
    })
  }

  /** The first line of `stream` that `matches`, once printed; rejects if the process ends first */
  async line (matches: (line: string) => boolean, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
    while (true) {
      const found = this[stream].find(matches)
      if (found != null) return found
      if (this.code !== undefined) throw new Error(`py-libp2p exited (${this.code}) without printing the line\n${this.transcript()}`)
      await new Promise<void>(resolve => this.waiters.add(resolve))
    }
  }

  transcript (): string {
    return `stdout:\n${this.stdout.join('\n')}\nstderr:\n${this.stderr.join('\n')}`
  }

  async stop (): Promise<void> {
    if (this.code === undefined && this.child.pid != null) {
      try {
        process.kill(-this.child.pid, 'SIGTERM')
      } catch {
        // already gone
      }
    }
    await this.exited
  }

  private wake (): void {
    for (const resolve of this.waiters) resolve()
    this.waiters.clear()
  }
}

const running = new Set<PyProcess>()

/** Milliseconds any one py-libp2p process may run at most: the suite's safety net, never a measurement */
const BOUND = 120_000

function start (command: string, args: string[]): PyProcess {
  const py = new PyProcess(command, args, BOUND)
  running.add(py)
  void py.exited.then(() => running.delete(py))
  return py
}

function ready (): Extract<PyKit, { ready: true }> {
  if (!pyKit.ready) throw new Error(pyKit.reason)
  return pyKit
}

/**
 * The kit's client (`run-client.sh`): py's `RendezvousDiscovery` registers,
 * discovers and unregisters as the flags say, printing `SELF <id>`,
 * `REGISTERED ns=… ttl=…`, `DISCOVERED <id> <addr>…`, `UNREGISTERED ns=…`
 * and `RESULT ok` or `RESULT error <type>: <message>`. Resolves once it has
 * exited.
 */
export async function pyClient (address: string, args: string[]): Promise<PyProcess> {
  const py = start(join(ready().kit, 'run-client.sh'), ['--address', address, ...args])
  await py.exited
  return py
}

/** The kit's point (`run-server.sh`); resolves with it and its address once it listens */
export async function pyPoint (): Promise<{ py: PyProcess, address: string }> {
  const py = start(join(ready().kit, 'run-server.sh'), [])
  const line = await py.line(l => l.startsWith('RENDEZVOUS_SERVER '))
  return { py, address: line.slice('RENDEZVOUS_SERVER '.length) }
}

/**
 * The upstream example, `rendezvous.py --mode client`, as its docs run it:
 * through the kit's `run-client.sh --example`, or with `--refresh` (which
 * that wrapper does not pass on) from the kit's build directly. It never
 * exits by itself; its log lines go to stderr.
 */
export function pyExampleClient (address: string, namespace: string, refresh: boolean): PyProcess {
  const { kit, python } = ready()
  if (!refresh) return start(join(kit, 'run-client.sh'), ['--example', address, namespace])
  const example = join(dirname(dirname(dirname(python))), 'rendezvous.py')
  return start(python, [example, '--mode', 'client', '--address', address, '--namespace', namespace, '--refresh'])
}

/** For `afterAll`/`afterEach`: every py-libp2p process still running is stopped */
export async function stopPy (): Promise<void> {
  await Promise.all([...running].map(async py => py.stop()))
}

/** `DISCOVERED <id> <addr>…` lines of the kit's client, as id → addresses */
export function discovered (py: PyProcess): Map<string, string[]> {
  return new Map(py.stdout.filter(l => l.startsWith('DISCOVERED ')).map(l => {
    const [, id, ...addresses] = l.split(' ')
    return [id, addresses]
  }))
}
