import { PointsDeniedError } from '../errors.ts'
import type { Point } from '../context.ts'
import type { ConnectionGater } from '@libp2p/interface'

/**
 * Throws `PointsDeniedError` when `gater` refuses every address of every
 * point. Each dial would fail, retried with backoff for ever, and a
 * developer trying a local point in a browser (where libp2p's default gater
 * refuses it) would see nothing happen: this makes the node fail to start
 * instead, saying why and what to do. A point the gater only partly refuses
 * shows in `point:update` like any other failure.
 */
export async function checkGater (gater: ConnectionGater | undefined, points: Point[]): Promise<void> {
  if (gater?.denyDialMultiaddr == null || points.length === 0) return
  for (const point of points) {
    for (const address of point.addresses) {
      if (await gater.denyDialMultiaddr(address) !== true) return
    }
  }
  throw new PointsDeniedError(points.flatMap(point => point.addresses.map(String)))
}
