/**
 * Two builds from one config:
 *
 * - `vite` / `vite build` (default mode): the demo page in `demo/`, built to `dist/demo/`.
 * - `vite build --mode lib`: the browser SDK (`src/index.ts`) as one minified ES
 *   module with its dependencies, `dist/bundle/libp2p-rendezvous.js`. This is an
 *   app-mode build that keeps the entry's exports: vite's library mode would
 *   leave the output unminified.
 */
import { resolve } from 'node:path'
import { defineConfig } from 'vite'

const root = import.meta.dirname

export default defineConfig(({ mode }) => {
  if (mode === 'lib') {
    return {
      publicDir: false,
      build: {
        target: 'es2022',
        outDir: resolve(root, 'dist/bundle'),
        emptyOutDir: true,
        sourcemap: true,
        rolldownOptions: {
          input: { 'libp2p-rendezvous': resolve(root, 'src/index.ts') },
          preserveEntrySignatures: 'exports-only',
          output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' }
        }
      }
    }
  }

  return {
    root: resolve(root, 'demo'),
    // relative asset paths, so the built page works from any directory of any static host
    base: './',
    publicDir: false,
    server: { host: '127.0.0.1', port: 5173 },
    preview: { host: '127.0.0.1', port: 4173 },
    build: {
      target: 'es2022',
      outDir: resolve(root, 'dist/demo'),
      emptyOutDir: true,
      sourcemap: true
    }
  }
})
