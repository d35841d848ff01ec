/**
 * The Lua scripts behind the Redis store. Each runs atomically inside Redis,
 * so two points writing at once see each other's changes whole: no lost or
 * doubled registration, and the limit checks and the write are one step.
 *
 * Every script touches only index keys, which share one hash tag (see
 * `redis-keys.ts`), so Redis Cluster runs them on one node. ARGV[1] is always
 * the index `base`; keys of other entries are built from it, the same way
 * `RedisKeys` builds them.
 *
 * Numbers: cursors stay below 2^53 and pass through Lua numbers exactly (and
 * are written back with `%.0f`, since `tostring` would round them); sequence
 * numbers are uint64 and never become Lua numbers, they are compared as
 * decimal strings.
 */

/** Helpers every script starts with */
const PRELUDE = `
local base = ARGV[1]
local all_key = base .. 'all'
local exp_key = base .. 'exp'
-- namespace and record id of every registration removed, for the caller to unlink the records
local gone = {}

-- a peer hash value: cursor|seq|expiresAt|record id, then marks: |u for an unsigned registration,
-- |r=<relay> for one whose every address goes through that relay. Values without marks read as neither.
local function decode (value)
  local cursor, seq, expires, id, marks = string.match(value, '^(%d+)|(%d+)|([^|]+)|(%x+)(.*)$')
  local entry = { cursor = cursor, seq = seq, expires = tonumber(expires), expires_text = expires, id = id, unsigned = false, relay = '' }
  for mark in string.gmatch(marks, '|([^|]*)') do
    if mark == 'u' then entry.unsigned = true
    elseif string.sub(mark, 1, 2) == 'r=' then entry.relay = string.sub(mark, 3) end
  end
  return entry
end

-- peer ids hold no newline, so the first one separates peer from namespace
local function split (member)
  return string.match(member, '^([^\\n]*)\\n(.*)$')
end

local function remove (peer, ns, id)
  redis.call('HDEL', base .. 'peer:' .. peer, ns)
  redis.call('ZREM', base .. 'ns:' .. ns, peer)
  local member = peer .. '\\n' .. ns
  redis.call('ZREM', all_key, member)
  redis.call('ZREM', exp_key, member)
  gone[#gone + 1] = ns
  gone[#gone + 1] = id or ''
end

-- drop up to batch registrations that expired at now; how many went
local function prune_expired (now, batch)
  local members = redis.call('ZRANGEBYSCORE', exp_key, '-inf', now, 'LIMIT', 0, batch)
  for _, member in ipairs(members) do
    local peer, ns = split(member)
    -- the peer hash may already be gone: Redis expired it on its own
    local value = redis.call('HGET', base .. 'peer:' .. peer, ns)
    remove(peer, ns, value and decode(value).id)
  end
  return #members
end

local function reply (status, detail)
  local out = { status, detail }
  for _, value in ipairs(gone) do out[#out + 1] = value end
  return out
end
`

/**
 * KEYS: cursor, all, exp, ns:<namespace>, peer:<peer>
 * ARGV: base, peer, namespace, seq, expiresAt, now, maxPerPeer, maxTotal, record id, ttl ms, '1' when unsigned,
 * relay ('' for none)
 * Returns: status ('ok' | 'stale-record' | 'peer-limit' | 'total-limit'), the new cursor or the current
 * seq or '', then namespace/record id pairs of registrations it removed.
 */
const REGISTER = `
local peer, ns, seq, expires = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, max_per_peer, max_total = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local id, ttl = ARGV[9], tonumber(ARGV[10])

-- decimal strings without leading zeros, so exact beyond 2^53
local function less (a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end

local current = redis.call('HGET', KEYS[5], ns)
if current then
  local entry = decode(current)
  if entry.expires > now and less(seq, entry.seq) then
    return reply('stale-record', entry.seq)
  end
  -- a replacement: the counts stay as they are, so no limit applies
  remove(peer, ns, entry.id)
else
  if redis.call('HLEN', KEYS[5]) >= max_per_peer then
    local fields = redis.call('HGETALL', KEYS[5])
    for i = 1, #fields, 2 do
      local entry = decode(fields[i + 1])
      if entry.expires <= now then remove(peer, fields[i], entry.id) end
    end
    if redis.call('HLEN', KEYS[5]) >= max_per_peer then return reply('peer-limit', '') end
  end
  -- full: prune the oldest expired ones, a batch at a time, until there is room or none is left
  while redis.call('ZCARD', KEYS[3]) >= max_total do
    if prune_expired(ARGV[6], 100) == 0 then return reply('total-limit', '') end
  end
end

-- seeded from Redis's clock in microseconds: should the counter ever be lost (a restart without
-- persistence, a flush), new cursors still start above every cursor a cookie holds
if redis.call('EXISTS', KEYS[1]) == 0 then
  local now_us = redis.call('TIME')
  redis.call('SET', KEYS[1], string.format('%.0f', tonumber(now_us[1]) * 1000000 + tonumber(now_us[2])))
end
local cursor = string.format('%.0f', redis.call('INCR', KEYS[1]))

redis.call('HSET', KEYS[5], ns, cursor .. '|' .. seq .. '|' .. expires .. '|' .. id .. (ARGV[11] == '1' and '|u' or '') .. (ARGV[12] ~= '' and '|r=' .. ARGV[12] or ''))
redis.call('ZADD', KEYS[4], cursor, peer)
local member = peer .. '\\n' .. ns
redis.call('ZADD', KEYS[2], cursor, member)
redis.call('ZADD', KEYS[3], expires, member)

-- every index key lives at least as long as its longest registration, so Redis alone clears a fleet
-- nobody serves any more; the counter and the secret have no expiry on purpose
for i = 2, 5 do
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return reply('ok', cursor)
`

