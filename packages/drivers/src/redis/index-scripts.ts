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
 *   osprofiler_idx:in:error          SET   traces with an error
 *   osprofiler_idx:in:service:<s>, in:project:<p>, in:host:<h>, in:root:<name>   SET
 *   osprofiler_idx:keys              SET   the `in:` sets (for trimming)
 *
 * Two hashes for all traces, not a key per trace, and the writer groups a batch's traces
 * per `in:` set: the write script makes one HMGET, one HSET per hash, one ZADD per sorted
 * set and one SADD per `in:` set for a whole batch (a key per trace took ~13 Redis calls
 * per trace). The `in:` sets are plain sets, not sorted sets: SADD cost a quarter of the
 * instructions of ZADD into the many small sorted sets (callgrind); a search orders a
 * small set's members by their start, and walks the time order for a large one.
 * A trace's root can change when a later batch brings a better one, so `in:root:` may
 * hold a trace under an earlier candidate too: a root filter checks the summary.
 * Members and fields do not expire: with `?ttl=` the write script now and then removes
 * traces that started more than the ttl ago from all of them.
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
 * KEYS: none. ARGV[1] = trim cutoff µs ('' = no trim now), ARGV[2] = n traces, then per
 * trace: id, first µs, duration µs, summary JSON (`{id, f, l, fu, lu, p, e, s, pr, h, ro,
 * rt, x}`), lower-cased text; then groups: an `in:` set key, a count, that many ids.
 * A trace seen for the first time is written as sent (no JSON decoded here); one already
 * indexed is merged with it (decoded, merged, encoded). A merge adds no set: the old
 * record's sets hold the trace already and the batch's are in the groups.
 */
export const INDEX_SCRIPT = `${LUA_COMMON}
local SUM, X = P .. 'sum', P .. 'x'
local n = tonumber(ARGV[2])
local ids = {}
for k = 1, n do ids[k] = ARGV[3 + (k - 1) * 5] end
local cur = {}
for c = 1, n, 1000 do
  local got = redis.call('HMGET', SUM, unpack(ids, c, math.min(n, c + 999)))
  for k = 1, #got do cur[c + k - 1] = got[k] end
end
local sums, texts, starts, durs = {}, {}, {}, {}
for k = 1, n do
  local b = 3 + (k - 1) * 5
  local id, fu, d, j, x = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  if cur[k] then
    local m = cjson.decode(cur[k])
    local dl = cjson.decode(j)
    if dl.f < m.f then m.f = dl.f; m.fu = dl.fu end
    if dl.l > m.l then m.l = dl.l; m.lu = dl.lu end
    m.p = m.p + dl.p
    if dl.e == 1 then m.e = 1 end
    addAll(m.s, dl.s); addAll(m.pr, dl.pr); addAll(m.h, dl.h)
    m.ro = better(m.ro, dl.ro)
    if not m.rt then m.rt = dl.rt end
    for line in string.gmatch(dl.x, '[^\\n]+') do m.x = addText(m.x, line) end
    local rootName = ''
    if m.ro then rootName = m.ro.name end
    j = cjson.encode(m)
    fu = m.fu
    -- µs fit a double exactly; tostring would round them, so only the (small) duration is computed here.
    d = string.format('%d', tonumber(m.lu) - tonumber(m.fu))
    x = string.lower(m.x .. '\\n' .. rootName)
  end
  local t = 2 * k
  sums[t - 1] = id; sums[t] = j
  texts[t - 1] = id; texts[t] = x
  starts[t - 1] = fu; starts[t] = id
  durs[t - 1] = d; durs[t] = id
end
local function each(cmd, key, t)
  for c = 1, #t, 2000 do redis.call(cmd, key, unpack(t, c, math.min(#t, c + 1999))) end
end
each('HSET', SUM, sums); each('HSET', X, texts)
each('ZADD', P .. 'start', starts); each('ZADD', P .. 'dur', durs)
local g = 3 + n * 5
local keys = {}
while g <= #ARGV do
  local c = tonumber(ARGV[g + 1])
  for a = g + 2, g + 1 + c, 2000 do redis.call('SADD', ARGV[g], unpack(ARGV, a, math.min(g + 1 + c, a + 1999))) end
  table.insert(keys, ARGV[g])
  g = g + 2 + c
end
if #keys > 0 then redis.call('SADD', P .. 'keys', unpack(keys)) end
if ARGV[1] ~= '' then
  local cutoff = '(' .. ARGV[1]
  local setKeys = redis.call('SMEMBERS', P .. 'keys')
  -- Keyed by id everywhere but 'start': remove exactly the traces that leave 'start'.
  local old = redis.call('ZRANGEBYSCORE', P .. 'start', '-inf', cutoff, 'LIMIT', 0, 50000)
  for c = 1, #old, 1000 do
    local part = { unpack(old, c, math.min(#old, c + 999)) }
    redis.call('ZREM', P .. 'dur', unpack(part))
    redis.call('HDEL', SUM, unpack(part))
    redis.call('HDEL', X, unpack(part))
    for _, z in ipairs(setKeys) do redis.call('SREM', z, unpack(part)) end
  end
  redis.call('ZREMRANGEBYSCORE', P .. 'start', '-inf', cutoff)
  for _, z in ipairs(setKeys) do
    if redis.call('SCARD', z) == 0 then redis.call('SREM', P .. 'keys', z) end
  end
end
return n
`;

