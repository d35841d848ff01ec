/**
 * The command line as shipped: `dist/cli/`, one module per program with its
 * server-only dependencies (libp2p, TCP, WebSockets, the relay server,
 * ioredis, ws...) inside. Those are optional peer dependencies of the
 * package, which a browser app never installs, so `npx libp2p-rendezvous`
 * must not need them installed; what the SDK depends on stays outside, as
 * installed.
 */
import { readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { resolve } from 'node:path'
import { defineConfig } from 'vite'

const root = import.meta.dirname
const { dependencies } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
const installed = Object.keys(dependencies)

/** Node's own modules, the package's dependencies and their subpaths stay imports */
function external (id: string): boolean {
  if (id.startsWith('node:') || builtinModules.includes(id)) return true
  return installed.some(name => id === name || id.startsWith(`${name}/`))
}

export default defineConfig({
  publicDir: false,
  logLevel: 'warn',
  ssr: { noExternal: true, target: 'node' },
  build: {
    ssr: true,
    target: 'node20',
    outDir: resolve(root, 'dist/cli'),
    emptyOutDir: true,
    minify: false,
    sourcemap: false,
    rolldownOptions: {
      input: {
        'libp2p-rendezvous': resolve(root, 'src/cli/main.ts'),
        'libp2p-rendezvous-server': resolve(root, 'src/cli/server-main.ts')
      },
      // ws tries these native speed-ups and does without them
      external: (id: string) => external(id) || id === 'bufferutil' || id === 'utf-8-validate',
      output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' }
    }
  }
})
