/** The machine a run happened on, for the record next to its numbers */
import { spawnSync } from 'node:child_process'
import { cpus, loadavg, release, totalmem, type } from 'node:os'
import { chromiumPath } from '../../scripts/chromium.mjs'

export interface Machine {
  cpu: string
  cores: number
  /** GiB */
  memory: number
  os: string
  node: string
  chromium: string
  /** 1-minute load average when the run began: how busy the machine already was */
  loadAverage: number
}

/** What `chromium --version` says, or what Playwright would use when there is no system Chromium */
function chromiumVersion (): string {
  const path = chromiumPath()
  if (path == null) return 'Playwright\'s own Chromium'
  const result = spawnSync(path, ['--version'], { encoding: 'utf8' })
  return result.stdout?.trim() || `unknown (${path})`
}

export function describeMachine (): Machine {
  const all = cpus()
  return {
    cpu: all[0]?.model.trim() ?? 'unknown',
    cores: all.length,
    memory: Math.round(totalmem() / 2 ** 30 * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    chromium: chromiumVersion(),
    loadAverage: Math.round(loadavg()[0] * 100) / 100
  }
}