/**
 * KEYS: peer:<peer>, all, exp
 * ARGV: base, peer, 'one' | 'all' | 'relayed', namespace (for 'one') or relay (for 'relayed')
 * Returns: namespace/record id pairs of the registrations removed.
 * 'relayed' removes those whose relay is ARGV[4]: what the peer registered since through another relay, or
 * with an address of its own, stays, whenever it happened.
 */
const UNREGISTER = `
local peer = ARGV[2]
if ARGV[3] == 'all' or ARGV[3] == 'relayed' then
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    local entry = decode(fields[i + 1])
    if ARGV[3] == 'all' or entry.relay == ARGV[4] then remove(peer, fields[i], entry.id) end
  end
else
  local value = redis.call('HGET', KEYS[1], ARGV[4])
  if value then remove(peer, ARGV[4], decode(value).id) end
end
return gone
`

/**
 * KEYS: the cursor order to read, ns:<namespace> or all
 * ARGV: base, after, limit, now, namespace ('' when KEYS[1] is all), '1' to leave out unsigned registrations
 * Returns: peer, namespace, cursor, seq, expiresAt, record id, '1' when unsigned else '', relay ('' for none);
 * eight per registration, in cursor order. Reads in batches of `limit` from the cursor order, so a page
 * costs O(log n + page) plus the expired (or left out) entries it steps over, never the size of the namespace.
 */
const DISCOVER = `
local limit, now = tonumber(ARGV[3]), tonumber(ARGV[4])
local signed_only = ARGV[6] == '1'
local every_namespace = KEYS[1] == all_key
local out = {}
local found = 0
local from = '(' .. ARGV[2]
while found < limit do
  local batch = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES', 'LIMIT', 0, limit)
  for i = 1, #batch, 2 do
    local peer, ns = batch[i], ARGV[5]
    if every_namespace then peer, ns = split(batch[i]) end
    local value = redis.call('HGET', base .. 'peer:' .. peer, ns)
    if value then
      local entry = decode(value)
      if entry.expires > now and not (signed_only and entry.unsigned) then
        out[#out + 1] = peer
        out[#out + 1] = ns
        out[#out + 1] = entry.cursor
        out[#out + 1] = entry.seq
        out[#out + 1] = entry.expires_text
        out[#out + 1] = entry.id
        out[#out + 1] = entry.unsigned and '1' or ''
        out[#out + 1] = entry.relay
        found = found + 1
        if found == limit then return out end
      end
    end
    from = '(' .. batch[i + 1]
  end
  if #batch < 2 * limit then break end
end
return out
`

/**
 * KEYS: exp
 * ARGV: base, now
 * Returns: namespace, count; pairs for every namespace with unexpired registrations.
 */
const NAMESPACE_STATS = `
local counts, order = {}, {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '+inf')) do
  local _, ns = split(member)
  if counts[ns] == nil then
    counts[ns] = 0
    order[#order + 1] = ns
  end
  counts[ns] = counts[ns] + 1
end
local out = {}
for _, ns in ipairs(order) do
  out[#out + 1] = ns
  out[#out + 1] = counts[ns]
end
return out
`

/**
 * KEYS: exp, all
 * ARGV: base, now, batch
 * Returns: namespace/record id pairs of at most `batch` expired registrations it removed.
 */
const PRUNE = `
prune_expired(ARGV[2], tonumber(ARGV[3]))
return gone
`

export interface ScriptDefinition {
  numberOfKeys: number
  lua: string
}

/** Script names are prefixed: they become methods on a client the application may share */
export const SCRIPTS = {
  rendezvousRegister: { numberOfKeys: 5, lua: PRELUDE + REGISTER },
  rendezvousUnregister: { numberOfKeys: 3, lua: PRELUDE + UNREGISTER },
  rendezvousDiscover: { numberOfKeys: 1, lua: PRELUDE + DISCOVER },
  rendezvousNamespaceStats: { numberOfKeys: 1, lua: PRELUDE + NAMESPACE_STATS },
  rendezvousPrune: { numberOfKeys: 2, lua: PRELUDE + PRUNE }
} satisfies Record<string, ScriptDefinition>

type Arg = string | number

/** The methods `defineCommand` adds for `SCRIPTS`: keys first, then ARGV */
export interface ScriptCommands {
  rendezvousRegister(...keysAndArgs: Arg[]): Promise<string[]>
  rendezvousUnregister(...keysAndArgs: Arg[]): Promise<string[]>
  rendezvousDiscover(...keysAndArgs: Arg[]): Promise<string[]>
  rendezvousNamespaceStats(...keysAndArgs: Arg[]): Promise<Array<string | number>>
  rendezvousPrune(...keysAndArgs: Arg[]): Promise<string[]>
}
