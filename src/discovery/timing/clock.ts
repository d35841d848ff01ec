/** The system clock, and what timers can take */
import type { Clock } from '../api.ts'


/** Date.now and the global timers */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (id) => { globalThis.clearTimeout(id as ReturnType<typeof globalThis.setTimeout>) }
}

/** Timers treat longer delays as 0 and fire at once, so no timer is armed for longer than this */
export const MAX_TIMER_DELAY = 2 ** 31 - 1

/** A delay a timer can take: not negative, not past the 32-bit limit */
export function clampDelay (ms: number): number {
  if (Number.isNaN(ms)) return 0
  return Math.min(Math.max(ms, 0), MAX_TIMER_DELAY)
}
