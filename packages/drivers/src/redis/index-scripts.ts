/**
 * The search index kept beside Python's layout, under `osprofiler_idx:` (a prefix Python
 * never reads: its `trace list` GETs every `osprofiler:*` key). Maintained by Lua
 * scripts, so writers in several processes (apps, agents) merge atomically.
 *
 *   osprofiler_idx:t:<base_id>       HASH  j = summary JSON, f/l = first/last event µs,
 *                                          e = 1 on error, r = root name, x = lower-cased text
 *   osprofiler_idx:start             ZSET  every indexed trace, score = first event µs
 *   osprofiler_idx:dur               ZSET  every indexed trace, score = duration µs
 *   osprofiler_idx:error             ZSET  traces with an error
 *   osprofiler_idx:service:<s>, project:<p>, host:<h>, root:<name>   ZSET, same scores
 *   osprofiler_idx:keys              SET   the ZSETs above (for trimming)
 *
 * Sorted-set members do not expire: with `?ttl=` the summary hash expires with the trace
 * and the write script trims members older than the ttl from every ZSET now and then.
 */
export const IDX = 'osprofiler_idx:';

const LUA_COMMON = `
local P = '${IDX}'
local MAXTEXT = 4096
local function has(list, v) for _, w in ipairs(list) do if w == v then return true end end return false end
local function addAll(dst, src) for _, v in ipairs(src) do if not has(dst, v) then table.insert(dst, v) end end end
local function better(a, b)
  if not a then return b end
  if not b then return a end
  if a.top ~= b.top then if a.top then return a end return b end
  if b.ts < a.ts then return b end
  return a
end
local function addText(t, line)
  if line == nil or line == '' or #t >= MAXTEXT or string.find(t, line, 1, true) then return t end
  if t == '' then t = line else t = t .. '\\n' .. line end
  if #t > MAXTEXT then t = string.sub(t, 1, MAXTEXT) end
  return t
end
`;

/**
 * KEYS: none (keys are derived from the base ids). ARGV[1] = ttl seconds (0 = none),
 * ARGV[2] = trim cutoff µs ('' = no trim now), ARGV[3] = JSON array of deltas
 * `{id, f, l, fu, lu, p, e, s, pr, h, ro, rt, x}`.
 */
export const INDEX_SCRIPT = `${LUA_COMMON}
local ttl = tonumber(ARGV[1])
local deltas = cjson.decode(ARGV[3])
for _, d in ipairs(deltas) do
  local key = P .. 't:' .. d.id
  local cur = redis.call('HGET', key, 'j')
  local r
  if cur then
    r = cjson.decode(cur)
    if d.f < r.f then r.f = d.f; r.fu = d.fu end
    if d.l > r.l then r.l = d.l; r.lu = d.lu end
    r.p = r.p + d.p
    if d.e == 1 then r.e = 1 end
    addAll(r.s, d.s); addAll(r.pr, d.pr); addAll(r.h, d.h)
    r.ro = better(r.ro, d.ro)
    if not r.rt then r.rt = d.rt end
    for line in string.gmatch(d.x, '[^\\n]+') do r.x = addText(r.x, line) end
  else
    r = d
  end
  local rootName = ''
  if r.ro then rootName = r.ro.name end
  redis.call('HSET', key, 'j', cjson.encode(r), 'f', r.fu, 'l', r.lu, 'e', r.e, 'r', rootName, 'x', string.lower(r.x .. '\\n' .. rootName))
  if ttl > 0 then redis.call('EXPIRE', key, ttl) end
  local score = r.fu
  redis.call('ZADD', P .. 'start', score, d.id)
  redis.call('ZADD', P .. 'dur', tonumber(r.lu) - tonumber(r.fu), d.id)
  local sets = {}
  if r.e == 1 then table.insert(sets, P .. 'error') end
  for _, v in ipairs(r.s) do table.insert(sets, P .. 'service:' .. v) end
  for _, v in ipairs(r.pr) do table.insert(sets, P .. 'project:' .. v) end
  for _, v in ipairs(r.h) do table.insert(sets, P .. 'host:' .. v) end
  if rootName ~= '' then table.insert(sets, P .. 'root:' .. rootName) end
  for _, z in ipairs(sets) do
    if redis.call('ZADD', z, score, d.id) == 1 then redis.call('SADD', P .. 'keys', z) end
  end
end
if ARGV[2] ~= '' then
  local cutoff = '(' .. ARGV[2]
  -- The duration set is scored by duration: remove exactly the members that leave 'start'.
  local old = redis.call('ZRANGEBYSCORE', P .. 'start', '-inf', cutoff, 'LIMIT', 0, 50000)
  for i = 1, #old, 1000 do
    redis.call('ZREM', P .. 'dur', unpack(old, i, math.min(#old, i + 999)))
  end
  redis.call('ZREMRANGEBYSCORE', P .. 'start', '-inf', cutoff)
  for _, z in ipairs(redis.call('SMEMBERS', P .. 'keys')) do
    redis.call('ZREMRANGEBYSCORE', z, '-inf', cutoff)
    if redis.call('ZCARD', z) == 0 then redis.call('SREM', P .. 'keys', z) end
  end
end
return #deltas
`;

