/**
 * Everything the command line writes goes through here, so that `--json`
 * keeps stdout machine-readable (one JSON object per line) and every error a
 * user can cause ends up as a single line on stderr, never a stack trace.
 */

/** An error whose message already says all a user needs, printed without its name */
export class CliError extends Error {
  static name = 'CliError'
  constructor (message: string) {
    super(message)
    this.name = 'CliError'
  }
}

/** An error as one line: its name and message, with nested causes of an aggregate */
export function describeError (err: unknown): string {
  if (!(err instanceof Error) && (typeof err !== 'object' || err == null)) return oneLine(String(err))
  const { name, message, errors } = err as { name?: unknown, message?: unknown, errors?: unknown }
  // a failed WebSocket dial rejects with an event-like object that has no name
  const label = typeof name === 'string' && name !== '' ? name : (err.constructor?.name ?? 'Error')
  let text = typeof message === 'string' ? message : ''
  if (Array.isArray(errors) && errors.length > 0) {
    text = [text, ...errors.map(describeError)].filter(part => part !== '').join('; ')
  }
  return oneLine(text === '' ? label : `${label}: ${text}`)
}

const STACK_FRAME = /^\s+at .*(:\d+:\d+|<anonymous>|native)\)?$/

/** The lines of `text` but stack frames: some libp2p errors carry their cause's stack in the message (EADDRINUSE on listen does) */
export function withoutStack (text: string): string[] {
  return text.split('\n').filter(line => !STACK_FRAME.test(line))
}

/** `text` on one line, without stack frames */
export function oneLine (text: string): string {
  return withoutStack(text).join(' ').replace(/\s+/g, ' ').trim()
}

/**
 * One JSON object on one line, spaced like the documented first line
 * (`{"peerId": "…", "multiaddrs": ["…"]}`). JSON strings cannot hold a raw
 * newline, so every newline here sits between tokens.
 */
export function jsonLine (value: unknown): string {
  return JSON.stringify(value, null, 1)
    .replace(/([[{])\n\s*/g, '$1')
    .replace(/\n\s*([\]}])/g, '$1')
    .replace(/\n\s*/g, ' ')
}

/** Local wall-clock time, HH:MM:SS */
function clock (date: Date): string {
  return date.toTimeString().slice(0, 8)
}

export class Output {
  private readonly json: boolean
  private readonly program: string

  constructor (program: string, json: boolean) {
    this.program = program
    this.json = json
  }

  /** Who we are: the first line in JSON mode (`{"peerId", "multiaddrs"}`), `lines` otherwise */
  identity (peerId: string, multiaddrs: string[], lines: string[]): void {
    this.write(this.json ? [jsonLine({ peerId, multiaddrs })] : lines)
  }

  /** Something happened: `{"event": name, "time", ...fields}` in JSON mode, timestamped `lines` otherwise */
  event (name: string, fields: Record<string, unknown>, lines: string[]): void {
    const now = new Date()
    if (this.json) {
      this.write([jsonLine({ event: name, time: now.toISOString(), ...fields })])
      return
    }
    const stamp = `[${clock(now)}] `
    this.write(lines.map((line, i) => (i === 0 ? stamp : ' '.repeat(stamp.length)) + line))
  }

  /** Guidance for people; JSON mode leaves it out */
  say (...lines: string[]): void {
    if (!this.json) this.write(lines)
  }

  /** Something went wrong but we carry on: one line on stderr, `{"event": "warning", "time", "message"}` in JSON mode */
  warn (message: string): void {
    console.error(this.json ? jsonLine({ event: 'warning', time: new Date().toISOString(), message }) : `${this.program}: warning: ${message}`)
  }

  /** Why we stop: one line on stderr, `{"event": "error", "time", "message"}` in JSON mode */
  error (message: string): void {
    console.error(this.json ? jsonLine({ event: 'error', time: new Date().toISOString(), message }) : `${this.program}: ${message}`)
  }

  private write (lines: string[]): void {
    for (const line of lines) console.log(line)
  }
}
