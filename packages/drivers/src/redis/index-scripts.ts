/**
 * The search index kept beside Python's layout, under `osprofiler_idx:` (a prefix Python
 * never reads: its `trace list` GETs every `osprofiler:*` key). Maintained by Lua
 * scripts, so writers in several processes (apps, agents) merge atomically.
 *
 *   osprofiler_idx:sum               HASH  base_id → summary JSON (first/last event, points,
 *                                          error, services, projects, hosts, root, route, text)
 *   osprofiler_idx:x                 HASH  base_id → lower-cased search text (+ root name)
 *   osprofiler_idx:start             ZSET  every indexed trace, score = first event µs
 *   osprofiler_idx:dur               ZSET  every indexed trace, score = duration µs
 *   osprofiler_idx:error             ZSET  traces with an error
 *   osprofiler_idx:service:<s>, project:<p>, host:<h>, root:<name>   ZSET, same scores
 *   osprofiler_idx:keys              SET   the ZSETs above (for trimming)
 *
 * Two hashes for all traces, not a hash per trace: the write script then sends one HMGET,
 * one HSET per hash and one ZADD per sorted set for a whole batch (a key per trace took
 * ~13 Redis calls per trace). Members and fields do not expire: with `?ttl=` the write
 * script now and then removes traces that started more than the ttl ago from all of them.
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
 * KEYS: none (keys are derived from the base ids). ARGV[1] = trim cutoff µs ('' = no trim
 * now), then per trace: id, first µs, duration µs, summary JSON (`{id, f, l, fu, lu, p, e,
 * s, pr, h, ro, rt, x}`), lower-cased text, n, then n sorted-set keys it belongs to.
 * A trace seen for the first time is written as sent (no JSON decoded here); one already
 * indexed is merged with it (decoded, merged, encoded).
 */
export const INDEX_SCRIPT = `${LUA_COMMON}
local SUM, X = P .. 'sum', P .. 'x'
local recs, ids = {}, {}
local i = 2
while i <= #ARGV do
  local n = tonumber(ARGV[i + 5])
  local r = { id = ARGV[i], fu = ARGV[i + 1], d = ARGV[i + 2], j = ARGV[i + 3], x = ARGV[i + 4], sets = {} }
  for k = 1, n do r.sets[k] = ARGV[i + 5 + k] end
  i = i + 6 + n
  table.insert(recs, r); table.insert(ids, r.id)
end
local cur = {}
for c = 1, #ids, 1000 do
  local got = redis.call('HMGET', SUM, unpack(ids, c, math.min(#ids, c + 999)))
  for k = 1, #got do cur[c + k - 1] = got[k] end
end
local sums, texts, starts, durs, bySet, setKeys = {}, {}, {}, {}, {}, {}
local function push(t, a, b) t[#t + 1] = a; t[#t + 1] = b end
for k, r in ipairs(recs) do
  if cur[k] then
    -- Seen in an earlier batch: merge, and take sets, scores and text from the merge.
    local m = cjson.decode(cur[k])
    local d = cjson.decode(r.j)
    if d.f < m.f then m.f = d.f; m.fu = d.fu end
    if d.l > m.l then m.l = d.l; m.lu = d.lu end
    m.p = m.p + d.p
    if d.e == 1 then m.e = 1 end
    addAll(m.s, d.s); addAll(m.pr, d.pr); addAll(m.h, d.h)
    m.ro = better(m.ro, d.ro)
    if not m.rt then m.rt = d.rt end
    for line in string.gmatch(d.x, '[^\\n]+') do m.x = addText(m.x, line) end
    local rootName = ''
    if m.ro then rootName = m.ro.name end
    r.j = cjson.encode(m)
    r.fu = m.fu
    -- µs fit a double exactly; tostring would round them, so the duration stays small.
    r.d = string.format('%d', tonumber(m.lu) - tonumber(m.fu))
    r.x = string.lower(m.x .. '\\n' .. rootName)
    r.sets = {}
    if m.e == 1 then table.insert(r.sets, P .. 'error') end
    for _, v in ipairs(m.s) do table.insert(r.sets, P .. 'service:' .. v) end
    for _, v in ipairs(m.pr) do table.insert(r.sets, P .. 'project:' .. v) end
    for _, v in ipairs(m.h) do table.insert(r.sets, P .. 'host:' .. v) end
    if rootName ~= '' then table.insert(r.sets, P .. 'root:' .. rootName) end
  end
  push(sums, r.id, r.j); push(texts, r.id, r.x)
  push(starts, r.fu, r.id); push(durs, r.d, r.id)
  for _, z in ipairs(r.sets) do
    local t = bySet[z]
    if not t then t = {}; bySet[z] = t; table.insert(setKeys, z) end
    push(t, r.fu, r.id)
  end
end
local function each(cmd, key, t)
  for c = 1, #t, 2000 do redis.call(cmd, key, unpack(t, c, math.min(#t, c + 1999))) end
end
each('HSET', SUM, sums); each('HSET', X, texts)
each('ZADD', P .. 'start', starts); each('ZADD', P .. 'dur', durs)
for _, z in ipairs(setKeys) do each('ZADD', z, bySet[z]) end
if #setKeys > 0 then each('SADD', P .. 'keys', setKeys) end
if ARGV[1] ~= '' then
  local cutoff = '(' .. ARGV[1]
  -- The duration set and the hashes are keyed by id: remove exactly the traces that leave 'start'.
  local old = redis.call('ZRANGEBYSCORE', P .. 'start', '-inf', cutoff, 'LIMIT', 0, 50000)
  for c = 1, #old, 1000 do
    local part = { unpack(old, c, math.min(#old, c + 999)) }
    redis.call('ZREM', P .. 'dur', unpack(part))
    redis.call('HDEL', SUM, unpack(part))
    redis.call('HDEL', X, unpack(part))
  end
  redis.call('ZREMRANGEBYSCORE', P .. 'start', '-inf', cutoff)
  for _, z in ipairs(redis.call('SMEMBERS', P .. 'keys')) do
    redis.call('ZREMRANGEBYSCORE', z, '-inf', cutoff)
    if redis.call('ZCARD', z) == 0 then redis.call('SREM', P .. 'keys', z) end
  end
end
return #recs
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
  -- Error and root filters are sets above; duration and text are looked up by id.
  if q.minDur or q.maxDur then
    local d = redis.call('ZSCORE', P .. 'dur', id)
    if not d then return false end
    d = tonumber(d)
    if q.minDur and d < tonumber(q.minDur) then return false end
    if q.maxDur and d > tonumber(q.maxDur) then return false end
  end
  if q.text then
    local x = redis.call('HGET', P .. 'x', id)
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
      table.insert(out, redis.call('HGET', P .. 'sum', hits[i][2]))
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
      local j = passes(id, best) and redis.call('HGET', P .. 'sum', id)
      if j then
        table.insert(out, j)
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
