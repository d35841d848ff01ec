import { expect, freshNamespace, test } from './fixtures.ts'

test('copy buttons put peer ids and addresses on the clipboard', async ({ openPeer }) => {
  const namespace = freshNamespace('copy')
  const alice = await openPeer({ namespace, context: { permissions: ['clipboard-read', 'clipboard-write'] } })
  const bob = await openPeer({ namespace })
  const clipboard = async (): Promise<string> => alice.page.evaluate(async () => navigator.clipboard.readText())

  const row = alice.demo.peer(bob.id)
  await expect(row).toHaveAttribute('data-source', 'network')
  // the row shows a shortened id; the button copies all of it
  await row.getByRole('button', { name: 'Copy peer id' }).click()
  expect(await clipboard()).toBe(bob.id)

  const address = row.getByTestId('peer-addrs').locator('code').first()
  await expect(address).toContainText('/p2p-circuit')
  await row.getByTestId('peer-addrs').getByRole('button', { name: 'Copy address' }).first().click()
  expect(await clipboard()).toBe(await address.textContent())

  // our own id and address
  await alice.page.getByTestId('self-id-copy').click()
  expect(await clipboard()).toBe(alice.id)
  const own = alice.page.getByTestId('self-addrs').locator('code').first()
  await expect(own).toContainText('/p2p-circuit')
  await alice.page.getByTestId('self-addrs').getByRole('button', { name: 'Copy address' }).first().click()
  expect(await clipboard()).toBe(await own.textContent())
})
