import { MAX_NAMESPACE_LENGTH } from '../constants.ts'

const encoder = new TextEncoder()

/**
 * A lone UTF-16 surrogate: a string holding one has no UTF-8 form. Decoding
 * malformed UTF-8 off the wire can produce one, and it would go back out as
 * U+FFFD, so DISCOVER would name another namespace than the one registered.
 */
const LONE_SURROGATE = /\p{Cs}/u

/** Namespace limits count UTF-8 bytes, not characters */
export function namespaceByteLength (namespace: string): number {
  return encoder.encode(namespace).byteLength
}

/** Why a namespace cannot be registered, or undefined when it can */
export function namespaceProblem (namespace: string | undefined, maxLength = MAX_NAMESPACE_LENGTH): string | undefined {
  if (namespace == null || namespace === '') {
    return 'namespace is missing'
  }
  if (LONE_SURROGATE.test(namespace)) {
    return 'namespace is not valid UTF-8'
  }
  const length = namespaceByteLength(namespace)
  if (length > maxLength) {
    return `namespace is ${length} bytes, the limit is ${maxLength}`
  }
  return undefined
}
