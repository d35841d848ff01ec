/**
 * Command-line flags. One table drives both `parseArgs` and `--help`, so the
 * parser accepts nothing the help does not document; each flag names the
 * modes that read it, and a flag given to the other mode is an error rather
 * than silently ignored.
 */
import { isIP } from 'node:net'
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { DEFAULT_MAX_REGISTRATIONS, DEFAULT_MIN_TTL, DEFAULT_TTL, MAX_DISCOVER_LIMIT, MAX_NAMESPACE_LENGTH, MAX_REGISTRATIONS_PER_PEER, MAX_TTL } from '../constants.ts'
import { DEFAULT_LIMITS } from '../server/point/limits.ts'
import { resolvePolicy } from '../server/rendezvous-server.ts'
import { storeKind } from '../server/store/from-url.ts'
import { describeError } from './output.ts'
import type { RendezvousPointLimits, RendezvousServerInit } from '../server/index.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The program that runs both modes */
export const PROGRAM = 'libp2p-rendezvous'

export type Mode = 'server' | 'client'

export interface Flag {
  type: 'string' | 'boolean'
  short?: string
  /** What the value is, in `--help` */
  value?: string
  /** Used when the flag is absent, and shown in `--help` */
  default?: string
  /** The modes that read it; absent means both */
  modes?: Mode[]
  /** May be given more than once; its value is then every one given */
  multiple?: boolean
  /** Shown under this heading in `--help` rather than with its mode's other options */
  section?: string
  /** An environment variable that gives the value when the flag is absent (for secrets, which `ps` would show) */
  env?: string
  /** The `RendezvousServerInit` option it sets, named in errors the point's policy finds */
  option?: keyof RendezvousServerInit
  help: string
}

const SERVER: Mode[] = ['server']
const CLIENT: Mode[] = ['client']
const LIMITS = 'Limits of the point'

