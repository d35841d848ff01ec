/**
 * What the SDK adds to a browser app: the minimal app (libp2p, WebSockets,
 * noise, yamux, identify) built by vite in production mode, app mode, with
 * and without the SDK; gzip and brotli at their highest levels, as a CDN
 * would serve it. Then where the added bytes come from: each SDK module's
 * minified bytes and the gzip bytes the bundle loses without it, and every
 * package whose share of the bundle changed. Builds are deterministic, so
 * one of each is enough.
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { dirname, join, relative, resolve } from 'node:path'
import { build, version as viteVersion } from 'vite'
import { bytesBySource, rewriteSources, withoutSources } from './source-map.ts'
import type { SourceMapV3 } from './source-map.ts'

const root = resolve(import.meta.dirname, '../..')
/** Where the builds would go; nothing is written */
const outDir = resolve(import.meta.dirname, 'dist')

export interface BundleSize {
  /** Bytes, minified */
  raw: number
  gzip: number
  brotli: number
}

export interface ModuleSize {
  /** Path from the repository root */
  module: string
  /** Minified bytes in the bundle */
  minified: number
  /** Gzipped bytes the bundle loses without this module's output */
  gzip: number
}

/** The SDK's modules grouped by folder: each folder is one part of the SDK */
export interface PartSize {
  /** Folder from the repository root */
  part: string
  modules: number
  minified: number
  /** Gzipped bytes the bundle loses without every module of the folder */
  gzip: number
}

export interface PackageDelta {
  name: string
  /** Minified bytes in each app */
  base: number
  sdk: number
}

export interface BundleResult {
  vite: string
  base: BundleSize
  sdk: BundleSize
  /** The SDK app over the base one */
  added: BundleSize
  /** The SDK's own modules, largest first */
  modules: ModuleSize[]
  /** The same, by folder, largest first */
  parts: PartSize[]
  /** Minified bytes of string and template literals in the SDK's output: error and log texts, mostly */
  sdkStrings: number
  /**
   * Gzipped bytes the SDK would add with every one of its string literals
   * emptied: the floor that shorter texts could reach with the code as it is
   */
  addedWithoutStrings: number
  /** Dependencies whose bytes differ between the apps, largest difference first */
  packages: PackageDelta[]
}

interface Chunk {
  code: string
  map: SourceMapV3
  /** Directory the chunk would be written to, which its map's sources are relative to */
  dir: string
}

const gzip = (code: string): number => gzipSync(code, { level: 9 }).byteLength
const brotli = (code: string): number => brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).byteLength

async function buildApp (entry: string): Promise<Chunk[]> {
  const output = await build({
    configFile: false,
    root: import.meta.dirname,
    mode: 'production',
    logLevel: 'warn',
    publicDir: false,
    build: { write: false, outDir, target: 'es2022', sourcemap: true, reportCompressedSize: false, rolldownOptions: { input: entry } }
  })
  const [result] = Array.isArray(output) ? output : [output]
  if (!('output' in result)) throw new Error('vite returned a watcher, not a build')
  return result.output.flatMap(item => item.type === 'chunk' && item.map != null
    ? [{ code: item.code, map: item.map as unknown as SourceMapV3, dir: resolve(outDir, item.fileName, '..') }]
    : [])
}

/** Sizes over all chunks, each compressed alone as it would be served */
function size (chunks: Chunk[]): BundleSize {
  return {
    raw: chunks.reduce((sum, c) => sum + Buffer.byteLength(c.code), 0),
    gzip: chunks.reduce((sum, c) => sum + gzip(c.code), 0),
    brotli: chunks.reduce((sum, c) => sum + brotli(c.code), 0)
  }
}

/** Minified bytes per source file (absolute path) over all chunks */
function bySource (chunks: Chunk[]): Map<string, number> {
  const total = new Map<string, number>()
  for (const chunk of chunks) {
    for (const [file, bytes] of bytesBySource(chunk.code, chunk.map, chunk.dir)) total.set(file, (total.get(file) ?? 0) + bytes)
  }
  return total
}