/**
 * One page, newest first. ARGV[1] = JSON `{limit, bound, sets: [zset keys that must all
 * hold the trace], since, until (µs, or false), cAfterScore, cAfterId (cursor or false),
 * minDur, maxDur (µs or false), err (bool), root (name or false), text (lower-cased or false)}`.
 * Candidates come from the smallest of the sets; the others are checked with ZSCORE.
 * Returns {hits (summary JSON, score, id)..., 'more'|'end'|'bound', lastScore, lastId}.
 */
export const SEARCH_SCRIPT = `
local P = '${IDX}'
local q = cjson.decode(ARGV[1])
local sets = q.sets
if #sets == 0 then sets = { P .. 'start' } end
local best, bestN = sets[1], -1
for _, z in ipairs(sets) do
  local n = redis.call('ZCARD', z)
  if bestN < 0 or n < bestN then best, bestN = z, n end
end
local maxS = '+inf'
if q['until'] then maxS = q['until'] end
if q.cAfterScore then
  if maxS == '+inf' or tonumber(q.cAfterScore) < tonumber(maxS) then maxS = q.cAfterScore end
end
local minS = '-inf'
if q.since then minS = q.since end
local out = {}
local found = 0
local scanned = 0
local offset = 0
local CHUNK = 256

-- Passes every filter but the time order (sets other than 'skip', error, root, duration, text)?
local function passes(id, skip)
  for _, z in ipairs(sets) do
    if z ~= skip and not redis.call('ZSCORE', z, id) then return false end
  end
  local h = redis.call('HMGET', P .. 't:' .. id, 'f', 'l', 'e', 'r')
  if not h[1] then return false end
  if q.err and h[3] ~= '1' then return false end
  if q.root and h[4] ~= q.root then return false end
  if q.minDur or q.maxDur then
    local d = tonumber(h[2]) - tonumber(h[1])
    if q.minDur and d < tonumber(q.minDur) then return false end
    if q.maxDur and d > tonumber(q.maxDur) then return false end
  end
  if q.text then
    local x = redis.call('HGET', P .. 't:' .. id, 'x')
    if not x or not string.find(x, q.text, 1, true) then return false end
  end
  return true
end

-- Few traces within the duration bounds: take them from the duration set and order them
-- by start here, instead of walking the time order past many that do not match.
if q.minDur or q.maxDur then
  local dmin = q.minDur or '-inf'
  local dmax = q.maxDur or '+inf'
  if redis.call('ZCOUNT', P .. 'dur', dmin, dmax) <= q.bound then
    local ids = redis.call('ZRANGEBYSCORE', P .. 'dur', dmin, dmax)
    local hits = {}
    local lo = tonumber(minS) or -math.huge
    local hi = tonumber(maxS) or math.huge
    for _, id in ipairs(ids) do
      local sc = redis.call('ZSCORE', P .. 'start', id)
      if sc then
        local n = tonumber(sc)
        local after = true
        if q.cAfterScore then
          local c = tonumber(q.cAfterScore)
          after = n < c or (n == c and id < q.cAfterId)
        end
        if after and n >= lo and n <= hi and passes(id, nil) then table.insert(hits, { n, id, sc }) end
      end
    end
    table.sort(hits, function(a, b) if a[1] ~= b[1] then return a[1] > b[1] end return a[2] > b[2] end)
    local last = false
    for i = 1, math.min(#hits, q.limit) do
      table.insert(out, redis.call('HGET', P .. 't:' .. hits[i][2], 'j'))
      table.insert(out, hits[i][3])
      table.insert(out, hits[i][2])
      last = hits[i]
    end
    if #hits > q.limit then
      table.insert(out, 'more'); table.insert(out, last[3]); table.insert(out, last[2])
    else
      table.insert(out, 'end'); table.insert(out, ''); table.insert(out, '')
    end
    return out
  end
end

local lastScore, lastId = false, false
local status = 'end'
while true do
  local chunk = redis.call('ZREVRANGEBYSCORE', best, maxS, minS, 'WITHSCORES', 'LIMIT', offset, CHUNK)
  if #chunk == 0 then break end
  offset = offset + #chunk / 2
  for i = 1, #chunk, 2 do
    local id, score = chunk[i], chunk[i + 1]
    local skip = false
    if q.cAfterScore and tonumber(score) == tonumber(q.cAfterScore) and id >= q.cAfterId then skip = true end
    if not skip then
      if found >= q.limit then status = 'more'; break end
      if scanned >= q.bound then status = 'bound'; break end
      scanned = scanned + 1
      lastScore, lastId = score, id
      local ok = passes(id, best)
      if ok then
        table.insert(out, redis.call('HGET', P .. 't:' .. id, 'j'))
        table.insert(out, score)
        table.insert(out, id)
        found = found + 1
      end
    end
  end
  if status ~= 'end' then break end
  if #chunk < CHUNK * 2 then break end
end
table.insert(out, status)
table.insert(out, lastScore or '')
table.insert(out, lastId or '')
return out
`;
