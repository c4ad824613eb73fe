/**
 * Layout 1 of the redis:// search index (sessions 10–18), now read and trimmed only: the
 * writer keeps layout 2 (./index-layout.ts). A store written by an earlier build still
 * holds, under `osprofiler_idx:`:
 *
 *   osprofiler_idx:sum               HASH  base_id → summary JSON (the record layout 2 keeps
 *                                          in its batch blobs)
 *   osprofiler_idx:start             ZSET  every indexed trace, score = first event µs
 *   osprofiler_idx:dur:<k>           SET   traces whose duration (µs) is in bucket k (durBucket)
 *   osprofiler_idx:in:error          SET   traces with an error
 *   osprofiler_idx:in:service:<s>, in:project:<p>, in:host:<h>, in:root:<name>   SET
 *   osprofiler_idx:keys              SET   the `in:` sets (for trimming)
 *
 * Its traces are searched by SEARCH_SCRIPT beside layout 2's (./index-read.ts) and, with
 * `?ttl=`, trimmed by TRIM_SCRIPT until they age out. Kept per trace (~8 set and sorted-set
 * members, a hash field and the writer's merges), it cost Redis ~20k and the writer ~28k
 * instructions a 10-point trace (session 18), about half of the agent's work; layout 2 costs
 * a few members a batch. Traces it indexed before its buckets (an older `dur` sorted set and
 * an `x` hash) are read as before: a duration filter also reads `dur`; while `x` exists a
 * text filter lower-cases every summary it reads; trimming removes traces from both.
 */
export const IDX = 'osprofiler_idx:';

/** Duration buckets: the highest (2^53 µs) is 16 × 49 + 16. */
export const DUR_BUCKET_MAX = 800;

/**
 * A duration's bucket (µs, an integer): itself below 32, else 16 × halvings + the value
 * halved (floored) into [16, 32): 16 buckets a power of two, each 1/32 to 1/16 of its
 * durations wide. The scripts' `bucket` computes the same (both halve exact integers).
 */
export function durBucket(us: number): number {
  if (!(us >= 32)) return us > 0 ? Math.floor(us) : 0;
  // An integer below 2^31 (~36 minutes): the halvings are its bits past the top five (the
  // loop below cost ~150 instructions a trace of search.cjs's, up to a second long).
  if (us < 2147483648 && (us | 0) === us) {
    const j = 27 - Math.clz32(us);
    return 16 * j + (us >> j);
  }
  let m = us;
  let j = 0;
  while (m >= 32) {
    m = Math.floor(m / 2);
    j++;
  }
  return 16 * j + m;
}

/** A summary's duration in µs from its `fu`, `lu` (quotes only delimit JSON strings, so the patterns find the keys); its bucket as durBucket. */
export const LUA_DUR = `
local function durOf(j)
  local fu = string.match(j, '"fu":"(%-?%d+)"')
  local lu = string.match(j, '"lu":"(%-?%d+)"')
  if not fu or not lu then return nil end
  return tonumber(lu) - tonumber(fu)
end
local function bucket(d)
  if d < 32 then if d > 0 then return math.floor(d) end return 0 end
  local j = 0
  while d >= 32 do d = math.floor(d / 2); j = j + 1 end
  return 16 * j + d
end
`;

/**
 * Trimming with `?ttl=` (KEYS none, ARGV[1] = cutoff µs): what started before the cutoff
 * leaves layout 2's sorted sets (`batches`, every `v:` key listed in `vkeys`, `split`; the
 * batch blobs expire by themselves), an emptied `v:` key leaves `vkeys`; and, while a store
 * holds layout 1's keys, their traces leave every one of them (at most 50,000 a call).
 */
