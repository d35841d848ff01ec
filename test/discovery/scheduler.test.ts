import { defaultLogger } from '@libp2p/logger'
import { describe, expect, it } from 'vitest'
import { MAX_TIMER_DELAY, clampDelay } from '../../src/discovery/timing/clock.ts'
import { DeadlineScheduler } from '../../src/discovery/timing/scheduler.ts'
import { ManualClock } from './harness.ts'

const minute = 60_000

function scheduler (clock: ManualClock, options: { visible?: boolean, signal?: AbortSignal } = {}): DeadlineScheduler {
  return new DeadlineScheduler({
    clock,
    log: defaultLogger().forComponent('test'),
    signal: options.signal ?? new AbortController().signal,
    visible: options.visible ?? true,
    wakeInterval: minute
  })
}

/** A task that records when it ran and runs again `every` ms after it was due */
function recorder (clock: ManualClock, every: number): { runs: number[], run(): Promise<number> } {
  const runs: number[] = []
  return {
    runs,
    async run () {
      runs.push(clock.now())
      return clock.now() + every
    }
  }
}

async function flush (): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

describe('deadline scheduler', () => {
  it('runs each task at its deadline and takes the next from the run', async () => {
    const clock = new ManualClock(0)
    const s = scheduler(clock)
    const task = recorder(clock, 5 * minute)
    s.add('t', task.run, { whileHidden: true, at: 2 * minute })
    s.start()
    for (let i = 0; i < 3; i++) {
      clock.advance(5 * minute)
      await flush()
    }
    expect(task.runs).toEqual([2 * minute, 7 * minute, 12 * minute])
  })

  it('arms one timer, never longer than the wake interval, so deadlines are checked against the clock', () => {
    const clock = new ManualClock(0)
    const s = scheduler(clock)
    s.add('a', async () => undefined, { whileHidden: true, at: 10 * minute })
    s.add('b', async () => undefined, { whileHidden: true, at: 20 * minute })
    s.start()
    expect(clock.pending).toBe(1)
  })

  it('while hidden, holds back tasks that wait for a visible page and runs the rest; on visible, overdue ones run at once', async () => {
    const clock = new ManualClock(0)
    const s = scheduler(clock, { visible: false })
    const poll = recorder(clock, minute)
    const refresh = recorder(clock, minute)
    s.add('poll', poll.run, { whileHidden: false, at: minute })
    s.add('refresh', refresh.run, { whileHidden: true, at: minute })
    s.start()
    for (let i = 0; i < 3; i++) {
      clock.advance(minute)
      await flush()
    }
    expect(poll.runs).toEqual([])
    expect(refresh.runs).toEqual([minute, 2 * minute, 3 * minute])

    s.setVisible(true)
    expect(poll.runs).toEqual([3 * minute])
  })

  it('on wake, runs what a frozen page missed', async () => {
    const clock = new ManualClock(0)
    const s = scheduler(clock)
    const task = recorder(clock, 10 * minute)
    s.add('t', task.run, { whileHidden: true, at: 5 * minute })
    s.start()
    clock.jump(30 * minute)
    expect(task.runs).toEqual([])
    s.wake()
    expect(task.runs).toEqual([30 * minute])
  })

  it('never overlaps runs of one task: runNow during a run runs it again right after', async () => {
    const clock = new ManualClock(0)
    const s = scheduler(clock)
    let release!: () => void
    let running = 0
    let most = 0
    let runs = 0
    const t = s.add('t', async () => {
      runs++
      running++
      most = Math.max(most, running)
      if (runs === 1) await new Promise<void>(resolve => { release = resolve })
      running--
      return undefined
    }, { whileHidden: true })
    s.start()
    t.runNow()
    t.runNow()
    expect(runs).toBe(1)
    release()
    await flush()
    expect(runs).toBe(2)
    expect(most).toBe(1)
  })

  it('parks a task whose run throws, and logs instead of spinning', async () => {
    const clock = new ManualClock(0)
    const s = scheduler(clock)
    let runs = 0
    const t = s.add('t', async () => { runs++; throw new Error('bug') }, { whileHidden: true })
    s.start()
    await flush()
    clock.advance(10 * minute)
    expect(runs).toBe(1)
    expect(t.deadline).toBe(Infinity)
  })

  it('after stop, or once its signal aborts, arms nothing and runs nothing', async () => {
    const clock = new ManualClock(0)
    const controller = new AbortController()
    const s = scheduler(clock, { signal: controller.signal })
    const task = recorder(clock, minute)
    s.add('t', task.run, { whileHidden: true, at: minute })
    s.start()
    controller.abort()
    s.stop()
    expect(clock.pending).toBe(0)
    clock.advance(10 * minute)
    s.wake()
    s.setVisible(false)
    s.setVisible(true)
    expect(task.runs).toEqual([])
  })

  it('clamps delays to what timers can take', () => {
    expect(clampDelay(2 ** 40)).toBe(MAX_TIMER_DELAY)
    expect(clampDelay(-5)).toBe(0)
    expect(clampDelay(Number.NaN)).toBe(0)
  })
})