/** Every flag, in `--help` order */
export const FLAGS = {
  mode: { type: 'string', value: 'server|client', help: 'run a rendezvous point, or a client that registers and discovers' },
  host: { type: 'string', value: 'ip', default: '127.0.0.1', help: 'IP address to listen on; 0.0.0.0 or :: listens on every interface' },
  port: { type: 'string', short: 'p', value: 'n', default: '0', help: 'TCP port to listen on; 0 picks a free one' },
  'ws-port': { type: 'string', value: 'n', default: '0', help: 'WebSocket port to listen on, for browsers; 0 picks a free one' },
  json: { type: 'boolean', help: 'print one JSON object per line; the first is {"peerId": …, "multiaddrs": […]}' },
  verbose: { type: 'boolean', short: 'v', help: 'debug logging of libp2p:rendezvous* to stderr (DEBUG=… works too)' },
  help: { type: 'boolean', short: 'h', help: 'show this help and exit' },
  version: { type: 'boolean', help: 'print the version and exit' },

  store: { type: 'string', value: 'url', default: 'memory:', env: 'RENDEZVOUS_STORE', modes: SERVER, help: 'where registrations are kept: memory: (this process only) or a redis:// URL; with a password, better in $RENDEZVOUS_STORE, out of sight of ps' },
  'stats-interval': { type: 'string', value: 's', default: '10', modes: SERVER, help: 'seconds between statistics lines (connections, relay reservations, registrations per namespace); 0 turns them off' },
  'min-ttl': { type: 'string', option: 'minTtl', value: 's', default: String(DEFAULT_MIN_TTL), modes: SERVER, help: 'shortest registration TTL admitted, in seconds' },
  'max-ttl': { type: 'string', option: 'maxTtl', value: 's', default: String(MAX_TTL), modes: SERVER, help: `longest registration TTL admitted, in seconds; at most ${MAX_TTL}` },
  'default-ttl': { type: 'string', option: 'defaultTtl', value: 's', default: String(DEFAULT_TTL), modes: SERVER, help: 'TTL granted when a registration asks for none, in seconds' },
  'max-registrations-per-peer': { type: 'string', option: 'maxRegistrationsPerPeer', value: 'n', default: String(MAX_REGISTRATIONS_PER_PEER), modes: SERVER, help: 'namespaces one peer may be registered in at once' },
  'max-registrations': { type: 'string', option: 'maxRegistrations', value: 'n', default: String(DEFAULT_MAX_REGISTRATIONS), modes: SERVER, help: 'registrations held at once, over all peers' },
  'max-namespace-length': { type: 'string', option: 'maxNamespaceLength', value: 'n', default: String(MAX_NAMESPACE_LENGTH), modes: SERVER, help: 'longest namespace, in UTF-8 bytes' },
  'max-discover-limit': { type: 'string', option: 'maxDiscoverLimit', value: 'n', default: String(MAX_DISCOVER_LIMIT), modes: SERVER, help: 'most registrations in one discover response' },
  'allow-empty-addresses': { type: 'boolean', modes: SERVER, help: 'accept peer records without addresses' },
  'webrtc-port': { type: 'string', value: 'n', default: '0', modes: SERVER, help: 'UDP port for WebRTC-direct, which browsers dial without a TLS certificate (needs @libp2p/webrtc); 0 picks a free one' },
  'no-webrtc': { type: 'boolean', modes: SERVER, help: 'do not listen on WebRTC-direct' },
  'key-file': { type: 'string', value: 'path', modes: SERVER, help: 'keep the private key here (created if missing), so the point keeps its peer id, and its WebRTC-direct certhash, across restarts' },
  announce: { type: 'string', value: 'multiaddr', multiple: true, modes: SERVER, help: 'tell peers this address instead of the listen addresses, e.g. /dns4/rdv.example.com/tcp/443/wss behind a TLS proxy; may repeat' },
  'keep-disconnected': { type: 'boolean', modes: SERVER, help: 'keep the registrations of a peer reachable only through this point after it disconnects, until their TTL ends' },
  'log-requests': { type: 'boolean', modes: SERVER, help: 'print a line for every REGISTER, UNREGISTER and DISCOVER received' },

  'max-connections': { type: 'string', value: 'n', default: String(DEFAULT_LIMITS.maxConnections), modes: SERVER, section: LIMITS, help: 'connections held at once; more are refused' },
  'max-connections-per-host': { type: 'string', value: 'n', default: String(DEFAULT_LIMITS.maxConnectionsPerHost), modes: SERVER, section: LIMITS, help: 'connections from one IPv4 address or IPv6 /64 held at once' },
  'max-connection-rate-per-host': { type: 'string', value: 'n', default: String(DEFAULT_LIMITS.maxConnectionRatePerHost), modes: SERVER, section: LIMITS, help: 'new connections one host may open per second' },
  'max-pending-connections': { type: 'string', value: 'n', default: String(DEFAULT_LIMITS.maxPendingConnections), modes: SERVER, section: LIMITS, help: 'connections in their handshake at once (one host: half of them)' },
  'max-reservations': { type: 'string', value: 'n', default: String(DEFAULT_LIMITS.maxReservations), modes: SERVER, section: LIMITS, help: 'relay reservations held at once: one per browser' },
  'max-relayed-per-peer': { type: 'string', value: 'n', default: String(DEFAULT_LIMITS.maxRelayedConnectionsPerPeer), modes: SERVER, section: LIMITS, help: 'relayed connections one peer may have through the point at once, each way' },
  'relay-data-limit': { type: 'string', value: 'bytes', default: String(DEFAULT_LIMITS.relayDataLimit), modes: SERVER, section: LIMITS, help: 'bytes one relayed connection may carry, both ways together' },
  'relay-duration-limit': { type: 'string', value: 's', default: String(DEFAULT_LIMITS.relayDurationLimit / 1000), modes: SERVER, section: LIMITS, help: 'seconds one relayed connection may stay open' },
  'max-websocket-message': { type: 'string', value: 'bytes', default: String(DEFAULT_LIMITS.maxWebSocketMessageSize), modes: SERVER, section: LIMITS, help: 'largest WebSocket message read; a peer that sends more is disconnected' },

  address: { type: 'string', value: 'multiaddr', modes: CLIENT, help: 'the rendezvous point to use (may also be given without the flag)' },
  namespace: { type: 'string', short: 'n', value: 'ns', default: 'rendezvous', modes: CLIENT, help: 'namespace to register and discover in' },
  ttl: { type: 'string', value: 's', default: String(DEFAULT_TTL), modes: CLIENT, help: 'registration TTL to ask for, in seconds' },
  refresh: { type: 'boolean', short: 'r', modes: CLIENT, help: 'register again at 80 % of the granted TTL, so the registration never lapses' },
  'poll-interval': { type: 'string', value: 's', default: '5', modes: CLIENT, help: 'seconds between discovers that look for new peers' }
} as const satisfies Record<string, Flag>

