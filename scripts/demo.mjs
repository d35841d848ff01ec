#!/usr/bin/env node
// `npm run demo`: starts a local rendezvous point (the command line's server
// mode: rendezvous and circuit relay) and the vite-served demo page, prints
// the URL to open, and stops both on Ctrl-C.
//
//   node scripts/demo.mjs [--preview] [--port 5173] [--point-port 0] [--ns demo]
//
// --preview serves a production build (made in a temporary directory, so
// that dist/ only ever holds `npm run build`'s output) instead of the dev
// server; the end-to-end tests use it.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createInterface } from 'node:readline'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

const { values: args } = parseArgs({
  options: {
    preview: { type: 'boolean', default: false },
    port: { type: 'string' },
    'point-port': { type: 'string', default: '0' },
    ns: { type: 'string', default: 'demo' }
  }
})

/**
 * Start the point (the command line's server mode, with its defaults) and
 * resolve with its WebSocket multiaddr, read from its first line of output
 */
function startPoint () {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--mode', 'server', '--json', '--ws-port', args['point-port']], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const address = new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => { reject(new Error(`the rendezvous point exited (${signal ?? `code ${code}`}) before it was listening`)) })
    // the interface keeps reading the point's later lines (statistics), so its output never backs up
    createInterface({ input: child.stdout }).once('line', line => {
      const ws = (() => {
        try {
          return JSON.parse(line).multiaddrs.find(ma => ma.includes('/ws/'))
        } catch {
          return undefined
        }
      })()
      if (ws != null) resolve(ws)
      else reject(new Error(`unexpected output from the rendezvous point: ${line}`))
    })
  })
  return { child, address }
}

const point = startPoint()
let server
let stopping = false
let buildDir

// never leave the point running (or a build lying around) behind us, however we exit
process.on('exit', () => {
  if (point.child.exitCode == null) point.child.kill('SIGTERM')
  if (buildDir != null) rmSync(buildDir, { recursive: true, force: true })
})

async function stop (code) {
  if (stopping) return
  stopping = true
  await server?.close().catch(() => {})
  if (point.child.exitCode == null && point.child.signalCode == null) {
    const exited = new Promise(resolve => point.child.once('exit', resolve))
    point.child.kill('SIGTERM')
    await exited
  }
  process.exit(code)
}
process.on('SIGINT', () => { void stop(0) })
process.on('SIGTERM', () => { void stop(0) })

try {
  const pointAddr = await point.address
  point.child.on('exit', (code, signal) => {
    if (stopping) return
    console.error(`The rendezvous point stopped (${signal ?? `exit code ${code}`}); stopping the demo.`)
    void stop(1)
  })

  // the page falls back to this point when its URL names none
  process.env.VITE_RENDEZVOUS_POINT = pointAddr
  const vite = await import('vite')
  const configFile = resolve(root, 'vite.config.ts')
  const port = args.port != null ? Number(args.port) : undefined
  if (args.preview) {
    buildDir = mkdtempSync(join(tmpdir(), 'libp2p-rendezvous-demo-'))
    const build = { outDir: buildDir, emptyOutDir: true }
    await vite.build({ configFile, logLevel: 'warn', build })
    server = await vite.preview({ configFile, build, preview: { port } })
  } else {
    server = await vite.createServer({ configFile, server: { port } })
    await server.listen()
  }

  const base = server.resolvedUrls?.local[0] ?? 'http://127.0.0.1:5173/'
  const url = `${base}?point=${encodeURIComponent(pointAddr)}&ns=${encodeURIComponent(args.ns)}`
  console.log('')
  console.log(`  Rendezvous point: ${pointAddr}`)
  console.log(`  Demo page:        ${url}`)
  console.log('')
  console.log('  Open the page in two browser windows: each lists the other within a second or two.')
  console.log('  Press Ctrl-C to stop.')
  console.log('')
} catch (err) {
  console.error(`Could not start the demo: ${err.message}`)
  await stop(1)
}
