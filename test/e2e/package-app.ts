/**
 * What a new user does with the package, for the package test: `npm pack`
 * it, install the tarball into a fresh app (from the npm cache, as offline as
 * npm allows), build pages with vite, serve them, and run programs there.
 * Every process started here is stopped by `stopAll()`.
 */
import { execFile, spawn } from 'node:child_process'
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { extname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import type { ChildProcess } from 'node:child_process'
import type { Server } from 'node:http'

export const root = resolve(import.meta.dirname, '../..')

/** The environment of an npm run in the app: without the npm_* variables of the `npm test` that may be running us */
function appEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_')))
}

/** Run a command to its end; resolves with what it printed, both streams, rejects with it when it fails */
export async function run (command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { cwd, env: appEnv(), maxBuffer: 64 * 1024 * 1024 })
    return `${stdout}\n${stderr}`
  } catch (err: any) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${err?.message}\n${err?.stdout ?? ''}\n${err?.stderr ?? ''}`)
  }
}

/** `npm pack` the repository into `dir`; resolves with the tarball's path */
export async function pack (dir: string): Promise<string> {
  await run('npm', ['pack', '--pack-destination', dir, '--silent'], root)
  const tarball = readdirSync(dir).find(name => name.endsWith('.tgz'))
  if (tarball == null) throw new Error(`npm pack left no tarball in ${dir}`)
  return join(dir, tarball)
}

/** `npm install` in `cwd`, from the cache where it can; resolves with npm's output */
export async function npmInstall (cwd: string, packages: string[] = []): Promise<string> {
  return run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'warn', ...packages], cwd)
}

/** Build the page `dir/index.html` with the app's own vite into `dir/dist`, with relative paths to its assets */
export async function viteBuild (app: string, dir: string): Promise<void> {
  await run(process.execPath, [join(app, 'node_modules/vite/bin/vite.js'), 'build', dir, '--outDir', join(dir, 'dist'), '--emptyOutDir', '--base', './', '--logLevel', 'warn'], app)
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.wasm': 'application/wasm' }

/** A static file server for `dir` on loopback; resolves with its base URL */
export async function serve (dir: string): Promise<{ url: string, server: Server }> {
  const server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))
    const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'index.html') : path
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
    createReadStream(file).pipe(res)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, server }
}

/** A program running in the app, read line by line */
export interface AppProcess {
  lines: string[]
  stderr(): string
  /** The first line that `matches`, once printed; rejects when the process ends first */
  line(matches: (line: string) => boolean): Promise<string>
  /** SIGTERM to it and whatever it started; resolves once it has ended */
  stop(): Promise<void>
}

const running = new Set<AppProcess>()

/** SIGTERM to `child`'s process group; resolves once it has ended */
async function stopGroup (child: ChildProcess, closed: Promise<void>): Promise<void> {
  try { process.kill(-child.pid!, 'SIGTERM') } catch { /* gone already */ }
  await closed
}

/** Start `command args` in `cwd`, in a process group of its own, so that `stopAll` ends it and whatever it started (npx does) */
export function start (command: string, args: string[], cwd: string): AppProcess {
  const child = spawn(command, args, { cwd, env: appEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const lines: string[] = []
  let stderr = ''
  let ended = false
  const waiters = new Set<() => void>()
  const wake = (): void => { for (const waiter of waiters) waiter(); waiters.clear() }
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  createInterface({ input: child.stdout! }).on('line', line => { lines.push(line); wake() })
  const closed = new Promise<void>(resolve => child.once('close', () => { ended = true; running.delete(app); wake(); resolve() }))
  const app: AppProcess = {
    lines,
    stop: async () => stopGroup(child, closed),
    stderr: () => stderr,
    async line (matches) {
      while (true) {
        const found = lines.find(matches)
        if (found != null) return found
        if (ended) throw new Error(`${command} ${args.join(' ')} ended before printing the line; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`)
        await new Promise<void>(resolve => waiters.add(resolve))
      }
    }
  }
  running.add(app)
  return app
}

/** End every process `start` started, and wait for each */
export async function stopAll (): Promise<void> {
  await Promise.all([...running].map(async app => app.stop()))
}

/** A page of the app: `dir/index.html` with `main` as its module */
export function writePage (dir: string, main: string, write: (path: string, text: string) => void): void {
  mkdirSync(dir, { recursive: true })
  write(join(dir, 'index.html'), '<!doctype html>\n<meta charset="utf-8">\n<title>app</title>\n<script type="module" src="./main.ts"></script>\n')
  write(join(dir, 'main.ts'), main)
}
