import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, freshNamespace, startPoint, test } from './fixtures.ts'

test('the point is stopped and restarted: the page shows the error, then registers again by itself', async ({ openPeer }) => {
  const dir = mkdtempSync(join(tmpdir(), 'rendezvous-e2e-point-'))
  try {
    // a key file and a fixed port: the restarted point has the same address
    const keyFile = join(dir, 'point.key')
    const first = await startPoint({ keyFile, logRequests: true })
    const port = Number(first.address.split('/tcp/')[1].split('/')[0])
    const namespace = freshNamespace('restart')
    const alice = await openPeer({ namespace, interval: 1000, points: [first.address] })
    const bob = await openPeer({ namespace, interval: 1000, points: [first.address] })
    await expect(alice.demo.peer(bob.id)).toBeVisible()
    await alice.demo.registered()

    await first.stop()

    // the page says what is wrong, in words
    await expect(alice.demo.registration(first.peerId)).toHaveAttribute('data-state', 'error')
    await expect(alice.demo.error).toBeVisible()
    await expect(alice.demo.error).toContainText('rendezvous point')

    const second = await startPoint({ keyFile, port, logRequests: true })
    expect(second.address).toBe(first.address)

    // the restarted point knows nobody: both pages register again without being told to
    await expect.poll(() => second.requests({ type: 'REGISTER', namespace, peer: alice.id }).length, { timeout: 90_000 }).toBeGreaterThan(0)
    await expect.poll(() => second.requests({ type: 'REGISTER', namespace, peer: bob.id }).length, { timeout: 90_000 }).toBeGreaterThan(0)
    await expect(alice.demo.registration(first.peerId)).toHaveAttribute('data-state', 'registered')
    await expect(alice.demo.error).toBeHidden()
    // and find each other again, from the new point
    await expect(alice.demo.peer(bob.id)).toHaveAttribute('data-source', 'network')
    await expect(bob.demo.peer(alice.id)).toHaveAttribute('data-source', 'network')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
