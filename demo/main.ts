/**
 * The demo page: read the settings (query string or form), start a libp2p
 * node with rendezvous discovery, and keep the page in step with it.
 */
import { Banner } from './banner.ts'
import { checkConfig, readConfig, writeConfig } from './config.ts'
import { enableCopyButtons } from './copy.ts'
import { describeError } from './errors.ts'
import { showLive } from './live.ts'
import { Session } from './session.ts'
import { form, showPeers, showRegistrations, showSelf } from './view.ts'
import type { Alert } from './banner.ts'
import type { DemoConfig, InputError } from './config.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

let session: Session | undefined
let starting = false
/** Why there is no session */
let failure: Alert | undefined
/** A mistake in the form at the last Join; a running session goes on regardless */
let mistake: InputError | undefined
let config = readConfig(location.search)
/** Joins run one at a time; a newer one wins */
let joining = Promise.resolve()
const banner = new Banner()

form.points.value = config.points.join('\n')
form.namespace.value = config.namespace

function alert (): Alert | undefined {
  if (mistake != null) {
    const note = session != null ? `Nothing changed: this page is still in the namespace “${session.namespace}”. Fix the ${mistake.field === 'points' ? 'address' : 'namespace'} and press Join again.` : undefined
    return { key: `input:${mistake.field}:${mistake.message}`, ...describeError(mistake), note }
  }
  if (failure != null) return failure
  const failing = session?.error()
  if (failing == null) return undefined
  return { key: `point:${failing.point}:${failing.problem.title}`, ...failing.problem, note: 'The page keeps trying; the registration below says when it tries next.' }
}

function render (): void {
  const now = Date.now()
  showSelf(session?.peerId, session?.addresses() ?? [], starting ? 'starting…' : 'not started')
  showRegistrations(session?.registrations() ?? [], now)
  showPeers(session?.peers() ?? [], session?.connections ?? new Map(), now, peer => { void session?.connect(peer) })
  showLive(session?.liveness(), document.visibilityState === 'hidden', now)
  banner.show(alert())
  form.points.setAttribute('aria-invalid', String(mistake?.field === 'points'))
  form.namespace.setAttribute('aria-invalid', String(mistake?.field === 'namespace'))
  form.leave.hidden = session == null
}

async function join (next: DemoConfig, points: Multiaddr[]): Promise<void> {
  config = next
  history.replaceState(null, '', writeConfig(config))
  const previous = session
  session = undefined
  failure = undefined
  starting = true
  render()
  await previous?.stop()
  try {
    session = await Session.start(config, points, render)
  } catch (err) {
    const problem = describeError(err, { namespace: config.namespace })
    failure = { key: `start:${problem.title}:${problem.text}`, ...problem }
  } finally {
    starting = false
    render()
  }
}

/** Join with `next`, unless it has a mistake: then say so and leave the running session as it is */
function submit (next: DemoConfig): void {
  let points: Multiaddr[]
  try {
    points = checkConfig(next)
  } catch (err: any) {
    if (err?.name !== 'InputError') throw err
    mistake = err
    render()
    form[mistake!.field].focus()
    return
  }
  mistake = undefined
  joining = joining.then(async () => join(next, points))
}

form.root.addEventListener('submit', (event) => {
  event.preventDefault()
  submit({
    ...config,
    points: form.points.value.split('\n').map(p => p.trim()).filter(p => p !== ''),
    namespace: form.namespace.value.trim()
  })
})

// stop the node: it unregisters from every point first
form.leave.addEventListener('click', () => {
  joining = joining.then(async () => {
    const previous = session
    session = undefined
    mistake = undefined
    render()
    await previous?.stop()
    render()
  })
})

enableCopyButtons()
// countdowns; browsers slow this down in hidden tabs, so the live indicator also follows visibility
setInterval(render, 1000)
document.addEventListener('visibilitychange', render)

render()
if (config.points.length > 0) submit(config)
