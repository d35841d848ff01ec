/**
 * Defaults only the discovery service reads; the ones it shares with the
 * client, the point and the command line (TTLs, the request timeout, the
 * refresh ratio) live in `../constants.ts`. Wire values are seconds, as in
 * the spec; everything local is milliseconds. Each name says which.
 */
import { minute, second } from '../constants.ts'

/** Up to this fraction of a delay is taken off at random, so many tabs do not refresh in step */
export const JITTER = 0.1

/**
 * Milliseconds: the longest any timer is armed for. Browser timers do not
 * count time the machine slept, so a deadline is also compared with the
 * clock at least this often; a hidden tab may wake about once a minute anyway.
 */
export const WAKE_INTERVAL = minute

/** Milliseconds between DISCOVER polls per point and namespace while the page is visible */
export const DEFAULT_DISCOVER_INTERVAL = minute

/** Every this many polls of a point, poll without a cookie to notice peers that left */
export const DEFAULT_FULL_DISCOVER_EVERY = 5

/** Registrations asked for per DISCOVER page */
export const DEFAULT_DISCOVER_LIMIT = 100

/** Milliseconds all UNREGISTERs together may take on stop */
export const DEFAULT_UNREGISTER_TIMEOUT = 2 * second

/** Milliseconds before the first retry after a failure at a point */
export const DEFAULT_RETRY_DELAY = 5 * second

/** Milliseconds: retries back off up to this */
export const DEFAULT_MAX_RETRY_DELAY = 5 * minute

/** Pages one walk of a namespace at one point may take, so a point that pages for ever cannot keep us busy */
export const DEFAULT_MAX_PAGES = 100

/** Peers the view of one namespace may hold: a walk's worth of pages at the default limit */
export const DEFAULT_MAX_PEERS = DEFAULT_MAX_PAGES * DEFAULT_DISCOVER_LIMIT

/**
 * Milliseconds after `beforeunload` (which sent our UNREGISTERs) before we
 * register again if the page is still here: the unload was cancelled. Long
 * enough for a slow navigation to unload the page first, since `beforeunload`
 * fires when a navigation starts and the page lives on until the next one arrives.
 */
export const LEAVE_GRACE = 10 * second

/**
 * Cached peers a warm start checks and shows at once, from the cache's quick
 * copy, before libp2p has started: each record's signature is then checked
 * in JavaScript, which costs milliseconds of main thread, so only a few
 */
export const FIRST_LOOK = 2

/** The start of the IndexedDB database name; the node's peer id follows it */
export const DEFAULT_DB_PREFIX = 'libp2p-rendezvous'

/** Milliseconds one IndexedDB operation may take before the cache falls back to memory */
export const DEFAULT_DB_TIMEOUT = 3 * second