export type FlagName = keyof typeof FLAGS

/** A mistake on the command line; exits with status 2 */
export class UsageError extends Error {
  static name = 'UsageError'
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export interface ListenOptions {
  /** An IPv4 or IPv6 address */
  host: string
  port: number
  wsPort: number
}

interface CommonOptions {
  listen: ListenOptions
  json: boolean
  verbose: boolean
}

/** Where the point listens on WebRTC-direct */
export interface WebRTCDirectOptions {
  /** UDP port; 0 picks a free one */
  port: number
  /** Asked for on the command line (`--webrtc-port`): fail rather than go without it */
  required: boolean
}

export interface ServerOptions extends CommonOptions {
  mode: 'server'
  /** Absent with `--no-webrtc` */
  webrtcDirect?: WebRTCDirectOptions
  store: string
  /** Where the point's private key is kept; absent: a new key, and peer id, on every start */
  keyFile?: string
  /** What the point tells peers instead of its listen addresses */
  announce: Multiaddr[]
  /** Milliseconds between statistics lines; 0 for none */
  statsInterval: number
  /** Print every request received */
  logRequests: boolean
  limits: Required<RendezvousPointLimits>
  policy: RendezvousServerInit
}

export interface ClientOptions extends CommonOptions {
  mode: 'client'
  address: Multiaddr
  namespace: string
  /** Seconds, as on the wire */
  ttl: number
  refresh: boolean
  /** Milliseconds between discovers */
  pollInterval: number
}

export type Command = { mode: 'help', json: boolean } | { mode: 'version', json: boolean } | ServerOptions | ClientOptions

type Values = Partial<Record<FlagName, string | boolean | string[]>>

/**
 * Read the command line. `fixedMode` is for a program that only runs one
 * mode (`libp2p-rendezvous-server`): `--mode` then defaults to it and may not
 * name the other. `env` gives what a flag with an `env` variable falls back on.
 */
export function parseCommand (argv: string[], fixedMode?: Mode, env: Record<string, string | undefined> = process.env): Command {
  const { values, positionals } = readArgv(argv)
  if (values.help === true) return { mode: 'help', json: values.json === true }
  if (values.version === true) return { mode: 'version', json: values.json === true }

  const mode = readMode(values.mode, fixedMode)
  for (const [name, flag] of Object.entries(FLAGS) as Array<[FlagName, Flag]>) {
    if (values[name] !== undefined && flag.modes?.includes(mode) === false) {
      throw new UsageError(`--${name} is for ${flag.modes.join(' and ')} mode only`)
    }
  }
  const read = reader(values)
  const number = (name: FlagName, min = 1, max?: number): number => whole(name, read(name), min, max)
  const common: CommonOptions = {
    listen: { host: readHost(read('host')), port: number('port', 0, 65535), wsPort: number('ws-port', 0, 65535) },
    json: values.json === true,
    verbose: values.verbose === true
  }

  if (mode === 'server') {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
    if (values['no-webrtc'] === true && values['webrtc-port'] !== undefined) {
      throw new UsageError('--webrtc-port and --no-webrtc contradict each other')
    }
    const policy = {
      minTtl: number('min-ttl'),
      maxTtl: number('max-ttl', 1, MAX_TTL),
      defaultTtl: number('default-ttl'),
      maxRegistrationsPerPeer: number('max-registrations-per-peer'),
      maxRegistrations: number('max-registrations'),
      maxNamespaceLength: number('max-namespace-length'),
      maxDiscoverLimit: number('max-discover-limit'),
      allowEmptyAddresses: values['allow-empty-addresses'] === true,
      dropOnDisconnect: values['keep-disconnected'] !== true
    }
    checkPolicy(policy)
    return {
      ...common,
      mode,
      ...(values['no-webrtc'] === true ? {} : { webrtcDirect: { port: number('webrtc-port', 0, 65535), required: values['webrtc-port'] !== undefined } }),
      store: readStore(values.store, env),
      ...(typeof values['key-file'] === 'string' ? { keyFile: values['key-file'] } : {}),
      announce: (Array.isArray(values.announce) ? values.announce : []).map(readMultiaddr),
      statsInterval: seconds('stats-interval', read('stats-interval')),
      logRequests: values['log-requests'] === true,
      limits: {
        maxConnections: number('max-connections'),
        maxConnectionsPerHost: number('max-connections-per-host'),
        maxConnectionRatePerHost: number('max-connection-rate-per-host'),
        maxPendingConnections: number('max-pending-connections'),
        maxReservations: number('max-reservations'),
        maxRelayedConnectionsPerPeer: number('max-relayed-per-peer'),
        relayDataLimit: number('relay-data-limit'),
        relayDurationLimit: Math.round(seconds('relay-duration-limit', read('relay-duration-limit'), false)),
        maxWebSocketMessageSize: number('max-websocket-message')
      },
      policy
    }
  }

  // py-libp2p's example documents the point's address as a bare argument, so take it either way
  const addresses = [...(typeof values.address === 'string' ? [values.address] : []), ...positionals]
  if (addresses.length === 0) throw new UsageError('client mode needs the rendezvous point: --address <multiaddr>')
  if (addresses.length > 1) throw new UsageError(`give one rendezvous point, not "${addresses.join('" and "')}"`)
  return {
    ...common,
    mode,
    address: readMultiaddr(addresses[0]),
    namespace: read('namespace'),
    ttl: number('ttl'),
    refresh: values.refresh === true,
    pollInterval: seconds('poll-interval', read('poll-interval'), false)
  }
}

/** `argv` against `FLAGS`, with errors that name the option as typed */
function readArgv (argv: string[]): { values: Values, positionals: string[] } {
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    options: Object.fromEntries((Object.entries(FLAGS) as Array<[FlagName, Flag]>).map(([name, flag]) =>
      [name, { type: flag.type, ...(flag.short != null ? { short: flag.short } : {}), ...(flag.multiple === true ? { multiple: true } : {}) }])),
    allowPositionals: true,
    // parseArgs' own errors talk of positionals and dashes; these are checked below, in words for this program
    strict: false,
    tokens: true
  })
  for (const token of tokens) {
    if (token.kind !== 'option') continue
    const flag: Flag | undefined = (FLAGS as Record<string, Flag>)[token.name]
    if (flag == null) throw new UsageError(`unknown option ${token.rawName}${suggest(token.name)}`)
    if (flag.type === 'boolean' && token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`)
    // without an inline value, parseArgs takes the next word whatever it is: "--store --json" is a forgotten value
    if (flag.type === 'string' && (token.value === undefined || (token.inlineValue !== true && /^--?[a-z]/i.test(token.value)))) {
      throw new UsageError(`${token.rawName} needs a value`)
    }
  }
  return { values: values as Values, positionals }
}

/** "; did you mean --namespace?" for a flag name one or two typos away from a real one */
function suggest (typed: string): string {
  const distance = (a: string, b: string): number => {
    let row = Array.from({ length: b.length + 1 }, (_, i) => i)
    for (let i = 1; i <= a.length; i++) {
      const next = [i]
      for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
      row = next
    }
    return row[b.length]
  }
  const [best] = Object.keys(FLAGS).map(name => ({ name, d: distance(typed, name) })).sort((a, b) => a.d - b.d)
  return typed.length > 2 && best.d <= 2 ? `; did you mean --${best.name}?` : ''
}

/** The store URL, from the flag or its variable, checked for a kind of store we can open (the URL itself is not repeated: it may hold a password) */
function readStore (flag: Values[FlagName], env: Record<string, string | undefined>): string {
  const variable = FLAGS.store.env
  const fromEnv = env[variable]
  const url = typeof flag === 'string' ? flag : fromEnv != null && fromEnv !== '' ? fromEnv : FLAGS.store.default
  try {
    storeKind(url)
  } catch (err: any) {
    const message = String(err?.message ?? err)
    throw new UsageError(`${typeof flag === 'string' ? '--store' : variable}: ${message.charAt(0).toLowerCase()}${message.slice(1)}`)
  }
  return url
}

/** The point's own check of its policy, its complaints told in flags and the values given */
function checkPolicy (policy: RendezvousServerInit): void {
  try {
    resolvePolicy(policy)
  } catch (err: any) {
    if (err?.name !== 'InvalidParametersError') throw err
    let message = String(err.message)
    for (const [name, flag] of Object.entries(FLAGS) as Array<[FlagName, Flag]>) {
      if (flag.option != null) message = message.replace(new RegExp(`\\b${flag.option}\\b`, 'g'), `--${name} (${String(policy[flag.option])})`)
    }
    throw new UsageError(message)
  }
}

function readMode (value: Values[FlagName], fixedMode?: Mode): Mode {
  if (fixedMode != null) {
    if (value !== undefined && value !== fixedMode) throw new UsageError(`this program only runs --mode ${fixedMode}`)
    return fixedMode
  }
  if (value === 'server' || value === 'client') return value
  if (value === undefined) throw new UsageError('say which to run: --mode server or --mode client')
  throw new UsageError(`--mode must be server or client, not "${String(value)}"`)
}

/** A string flag's value, or its default */
function reader (values: Values): (name: FlagName) => string {
  return (name) => {
    const value = values[name]
    if (typeof value === 'string') return value
    const fallback: string | undefined = (FLAGS[name] as Flag).default
    if (fallback == null) throw new Error(`--${name} has no default`)
    return fallback
  }
}

function whole (name: FlagName, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN
  if (!(value >= min && value <= max)) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${text}"`)
  }
  return value
}

