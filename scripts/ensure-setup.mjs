#!/usr/bin/env node
// Runs before `npm test` and `npm run demo`: installs the npm dependencies when
// they are missing or older than the lockfile and, for the tests, finds a
// Chromium and a redis-server, or stops with one line that says how to get
// them, and builds py-libp2p for the interop suite wherever its kit is.
// Plain JavaScript, no dependencies.
import { execSync, spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { chromiumPath } from './chromium.mjs'
import { isPyKit, pyHome, pyKitFolder } from './py-kit.mjs'

const installed = 'node_modules/.package-lock.json'
if (!existsSync(installed) || statSync('package-lock.json').mtimeMs > statSync(installed).mtimeMs) {
  console.info('Installing npm dependencies (npm ci)...')
  execSync('npm ci', { stdio: 'inherit' })
}

if (process.argv.includes('--test')) {
  const path = chromiumPath()
  let found = path != null && existsSync(path)
  if (!found && path == null) {
    const { chromium } = await import('playwright')
    found = existsSync(chromium.executablePath())
  }
  if (!found) {
    console.error(`No Chromium found${path != null ? ` at ${path}` : ''}: run \`sudo apt-get install -y chromium\` (or \`npx playwright install chromium\`, or set CHROMIUM_PATH to a Chromium binary).`)
    process.exit(1)
  }

  const redis = process.env.REDIS_SERVER ?? 'redis-server'
  if (spawnSync(redis, ['--version']).error != null) {
    console.error(`No redis-server found${process.env.REDIS_SERVER != null ? ` at ${redis}` : ''}: run \`sudo apt-get install -y redis-server\` (or set REDIS_SERVER to a redis-server binary).`)
    process.exit(1)
  }

  // a kit that is there gets built, so that the interop suite runs; it skips itself only where there is none
  const kit = pyKitFolder()
  if (isPyKit(kit)) {
    if (!existsSync(join(pyHome(), '.ready'))) console.info('Building py-libp2p for the interop suite (once: Debian packages, then about a minute)...')
    if (spawnSync(join(kit, 'setup.sh'), { stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0) {
      console.error(`Building py-libp2p from ${kit} failed (see above): fix it, or set PY_LIBP2P_KIT to another kit.`)
      process.exit(1)
    }
  }
}
