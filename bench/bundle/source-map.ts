/**
 * Which source file each byte of a minified bundle came from, read from its
 * source map: every mapped segment owns the generated text up to the next
 * segment. Minifiers map nearly every token, so this attributes the output
 * as shipped (after minification and tree-shaking), which the bundler's own
 * per-module lengths (taken before minification) cannot.
 */
import { resolve } from 'node:path'

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const DIGIT = new Map([...BASE64].map((char, i) => [char, i]))

/** The base64 VLQ numbers of one segment */
function decodeSegment (segment: string): number[] {
  const values: number[] = []
  let value = 0
  let shift = 0
  for (const char of segment) {
    const digit = DIGIT.get(char)
    if (digit == null) throw new Error(`not base64 VLQ: ${segment}`)
    value += (digit & 31) * 2 ** shift
    if ((digit & 32) !== 0) {
      shift += 5
      continue
    }
    values.push(value % 2 === 1 ? -Math.floor(value / 2) : value / 2)
    value = 0
    shift = 0
  }
  return values
}

export interface SourceMapV3 {
  sources: string[]
  mappings: string
}

/** One stretch of generated code: [line, start column, end column) from one source (index into `sources`, or -1 when unmapped) */
export interface Span {
  line: number
  start: number
  end: number
  source: number
}

/** Every stretch of `code`, in order; columns in UTF-16 units, as source maps count them */
export function spans (code: string, map: SourceMapV3): Span[] {
  const lines = code.split('\n')
  const result: Span[] = []
  let source = 0
  map.mappings.split(';').forEach((encoded, line) => {
    const length = lines[line]?.length ?? 0
    let column = 0
    let start = 0
    let owner = -1
    for (const segment of encoded === '' ? [] : encoded.split(',')) {
      const fields = decodeSegment(segment)
      column += fields[0]
      if (column > start) result.push({ line, start, end: column, source: owner })
      if (fields.length >= 4) source += fields[1]
      start = column
      owner = fields.length >= 4 ? source : -1
    }
    if (length > start) result.push({ line, start, end: length, source: owner })
  })
  return result
}

/**
 * Bytes (UTF-8) of `code` per source file, with source paths made absolute
 * against the directory the bundle would be written to.
 */
export function bytesBySource (code: string, map: SourceMapV3, outputDir: string): Map<string, number> {
  const lines = code.split('\n')
  const bySource = new Map<string, number>()
  for (const span of spans(code, map)) {
    const name = span.source < 0 ? '(unmapped)' : resolve(outputDir, map.sources[span.source])
    bySource.set(name, (bySource.get(name) ?? 0) + Buffer.byteLength(lines[span.line].slice(span.start, span.end)))
  }
  return bySource
}

/**
 * `code` with the output of some source files rewritten. Each line is cut
 * into runs of consecutive stretches from one file (so a literal the map
 * splits is seen whole); `rewrite` returns a run's replacement, or undefined
 * to keep it. Unmapped runs are named '(unmapped)'.
 */
export function rewriteSources (code: string, map: SourceMapV3, outputDir: string, rewrite: (file: string, text: string) => string | undefined): string {
  const lines = code.split('\n')
  const runs = lines.map(() => [] as Array<{ file: string, text: string }>)
  for (const span of spans(code, map)) {
    const file = span.source < 0 ? '(unmapped)' : resolve(outputDir, map.sources[span.source])
    const text = lines[span.line].slice(span.start, span.end)
    const line = runs[span.line]
    const last = line.at(-1)
    if (last?.file === file) last.text += text
    else line.push({ file, text })
  }
  return runs.map(line => line.map(run => rewrite(run.file, run.text) ?? run.text).join('')).join('\n')
}

/** `code` without the output of the files `drop` accepts: what the bundle would be without them */
export function withoutSources (code: string, map: SourceMapV3, outputDir: string, drop: (file: string) => boolean): string {
  return rewriteSources(code, map, outputDir, file => drop(file) ? '' : undefined)
}
