/**
 * Ctrl+C and `kill`: the first SIGINT or SIGTERM aborts a signal, so each mode
 * can unregister and stop its node before the process exits; a second one
 * exits at once, for when that clean-up hangs.
 */
import { constants } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'

const SIGNALS = ['SIGINT', 'SIGTERM'] as const

export interface Shutdown {
  /** Aborted by the first SIGINT or SIGTERM */
  signal: AbortSignal
  /** Stop listening for the signals */
  dispose(): void
}

export function onShutdownSignals (notice: (signal: NodeJS.Signals) => void): Shutdown {
  const controller = new AbortController()
  const handler = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.exit(128 + constants.signals[signal])
    }
    notice(signal)
    controller.abort()
  }
  for (const name of SIGNALS) process.on(name, handler)
  return {
    signal: controller.signal,
    dispose: () => { for (const name of SIGNALS) process.off(name, handler) }
  }
}

/** Wait `ms`, or less when `signal` aborts; never rejects */
export async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => {})
}

/** Resolves when `signal` aborts */
export async function untilAborted (signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise(resolve => signal.addEventListener('abort', resolve, { once: true }))
}