const LITERAL = /'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g

/** A chunk's code with the string literals of the files `include` accepts emptied, and their bytes (a regex over minified code: close enough to size them) */
function withoutStrings (chunk: Chunk, include: (file: string) => boolean): { code: string, bytes: number } {
  let bytes = 0
  const code = rewriteSources(chunk.code, chunk.map, chunk.dir, (file, text) => include(file)
    ? text.replace(LITERAL, literal => {
      bytes += Buffer.byteLength(literal)
      return '""'
    })
    : undefined)
  return { code, bytes }
}

/** The npm package a file belongs to, or undefined for our own files */
function packageOf (file: string): string | undefined {
  const at = file.lastIndexOf('node_modules/')
  if (at < 0) return undefined
  const parts = file.slice(at + 'node_modules/'.length).split('/')
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
}

function byPackage (sources: Map<string, number>): Map<string, number> {
  const total = new Map<string, number>()
  for (const [file, bytes] of sources) {
    const name = packageOf(file) ?? (file.startsWith(join(root, 'src')) ? '(SDK: src/)' : '(app and bundler runtime)')
    total.set(name, (total.get(name) ?? 0) + bytes)
  }
  return total
}

export async function bundleCost (): Promise<BundleResult> {
  const baseChunks = await buildApp(join(import.meta.dirname, 'app-base.ts'))
  const sdkChunks = await buildApp(join(import.meta.dirname, 'app-sdk.ts'))
  const base = size(baseChunks)
  const sdk = size(sdkChunks)
  const sdkSources = bySource(sdkChunks)

  const ours = (file: string): boolean => file.startsWith(join(root, 'src'))
  /** Gzipped bytes the SDK app loses without the files `drop` accepts */
  const loss = (drop: (file: string) => boolean): number =>
    sdkChunks.reduce((sum, c) => sum + gzip(c.code) - gzip(withoutSources(c.code, c.map, c.dir, drop)), 0)

  const modules: ModuleSize[] = [...sdkSources]
    .filter(([file]) => ours(file))
    .map(([file, minified]) => ({ module: relative(root, file), minified, gzip: loss(f => f === file) }))
    .sort((a, b) => b.minified - a.minified)

  const parts: PartSize[] = [...new Set(modules.map(m => dirname(m.module)))]
    .map(part => {
      const inPart = modules.filter(m => dirname(m.module) === part)
      return {
        part,
        modules: inPart.length,
        minified: inPart.reduce((sum, m) => sum + m.minified, 0),
        gzip: loss(file => ours(file) && dirname(relative(root, file)) === part)
      }
    })
    .sort((a, b) => b.gzip - a.gzip)

  const stripped = sdkChunks.map(c => withoutStrings(c, ours))
  const sdkStrings = stripped.reduce((sum, s) => sum + s.bytes, 0)
  const addedWithoutStrings = stripped.reduce((sum, s) => sum + gzip(s.code), 0) - base.gzip

  const basePackages = byPackage(bySource(baseChunks))
  const sdkPackages = byPackage(sdkSources)
  const packages = [...new Set([...basePackages.keys(), ...sdkPackages.keys()])]
    .map(name => ({ name, base: basePackages.get(name) ?? 0, sdk: sdkPackages.get(name) ?? 0 }))
    .filter(p => p.base !== p.sdk)
    .sort((a, b) => (b.sdk - b.base) - (a.sdk - a.base))

  return {
    vite: viteVersion,
    base,
    sdk,
    added: { raw: sdk.raw - base.raw, gzip: sdk.gzip - base.gzip, brotli: sdk.brotli - base.brotli },
    modules,
    parts,
    sdkStrings,
    addedWithoutStrings,
    packages
  }
}

