import { expect, freshNamespace, sharedPoint, startNode, test } from './fixtures.ts'

test('the CLI client (Node) and a browser page see each other in one namespace, and the page pings the CLI directly', async ({ openPeer }) => {
  const namespace = freshNamespace('cli')
  const cli = startNode(['src/cli/main.ts', '--mode', 'client', '--json', '--namespace', namespace, '--poll-interval', '1', sharedPoint()])
  const { peerId: cliId } = await cli.waitForLine(line => line?.peerId != null && line?.event == null)
  await cli.waitForLine(line => line?.event === 'registered')

  const page = await openPeer({ namespace })

  // the CLI prints the browser, with the relay address it registered
  const found = await cli.waitForLine(line => line?.event === 'peer' && line.peerId === page.id)
  expect(found.multiaddrs.join(' ')).toContain('/p2p-circuit')
  // the page lists the CLI, with the addresses it listens on
  await expect(page.demo.peer(cliId)).toHaveAttribute('data-source', 'network')
  await expect(page.demo.peer(cliId).getByTestId('peer-addrs')).toContainText('/ws')

  // the CLI listens on WebSockets: the browser reaches it without the relay
  await page.demo.peer(cliId).getByTestId('connect').click()
  await expect(page.demo.peer(cliId).getByTestId('peer-status')).toHaveText(/connected directly · ping \d+ ms/)

  await cli.stop()
})