export const TRIM_SCRIPT = `
local P = '${IDX}'
${LUA_DUR}
local cutoff = '(' .. ARGV[1]
redis.call('ZREMRANGEBYSCORE', P .. 'batches', '-inf', cutoff)
redis.call('ZREMRANGEBYSCORE', P .. 'split', '-inf', cutoff)
for _, k in ipairs(redis.call('SMEMBERS', P .. 'vkeys')) do
  redis.call('ZREMRANGEBYSCORE', k, '-inf', cutoff)
  if redis.call('EXISTS', k) == 0 then redis.call('SREM', P .. 'vkeys', k) end
end
local START, SUM, DUR = P .. 'start', P .. 'sum', P .. 'dur:'
if redis.call('EXISTS', START) == 0 then return 0 end
local setKeys = redis.call('SMEMBERS', P .. 'keys')
local oldDur = redis.call('EXISTS', P .. 'dur') == 1
local oldX = redis.call('EXISTS', P .. 'x') == 1
-- Keyed by id everywhere but 'start': remove exactly the traces that leave 'start'.
local old = redis.call('ZRANGEBYSCORE', START, '-inf', cutoff, 'LIMIT', 0, 50000)
for c = 1, #old, 1000 do
  local part = { unpack(old, c, math.min(#old, c + 999)) }
  local got = redis.call('HMGET', SUM, unpack(part))
  local byBucket = {}
  for k = 1, #part do
    local d = got[k] and durOf(got[k])
    if d then
      local b = DUR .. bucket(d)
      if not byBucket[b] then byBucket[b] = {} end
      table.insert(byBucket[b], part[k])
    end
  end
  for b, members in pairs(byBucket) do redis.call('SREM', b, unpack(members)) end
  redis.call('HDEL', SUM, unpack(part))
  redis.call('ZREM', START, unpack(part))
  if oldDur then redis.call('ZREM', P .. 'dur', unpack(part)) end
  if oldX then redis.call('HDEL', P .. 'x', unpack(part)) end
  for _, z in ipairs(setKeys) do redis.call('SREM', z, unpack(part)) end
end
for _, z in ipairs(setKeys) do
  if redis.call('SCARD', z) == 0 then redis.call('SREM', P .. 'keys', z) end
end
return #old
`;

/**
 * One page, newest first. ARGV[1] = JSON `{limit, bound, small, sets: [in: sets that must all
 * hold the trace], since, until (µs, or false), cAfterScore, cAfterId (cursor or false),
 * minDur, maxDur (µs or false), root (name or false), text (lower-cased or false), runs (the
 * text's runs of characters JSON never escapes)}`.
 * Candidates: when the smallest of the sets or the duration buckets holds at most \`bound\`
 * traces, all of them, ordered by start here; otherwise the time order ('start') is walked,
 * at most \`bound\` candidates per call. Returns {hits (summary JSON, score, id)...,
 * 'more'|'end'|'bound', lastScore, lastId}.
 */
