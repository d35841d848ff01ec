/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The local point's multiaddr, set by `npm run demo` */
  readonly VITE_RENDEZVOUS_POINT?: string
}
