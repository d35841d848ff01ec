/**
 * Memory and CPU of another process, read from Linux's /proc: how the crowd
 * measures the point as users run it, with nothing added to the program.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let ticksPerSecond: number | undefined

/** Clock ticks per second, the unit of CPU times in /proc/<pid>/stat */
function clockTicks (): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  return ticksPerSecond
}

export interface ProcessUsage {
  /** Resident set size, bytes */
  rss: number
  /** Seconds of CPU, user and system, since the process began */
  cpu: number
}

export function processUsage (pid: number): ProcessUsage {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKiB = Number(/^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1])
  // the command name, in parentheses, may hold spaces: count fields after it
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name and state
  const ticks = Number(fields[11]) + Number(fields[12])
  return { rss: rssKiB * 1024, cpu: ticks / clockTicks() }
}
