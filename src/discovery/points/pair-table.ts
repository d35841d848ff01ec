import type { Point } from '../context.ts'

/**
 * One record per point and namespace, made on first use. The registrations
 * and the polls each keep what they know of a (point, namespace) pair in one
 * record of their own here, rather than in parallel maps.
 */
export class PairTable<T> {
  readonly #make: (point: Point, namespace: string) => T
  readonly #namespaces = new Map<string, Map<Point, T>>()

  constructor (make: (point: Point, namespace: string) => T) {
    this.#make = make
  }

  /** The record of `point` and `namespace`, made now if there was none */
  get (point: Point, namespace: string): T {
    let points = this.#namespaces.get(namespace)
    if (points == null) {
      points = new Map()
      this.#namespaces.set(namespace, points)
    }
    let record = points.get(point)
    if (record == null) {
      record = this.#make(point, namespace)
      points.set(point, record)
    }
    return record
  }

  find (point: Point, namespace: string): T | undefined {
    return this.#namespaces.get(namespace)?.get(point)
  }

  /** The records of `namespace`, or of every namespace */
  list (namespace?: string): T[] {
    const maps = namespace == null ? [...this.#namespaces.values()] : [this.#namespaces.get(namespace) ?? new Map<Point, T>()]
    return maps.flatMap(points => [...points.values()])
  }

  /** Forget `namespace`, or everything */
  clear (namespace?: string): void {
    if (namespace == null) this.#namespaces.clear()
    else this.#namespaces.delete(namespace)
  }
}
