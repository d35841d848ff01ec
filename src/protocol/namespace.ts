import { MAX_NAMESPACE_LENGTH } from '../constants.ts'

const encoder = new TextEncoder()

/** Namespace limits count UTF-8 bytes, not characters */
export function namespaceByteLength (namespace: string): number {
  return encoder.encode(namespace).byteLength
}

/** Why a namespace cannot be registered, or undefined when it can */
export function namespaceProblem (namespace: string | undefined, maxLength = MAX_NAMESPACE_LENGTH): string | undefined {
  if (namespace == null || namespace === '') {
    return 'namespace is missing'
  }
  const length = namespaceByteLength(namespace)
  if (length > maxLength) {
    return `namespace is ${length} bytes, the limit is ${maxLength}`
  }
  return undefined
}
