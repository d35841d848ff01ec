import { clampDelay } from './clock.ts'
import type { Clock, TimerId } from './clock.ts'
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

interface Task {
  run: TaskRun
  whileHidden: boolean
  /** Absolute; Infinity while parked or running */
  deadline: number
  running: boolean
  /** The earliest deadline asked for while the task was running */
  requested: number
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

/**
 * Runs named tasks at absolute deadlines. One timer is armed for the earliest
 * deadline; when it fires, and whenever the page becomes visible or resumes,
 * every task that is overdue runs at once. A task's next deadline is taken
 * when its run finishes, so a slow run never overlaps the next one.
 */
export class DeadlineScheduler {
  private readonly clock: Clock
  private readonly log: Logger
  private readonly signal: AbortSignal
  private readonly wakeInterval: number
  private readonly tasks = new Map<string, Task>()
  private visible: boolean
  private timer?: TimerId
  private started = false

  constructor (init: DeadlineSchedulerInit) {
    this.clock = init.clock
    this.log = init.log
    this.signal = init.signal
    this.visible = init.visible
    this.wakeInterval = init.wakeInterval
  }

  /** Begin running tasks; anything already due runs now */
  start (): void {
    if (this.signal.aborted) return
    this.started = true
    this.runDue()
  }

  /** Forget every task and disarm the timer; runs in flight finish without rescheduling */
  stop (): void {
    this.started = false
    this.tasks.clear()
    this.disarm()
  }

  /** Add a task, or replace the run of one with the same name (keeping its deadline) */
  add (name: string, run: TaskRun, options: TaskOptions): void {
    const existing = this.tasks.get(name)
    if (existing != null) {
      existing.run = run
      existing.whileHidden = options.whileHidden
      return
    }
    this.tasks.set(name, {
      run,
      whileHidden: options.whileHidden,
      deadline: options.at ?? this.clock.now(),
      running: false,
      requested: Infinity
    })
    this.runDue()
  }

  remove (name: string): void {
    if (this.tasks.delete(name)) this.arm()
  }

  has (name: string): boolean {
    return this.tasks.has(name)
  }

  names (): string[] {
    return [...this.tasks.keys()]
  }

  /** Whether a run of `name` is under way */
  isRunning (name: string): boolean {
    return this.tasks.get(name)?.running === true
  }

  /** Milliseconds since the epoch of the next run; Infinity when parked, undefined for no such task */
  deadline (name: string): number | undefined {
    const task = this.tasks.get(name)
    if (task == null) return undefined
    return task.running ? task.requested : task.deadline
  }

  /**
   * Run `name` at `at` (Infinity parks it). While it is running, the earliest
   * deadline asked for wins over the one the run itself picks.
   */
  schedule (name: string, at: number): void {
    const task = this.tasks.get(name)
    if (task == null) return
    if (task.running) {
      task.requested = Math.min(task.requested, at)
      return
    }
    task.deadline = at
    this.runDue()
  }

  /** Run `name` as soon as possible (after the current run, if one is under way) */
  runNow (name: string): void {
    this.schedule(name, this.clock.now())
  }

  /** Tasks that wait for a visible page run as soon as it is */
  setVisible (visible: boolean): void {
    if (this.visible === visible) return
    this.visible = visible
    this.runDue()
  }

  /** The page may have missed timers: run whatever is overdue */
  wake (): void {
    this.runDue()
  }

  private eligible (task: Task): boolean {
    return !task.running && (task.whileHidden || this.visible)
  }

  private runDue (): void {
    if (!this.started || this.signal.aborted) return
    const now = this.clock.now()
    for (const [name, task] of this.tasks) {
      if (this.eligible(task) && task.deadline <= now) {
        this.launch(name, task)
      }
    }
    this.arm()
  }

  private launch (name: string, task: Task): void {
    task.running = true
    task.deadline = Infinity
    task.requested = Infinity

    let next = Infinity
    // a run that throws before its first await must not escape into the caller of runDue
    new Promise<number | undefined>(resolve => { resolve(task.run(this.signal)) })
      .then(deadline => {
        if (deadline != null) next = deadline
      }, err => {
        // runs handle their own failures; reaching here is a bug, so park rather than spin
        this.log.error('task %s failed and is parked - %e', name, err)
      })
      .finally(() => {
        task.running = false
        if (this.tasks.get(name) !== task) return
        task.deadline = Math.min(next, task.requested)
        task.requested = Infinity
        this.runDue()
      })
  }

  private arm (): void {
    this.disarm()
    if (!this.started || this.signal.aborted) return
    let earliest = Infinity
    for (const task of this.tasks.values()) {
      if (this.eligible(task) && task.deadline < earliest) earliest = task.deadline
    }
    if (earliest === Infinity) return
    const delay = clampDelay(Math.min(earliest - this.clock.now(), this.wakeInterval))
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      this.runDue()
    }, delay)
  }

  private disarm (): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer)
      this.timer = undefined
    }
  }
}
