/**
 * Protobuf by hand for the fuzzer, with room for what no encoder would
 * write: a message as a tree of fields, so that any one of them can be
 * corrupted and the rest re-encoded around it.
 */
import { readFields, varint } from '../../fixtures/wire.ts'

/** A field as a tree, so any one of them can be corrupted and the rest re-encoded around it */
export type Field =
  | { no: number, wire: 'varint', value: bigint }
  | { no: number, wire: 'bytes', value: Uint8Array }
  | { no: number, wire: 'message', fields: Field[] }
  /** Bytes written as they are, key included: for what no schema allows */
  | { no: number, wire: 'raw', bytes: Uint8Array }

export function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

export function key (no: number, wireType: number): Uint8Array {
  return varint((BigInt(no) << 3n) | BigInt(wireType))
}

export function lengthDelimited (no: number, bytes: Uint8Array): Uint8Array {
  return concat([key(no, 2), varint(bytes.byteLength), bytes])
}

export function encodeFields (fields: Field[]): Uint8Array {
  return concat(fields.map(field => {
    switch (field.wire) {
      case 'varint': return concat([key(field.no, 0), varint(field.value)])
      case 'bytes': return lengthDelimited(field.no, field.value)
      case 'message': return lengthDelimited(field.no, encodeFields(field.fields))
      case 'raw': return field.bytes
    }
  }))
}

/** Which fields hold embedded messages; everything else is a leaf */
export interface Schema { [no: number]: Schema | undefined }

/** `bytes` as a tree of fields, embedded messages where `schema` says */
export function parse (bytes: Uint8Array, schema: Schema): Field[] {
  return readFields(bytes).map(({ field: no, value }) => {
    if (typeof value === 'bigint') return { no, wire: 'varint', value }
    const inner = schema[no]
    return inner != null ? { no, wire: 'message', fields: parse(value, inner) } : { no, wire: 'bytes', value }
  })
}

/** Every field of a tree, depth first, each with the path of indices that leads to it */
export function paths (fields: Field[], prefix: number[] = []): number[][] {
  return fields.flatMap((field, i) => [[...prefix, i], ...(field.wire === 'message' ? paths(field.fields, [...prefix, i]) : [])])
}

/** `fields` with the field at `path` replaced by `replace(field)` (any number of fields, none removes it) */
export function rewrite (fields: Field[], path: number[], replace: (field: Field) => Field[]): Field[] {
  const [index, ...rest] = path
  return fields.flatMap((field, i) => {
    if (i !== index) return [field]
    if (rest.length === 0) return replace(field)
    if (field.wire !== 'message') return [field]
    return [{ ...field, fields: rewrite(field.fields, rest, replace) }]
  })
}

export function fieldAt (fields: Field[], path: number[]): Field {
  const [index, ...rest] = path
  const field = fields[index]
  return rest.length === 0 || field.wire !== 'message' ? field : fieldAt(field.fields, rest)
}

/** A field as encoded, with its key */
export function encoded (field: Field): Uint8Array {
  return encodeFields([field])
}
