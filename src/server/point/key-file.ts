/**
 * A point's identity on disk. Peers know a point by its peer id, so a point
 * that came back from a restart with a new key would be unreachable at every
 * address they hold.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

/** The key file cannot be read, parsed or written */
export class KeyFileError extends Error {
  static name = 'KeyFileError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'KeyFileError'
  }
}

function reason (err: any): string {
  return err?.code ?? err?.message ?? String(err)
}

/**
 * The key kept in `path` (a libp2p protobuf private key, as
 * `privateKeyToProtobuf` writes it), or a new Ed25519 key written there
 * first, readable by its owner only.
 */
export async function loadOrCreateKey (path: string): Promise<PrivateKey> {
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(path)
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw new KeyFileError(`cannot read the key file ${path}: ${reason(err)}`, { cause: err })
  }
  if (bytes != null) {
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new KeyFileError(`the key file ${path} holds no libp2p private key: ${reason(err)}`, { cause: err })
    }
  }
  const key = await generateKeyPair('Ed25519')
  try {
    // 'wx': never overwrite a key another process has just written
    await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  } catch (err: any) {
    if (err?.code === 'EEXIST') return loadOrCreateKey(path)
    throw new KeyFileError(`cannot write the key file ${path}: ${reason(err)}`, { cause: err })
  }
  return key
}
