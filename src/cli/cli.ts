/**
 * What both programs do: read the command line, run the chosen mode until
 * SIGINT or SIGTERM, and turn every failure into one line on stderr and an
 * exit status (0 done, also after Ctrl+C; 1 failed; 2 bad command line).
 */
import { enable } from '@libp2p/logger'
import { parseCommand, usage, UsageError } from './args.ts'
import { runClient } from './client-mode.ts'
import { CliError, describeError, jsonLine, Output } from './output.ts'
import { runServer } from './server-mode.ts'
import { onShutdownSignals } from './shutdown.ts'
import { packageVersion } from './version.ts'
import type { Command, Mode } from './args.ts'

export interface Program {
  /** As the user types it, for messages and `--help` */
  name: string
  /** For a program that runs only this mode */
  mode?: Mode
}

/** Milliseconds a finished process may take to let go of closing sockets before it exits anyway */
const EXIT_GRACE = 2000

export async function main (program: Program): Promise<void> {
  // whoever reads our stdout may stop after the first line (scripts parse only that); a point keeps serving without them
  process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'EPIPE') throw err })
  process.exitCode = await run(program, process.argv.slice(2))
  // a stopped libp2p node can leave sockets closing for a while; they must not hold the terminal
  setTimeout(() => process.exit(), EXIT_GRACE).unref()
}

async function run (program: Program, argv: string[]): Promise<number> {
  let command: Command
  try {
    command = parseCommand(argv, program.mode)
  } catch (err) {
    // what the command line could be read of says whether the error is wanted in JSON
    new Output(program.name, argv.includes('--json')).error(`${err instanceof UsageError ? err.message : describeError(err)} (see --help)`)
    return 2
  }
  if (command.mode === 'help' || command.mode === 'version') {
    const text = command.mode === 'help' ? usage(program.name, program.mode) : packageVersion()
    console.log(command.json ? jsonLine({ [command.mode]: text }) : text)
    return 0
  }
  if (command.verbose) {
    // keep whatever DEBUG already asks for
    enable([process.env.DEBUG, 'libp2p:rendezvous*'].filter(Boolean).join(','))
  }

  const output = new Output(program.name, command.json)
  const shutdown = onShutdownSignals(() => { output.say('Shutting down... (Ctrl+C again to force)') })
  try {
    await (command.mode === 'server'
      ? runServer(command, output, shutdown.signal)
      : runClient(command, output, shutdown.signal))
    return 0
  } catch (err: any) {
    // interrupted while dialling or registering: that is what the user asked for
    if (shutdown.signal.aborted && err?.name === 'AbortError') return 0
    output.error(err instanceof CliError || err instanceof UsageError ? err.message : describeError(err))
    // a setting found wrong only once used (an unusable key file, say) is still a bad command line
    return err instanceof UsageError ? 2 : 1
  } finally {
    shutdown.dispose()
  }
}
