/**
 * The demo page: read the settings (query string or form), start a libp2p
 * node with rendezvous discovery, and keep the page in step with it.
 */
import { checkConfig, readConfig, writeConfig } from './config.ts'
import { describeError } from './errors.ts'
import { Session } from './session.ts'
import { form, showError, showPeers, showRegistrations, showSelf } from './view.ts'
import type { DemoConfig } from './config.ts'

let session: Session | undefined
let starting = false
/** Why there is no session, in plain words */
let failure: string | undefined
let config = readConfig(location.search)
/** Joins run one at a time; a newer one wins */
let joining = Promise.resolve()

form.points.value = config.points.join('\n')
form.namespace.value = config.namespace

function render (): void {
  const now = Date.now()
  showSelf(session?.peerId, session?.addresses() ?? [], starting ? 'starting…' : 'not started')
  showRegistrations(session?.registrations() ?? [], now)
  showPeers(session?.peers() ?? [], session?.connections ?? new Map(), now, peer => { void session?.connect(peer) })
  showError(failure ?? session?.error())
  form.leave.hidden = session == null
}

async function join (next: DemoConfig): Promise<void> {
  config = next
  history.replaceState(null, '', writeConfig(config))
  const previous = session
  session = undefined
  failure = undefined
  starting = true
  render()
  await previous?.stop()
  try {
    const points = checkConfig(config)
    session = await Session.start(config, points, render)
  } catch (err) {
    failure = describeError(err, { namespace: config.namespace })
  } finally {
    starting = false
    render()
  }
}

form.root.addEventListener('submit', (event) => {
  event.preventDefault()
  const next: DemoConfig = {
    ...config,
    points: form.points.value.split('\n').map(p => p.trim()).filter(p => p !== ''),
    namespace: form.namespace.value.trim()
  }
  joining = joining.then(async () => join(next))
})

// stop the node: it unregisters from every point first
form.leave.addEventListener('click', () => {
  joining = joining.then(async () => {
    const previous = session
    session = undefined
    render()
    await previous?.stop()
    render()
  })
})

// countdowns; browsers slow this down in hidden tabs, which is fine for a display
setInterval(render, 1000)

render()
if (config.points.length > 0) {
  joining = join(config)
}
