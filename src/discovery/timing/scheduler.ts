import { clampDelay } from './clock.ts'
import type { Clock, TimerId } from '../api.ts'
import type { Logger } from '@libp2p/interface'

/**
 * One run of a task. Resolves with when to run next, in milliseconds since
 * the epoch (an absolute deadline, so the time the run itself took does not
 * shift it), or undefined to park the task until someone schedules it again.
 */
export type TaskRun = (signal: AbortSignal) => Promise<number | undefined>

export interface TaskOptions {
  /** Keep to the deadline while the page is hidden; when false the task waits until it is visible. */
  whileHidden: boolean
  /** Milliseconds since the epoch of the first run. @default now */
  at?: number
}

/** A task the scheduler runs; whoever added it holds it */
export interface Task {
  /** Run at `at` (Infinity parks it). While it runs, the earliest deadline asked for wins over the one the run picks */
  schedule(at: number): void
  /** Run as soon as possible (after the current run, if one is under way) */
  runNow(): void
  /** Never run again */
  remove(): void
  /** Milliseconds since the epoch of the next run; Infinity while parked */
  readonly deadline: number
  /** Whether a run is under way */
  readonly running: boolean
}

export interface DeadlineSchedulerInit {
  clock: Clock
  log: Logger
  /** Handed to every run; once aborted, nothing more runs */
  signal: AbortSignal
  /** Whether the page is visible at the start */
  visible: boolean
  /**
   * Milliseconds: the longest a timer is armed for. Timers in browsers do not
   * count time the machine slept, so a long one can fire long after its
   * deadline; waking now and then to compare deadlines with the clock bounds
   * that lateness.
   */
  wakeInterval: number
}

class ScheduledTask implements Task {
  readonly #scheduler: DeadlineScheduler
  readonly name: string
  readonly run: TaskRun
  readonly whileHidden: boolean
  /** Absolute; Infinity while parked or running */
  due: number
  running = false
  /** The earliest deadline asked for while the task was running */
  requested = Infinity
  removed = false

  constructor (scheduler: DeadlineScheduler, name: string, run: TaskRun, options: TaskOptions, now: number) {
    this.#scheduler = scheduler
    this.name = name
    this.run = run
    this.whileHidden = options.whileHidden
    this.due = options.at ?? now
  }

  get deadline (): number {
    return this.running ? this.requested : this.due
  }

  schedule (at: number): void {
    if (this.removed) return
    if (this.running) {
      this.requested = Math.min(this.requested, at)
      return
    }
    this.due = at
    this.#scheduler.runDue()
  }

  runNow (): void {
    this.schedule(this.#scheduler.now())
  }

  remove (): void {
    this.#scheduler.remove(this)
  }
}

/**
 * Runs tasks at absolute deadlines. One timer is armed for the earliest
 * deadline; when it fires, and whenever the page becomes visible or resumes,
 * every task that is overdue runs at once. A task's next deadline is taken
 * when its run finishes, so a slow run never overlaps the next one.
 */
export class DeadlineScheduler {
  readonly #clock: Clock
  readonly #log: Logger
  readonly #signal: AbortSignal
  readonly #wakeInterval: number
  readonly #tasks = new Set<ScheduledTask>()
  #visible: boolean
  #timer?: TimerId
  #started = false

  constructor (init: DeadlineSchedulerInit) {
    this.#clock = init.clock
    this.#log = init.log
    this.#signal = init.signal
    this.#visible = init.visible
    this.#wakeInterval = init.wakeInterval
  }

  now (): number {
    return this.#clock.now()
  }

  /** Begin running tasks; anything already due runs now */
  start (): void {
    if (this.#signal.aborted) return
    this.#started = true
    this.runDue()
  }

  /** Forget every task and disarm the timer; runs in flight finish without rescheduling */
  stop (): void {
    this.#started = false
    for (const task of this.#tasks) task.removed = true
    this.#tasks.clear()
    this.#disarm()
  }

  /** A new task, first due at `options.at`; `name` is for logs */
  add (name: string, run: TaskRun, options: TaskOptions): Task {
    const task = new ScheduledTask(this, name, run, options, this.now())
    this.#tasks.add(task)
    this.runDue()
    return task
  }

  remove (task: ScheduledTask): void {
    task.removed = true
    if (this.#tasks.delete(task)) this.#arm()
  }

  /** Tasks that wait for a visible page run as soon as it is */
  setVisible (visible: boolean): void {
    if (this.#visible === visible) return
    this.#visible = visible
    this.runDue()
  }

  /** The page may have missed timers: run whatever is overdue */
  wake (): void {
    this.runDue()
  }

  runDue (): void {
    if (!this.#started || this.#signal.aborted) return
    const now = this.now()
    for (const task of this.#tasks) {
      if (this.#eligible(task) && task.due <= now) this.#launch(task)
    }
    this.#arm()
  }

  #eligible (task: ScheduledTask): boolean {
    return !task.running && (task.whileHidden || this.#visible)
  }

  #launch (task: ScheduledTask): void {
    task.running = true
    task.due = Infinity
    task.requested = Infinity

    let next = Infinity
    // a run that throws before its first await must not escape into the caller of runDue
    new Promise<number | undefined>(resolve => { resolve(task.run(this.#signal)) })
      .then(deadline => {
        if (deadline != null) next = deadline
      }, err => {
        // runs handle their own failures; reaching here is a bug, so park rather than spin
        this.#log.error('task %s failed and is parked - %e', task.name, err)
      })
      .finally(() => {
        task.running = false
        if (task.removed) return
        task.due = Math.min(next, task.requested)
        task.requested = Infinity
        this.runDue()
      })
  }

  #arm (): void {
    this.#disarm()
    if (!this.#started || this.#signal.aborted) return
    let earliest = Infinity
    for (const task of this.#tasks) {
      if (this.#eligible(task) && task.due < earliest) earliest = task.due
    }
    if (earliest === Infinity) return
    const delay = clampDelay(Math.min(earliest - this.now(), this.#wakeInterval))
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined
      this.runDue()
    }, delay)
  }

  #disarm (): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer)
      this.#timer = undefined
    }
  }
}