/** Seconds (fractions allowed) as milliseconds */
function seconds (name: FlagName, text: string, zeroAllowed = true): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN
  if (!(zeroAllowed ? value >= 0 : value > 0)) {
    throw new UsageError(`--${name} must be a number of seconds${zeroAllowed ? '' : ' above 0'}, not "${text}"`)
  }
  return value * 1000
}

function readHost (text: string): string {
  if (isIP(text) === 0) throw new UsageError(`--host must be an IPv4 or IPv6 address, not "${text}"`)
  return text
}

function readMultiaddr (text: string): Multiaddr {
  try {
    return multiaddr(text)
  } catch (err) {
    throw new UsageError(`"${text}" is not a multiaddr (${describeError(err)})`)
  }
}

/** `--help` text, generated from `FLAGS` */
export function usage (program: string, fixedMode?: Mode): string {
  const shown = (Object.entries(FLAGS) as Array<[FlagName, Flag]>)
    .filter(([name, flag]) => fixedMode == null || (name !== 'mode' && (flag.modes?.includes(fixedMode) ?? true)))
  const names = new Map(shown.map(([name, flag]) => [name, `${'short' in flag ? `-${flag.short}, ` : '    '}--${name}${flag.value != null ? ` <${flag.value}>` : ''}`]))
  const width = Math.max(...[...names.values()].map(n => n.length)) + 2
  const section = (title: string, wanted: (flag: Flag) => boolean): string[] => {
    const rows = shown.filter(([, flag]) => wanted(flag))
    if (rows.length === 0) return []
    return ['', `${title}:`, ...rows.map(([name, flag]) =>
      `  ${names.get(name)?.padEnd(width)}${flag.help}${flag.default != null ? ` (default: ${flag.env != null ? `$${flag.env}, else ` : ''}${flag.default})` : ''}`)]
  }
  const server = 'A libp2p rendezvous point (/rendezvous/1.0.0) over TCP, WebSockets and WebRTC-direct, with a circuit relay for browsers'
  if (fixedMode === 'server') {
    return [
      `Usage: ${program} [options]`,
      '',
      `${server}.`,
      ...section('Options', flag => flag.modes == null),
      ...section('Server options', flag => flag.modes === SERVER && flag.section == null),
      ...section(LIMITS, flag => flag.section === LIMITS),
      '',
      'Example:',
      `  ${program} --port 4001 --ws-port 4002 --key-file point.key`
    ].join('\n')
  }
  return [
    `Usage: ${program} --mode server [options]`,
    `       ${program} --mode client --address <multiaddr> [options]`,
    '',
    `${server},`,
    'and a client that registers in a namespace and prints the peers that come and go there.',
    ...section('Options', flag => flag.modes == null),
    ...section('Server options', flag => flag.modes === SERVER && flag.section == null),
    ...section(LIMITS, flag => flag.section === LIMITS),
    ...section('Client options', flag => flag.modes === CLIENT),
    '',
    'Example:',
    `  ${program} --mode server --port 4001 --ws-port 4002`,
    `  ${program} --mode client --address /ip4/127.0.0.1/tcp/4001/p2p/<the server's peer id> --refresh`
  ].join('\n')
}