export const SEARCH_SCRIPT = `
local P = '${IDX}'
${LUA_DUR}
local SUM = P .. 'sum'
local q = cjson.decode(ARGV[1])
local sets = q.sets
local maxS = '+inf'
if q['until'] then maxS = q['until'] end
if q.cAfterScore then
  if maxS == '+inf' or tonumber(q.cAfterScore) < tonumber(maxS) then maxS = q.cAfterScore end
end
local minS = '-inf'
if q.since then minS = q.since end
local minD, maxD = tonumber(q.minDur), tonumber(q.maxDur)
local out = {}

-- The text in a summary: its text (lower-cased when written, not in the previous layout)
-- and its root's name. A summary without each of the text's runs of characters JSON never
-- escapes (q.runs) cannot hold the text and is not decoded. Lower-casing every summary
-- instead, or one common run ('items' of '/items/4242') let through, made a text search's
-- 5,000 candidates take ~45 ms against 8.6 (tools/bench/search.cjs).
local legacyText = q.text and redis.call('EXISTS', P .. 'x') == 1
-- The root's name lower-cased (the summary's one key 'name'; quotes only delimit JSON
-- strings), false without a root, true when escaped (then the summary is decoded).
local function rootName(j)
  local at = string.find(j, '"name":"', 1, true)
  if not at then return false end
  local stop = string.find(j, '"', at + 8, true)
  if not stop then return false end
  if string.sub(j, stop - 1, stop - 1) == '\\\\' then return true end
  return string.lower(string.sub(j, at + 8, stop - 1))
end
local function mayHold(j)
  local hay = j
  if legacyText then hay = string.lower(j) end
  local name
  for _, run in ipairs(q.runs) do
    if not string.find(hay, run, 1, true) then
      if legacyText or not string.find(run, '[a-z]') then return false end
      if name == nil then name = rootName(j) end
      if name == true then return true end
      if not name or not string.find(name, run, 1, true) then return false end
    end
  end
  return true
end
local function hasText(j)
  if not mayHold(j) then return false end
  local ok, r = pcall(cjson.decode, j)
  if not ok or type(r) ~= 'table' then return false end
  local x, name = r.x, ''
  if type(x) ~= 'string' then x = '' end
  if type(r.ro) == 'table' and type(r.ro.name) == 'string' then name = r.ro.name end
  return string.find(string.lower(x .. '\\n' .. name), q.text, 1, true) ~= nil
end

-- The trace's summary when it passes every filter but the time order and the candidates'
-- own set ('skip'), else false. A root filter is checked here (see in:root: above).
local function passes(id, skip)
  for _, z in ipairs(sets) do
    if z ~= skip and redis.call('SISMEMBER', z, id) == 0 then return false end
  end
  local j = redis.call('HGET', SUM, id)
  -- In the time order without a summary: its write's script failed after the plain commands
  -- (or has not run yet). '' asks the client to build it from the trace's lines.
  if not j then return '' end
  if minD or maxD then
    local d = durOf(j)
    if not d or (minD and d < minD) or (maxD and d > maxD) then return false end
  end
  if q.text and not hasText(j) then return false end
  if q.root then
    local ok, r = pcall(cjson.decode, j)
    if not ok or type(r) ~= 'table' or type(r.ro) ~= 'table' or r.ro.name ~= q.root then return false end
  end
  return j
end

local function emit(j, score, id)
  table.insert(out, j); table.insert(out, score); table.insert(out, id)
end

-- The smallest candidate source.
local inRange = redis.call('ZCOUNT', P .. 'start', minS, maxS)
local src, srcN = false, inRange
for _, z in ipairs(sets) do
  local n = redis.call('SCARD', z)
  if n < srcN then src, srcN = z, n end
end
local buckets, legacyDur = {}, false
if minD or maxD then
  local n = 0
  local hi = ${DUR_BUCKET_MAX}
  if maxD then hi = bucket(maxD) end
  for k = bucket(minD or 0), hi do
    local c = redis.call('SCARD', P .. 'dur:' .. k)
    if c > 0 then table.insert(buckets, P .. 'dur:' .. k); n = n + c end
  end
  -- Traces the previous layout indexed, while it has some (see above).
  if redis.call('EXISTS', P .. 'dur') == 1 then
    legacyDur = true
    n = n + redis.call('ZCOUNT', P .. 'dur', q.minDur or '-inf', q.maxDur or '+inf')
  end
  if n < srcN then src, srcN = 'dur', n end
end

-- Reading n candidates whole costs ~n; walking the time order ~limit * inRange / n
-- candidates: read whole only while n * n stays below limit * inRange (a 5 % host of
-- 100,000 traces read whole took 112 ms; walked, ~1,000 candidates).
if src and srcN <= q.small and srcN * srcN <= (q.limit + 1) * inRange then
  local ids
  if src == 'dur' then
    ids = {}
    local seen = {}
    local function add(list) for _, id in ipairs(list) do if not seen[id] then seen[id] = true; table.insert(ids, id) end end end
    for _, b in ipairs(buckets) do add(redis.call('SMEMBERS', b)) end
    if legacyDur then add(redis.call('ZRANGEBYSCORE', P .. 'dur', q.minDur or '-inf', q.maxDur or '+inf')) end
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
    local j = passes(c[2], src)
    if j then
      if found == q.limit then
        table.insert(out, 'more'); table.insert(out, last[3]); table.insert(out, last[2])
        return out
      end
      emit(j, c[3], c[2]); found = found + 1; last = c
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
      local j = passes(id, nil)
      if j then emit(j, score, id); found = found + 1 end
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