/**
 * One page, newest first. ARGV[1] = JSON `{limit, bound, small, sets: [in: sets that must all
 * hold the trace], since, until (µs, or false), cAfterScore, cAfterId (cursor or false),
 * minDur, maxDur (µs or false), root (name or false), text (lower-cased or false)}`.
 * Candidates: when the smallest of the sets or the duration range holds at most \`bound\`
 * traces, all of them, ordered by start here; otherwise the time order ('start') is walked,
 * at most \`bound\` candidates per call. Returns {hits (summary JSON, score, id)...,
 * 'more'|'end'|'bound', lastScore, lastId}.
 */
export const SEARCH_SCRIPT = `
local P = '${IDX}'
local q = cjson.decode(ARGV[1])
local sets = q.sets
local maxS = '+inf'
if q['until'] then maxS = q['until'] end
if q.cAfterScore then
  if maxS == '+inf' or tonumber(q.cAfterScore) < tonumber(maxS) then maxS = q.cAfterScore end
end
local minS = '-inf'
if q.since then minS = q.since end
local out = {}

-- Passes every filter but the time order and the candidates' own source ('skip')?
local function passes(id, skip)
  for _, z in ipairs(sets) do
    if z ~= skip and redis.call('SISMEMBER', z, id) == 0 then return false end
  end
  if (q.minDur or q.maxDur) and skip ~= 'dur' then
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

-- The page's summaries; a root filter is checked here (see in:root: above).
local function emit(id, score)
  local j = redis.call('HGET', P .. 'sum', id)
  if not j then return false end
  if q.root then
    local r = cjson.decode(j)
    if not r.ro or r.ro.name ~= q.root then return false end
  end
  table.insert(out, j); table.insert(out, score); table.insert(out, id)
  return true
end

-- The smallest candidate source.
local inRange = redis.call('ZCOUNT', P .. 'start', minS, maxS)
local src, srcN = false, inRange
for _, z in ipairs(sets) do
  local n = redis.call('SCARD', z)
  if n < srcN then src, srcN = z, n end
end
if q.minDur or q.maxDur then
  local n = redis.call('ZCOUNT', P .. 'dur', q.minDur or '-inf', q.maxDur or '+inf')
  if n < srcN then src, srcN = 'dur', n end
end

-- Reading n candidates whole costs ~n; walking the time order ~limit * inRange / n
-- candidates: read whole only while n * n stays below limit * inRange (a 5 % host of
-- 100,000 traces read whole took 112 ms; walked, ~1,000 candidates).
if src and srcN <= q.small and srcN * srcN <= (q.limit + 1) * inRange then
  local ids
  if src == 'dur' then ids = redis.call('ZRANGEBYSCORE', P .. 'dur', q.minDur or '-inf', q.maxDur or '+inf')
  else ids = redis.call('SMEMBERS', src) end
  local scores = {}
  for c = 1, #ids, 1000 do
    local got = redis.call('ZMSCORE', P .. 'start', unpack(ids, c, math.min(#ids, c + 999)))
    for k = 1, #got do scores[c + k - 1] = got[k] end
  end
  local lo = tonumber(minS) or -math.huge
  local hi = tonumber(maxS) or math.huge
  local cands = {}
  for k, id in ipairs(ids) do
    local sc = scores[k]
    if sc then
      local v = tonumber(sc)
      local after = true
      if q.cAfterScore then
        local c = tonumber(q.cAfterScore)
        after = v < c or (v == c and id < q.cAfterId)
      end
      if after and v >= lo and v <= hi then table.insert(cands, { v, id, sc }) end
    end
  end
  table.sort(cands, function(a, b) if a[1] ~= b[1] then return a[1] > b[1] end return a[2] > b[2] end)
  local found, last = 0, false
  for _, c in ipairs(cands) do
    if passes(c[2], src) then
      if found == q.limit then
        table.insert(out, 'more'); table.insert(out, last[3]); table.insert(out, last[2])
        return out
      end
      if emit(c[2], c[3]) then found = found + 1; last = c end
    end
  end
  table.insert(out, 'end'); table.insert(out, ''); table.insert(out, '')
  return out
end

local found, scanned, offset = 0, 0, 0
local CHUNK = 256
local lastScore, lastId = false, false
local status = 'end'
while true do
  local chunk = redis.call('ZREVRANGEBYSCORE', P .. 'start', maxS, minS, 'WITHSCORES', 'LIMIT', offset, CHUNK)
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
      if passes(id, nil) and emit(id, score) then found = found + 1 end
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
