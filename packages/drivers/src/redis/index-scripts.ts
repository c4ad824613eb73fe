/**
 * The search index kept beside Python's layout, under `osprofiler_idx:` (a prefix Python
 * never reads: its `trace list` GETs every `osprofiler:*` key).
 *
 *   osprofiler_idx:sum               HASH  base_id → summary JSON (first/last event and their µs,
 *                                          points, error, services, projects, hosts, root, route,
 *                                          lower-cased text)
 *   osprofiler_idx:start             ZSET  every indexed trace, score = first event µs
 *   osprofiler_idx:dur:<k>           SET   traces whose duration (µs) is in bucket k (durBucket:
 *                                          exact below 32 µs, then 16 buckets a power of two)
 *   osprofiler_idx:in:error          SET   traces with an error
 *   osprofiler_idx:in:service:<s>, in:project:<p>, in:host:<h>, in:root:<name>   SET
 *   osprofiler_idx:keys              SET   the `in:` sets (for trimming)
 *
 * A batch's update, in the order sent (./search.ts addToBatch): `ZADD start NX` of every
 * trace, one SADD per `in:` set and per duration bucket with the batch's traces in it,
 * `SADD keys`, then the write script with, per trace, its id and summary only. What only
 * grows by union (the time order of a trace's first batch, set memberships) needs no
 * script; the script merges a trace already indexed (decoded, merged, encoded), moves it to
 * its merged duration's bucket (out of its former one and the batch's own) and sets its
 * start to the merged first event. The driver's own writes (not once.ts, whose batch must
 * be one transaction) send `MULTI; HMGET sum <ids>; HSET sum <id summary>…; EXEC` instead
 * of the script and, once the replies are in, merge each summary the HSET replaced with the
 * batch's delta themselves and write it with MERGED_SCRIPT (a compare-and-set: where another
 * writer changed it in between, the write script merges the replaced summary instead): a
 * trace's first batch, the usual case, costs Redis no Lua (index 24.5k → 14.3k instructions
 * a 10-point trace with one HSETNX a trace, 12.6k with two commands a batch), a merge no
 * cjson (280k → 121k a 10-point trace split over two batches; tools/bench/search.cjs
 * `redis-ir`). Redis's cost per indexed trace (callgrind,
 * tools/bench/search.cjs `redis-ir`): ~40k instructions when every field went through the
 * script (pushing its arguments into Lua cost 1.1k a string, then each again back into a
 * command), and a `dur` sorted set and an `x` hash of lower-cased text beside the summary.
 * The text is searched in the summary itself (its `x` is lower-cased when written); a
 * duration filter reads the buckets its range covers and checks each candidate's exact
 * duration in its summary (`fu`, `lu`), so an edge bucket's wider range costs no result.
 * A trace's root can change when a later batch brings a better one, so `in:root:` may
 * hold a trace under an earlier candidate too: a root filter checks the summary.
 * Members and fields do not expire: with `?ttl=` the write script now and then removes
 * traces that started more than the ttl ago from all of them.
 *
 * A store indexed by the previous layout (a `dur` sorted set and an `x` hash, no buckets):
 * its summaries and sets are read as they are; a duration filter also reads `dur` for the
 * traces it still holds; while `x` exists a text filter lower-cases every summary it reads
 * (their text was not lower-cased); a merge moves a trace from `dur` into its bucket, and
 * trimming removes traces from `dur` and `x` too, so both empty (and vanish) as the old
 * traces age out. Without `?ttl=` they stay until deleted by hand (`DEL osprofiler_idx:dur
 * osprofiler_idx:x`, once no reader of the old build is left; a text search is then
 * case-sensitive for the traces indexed before).
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
 * trace: id, summary JSON (`{id, f, l, fu, lu, p, e, s, pr, h, ro, rt, x}`, x lower-cased).
 * Sent after the batch's `ZADD start NX` and SADDs (see the layout above). A trace seen for
 * the first time is written as sent (no JSON decoded here); one already indexed is merged
 * with it, set to its merged start and moved to its merged duration's bucket.
 */
export const INDEX_SCRIPT = `${LUA_COMMON}${LUA_DUR}
local SUM, START, DUR = P .. 'sum', P .. 'start', P .. 'dur:'
local n = tonumber(ARGV[2])
local ids = {}
for k = 1, n do ids[k] = ARGV[1 + 2 * k] end
local cur = {}
for c = 1, n, 1000 do
  local got = redis.call('HMGET', SUM, unpack(ids, c, math.min(n, c + 999)))
  for k = 1, #got do cur[c + k - 1] = got[k] end
end
local sums = {}
local legacy
for k = 1, n do
  local id, j = ARGV[1 + 2 * k], ARGV[2 + 2 * k]
  if cur[k] then
    local m = cjson.decode(cur[k])
    local dl = cjson.decode(j)
    local was = bucket(tonumber(m.lu) - tonumber(m.fu))
    local sent = bucket(tonumber(dl.lu) - tonumber(dl.fu))
    if dl.f < m.f then m.f = dl.f; m.fu = dl.fu end
    if dl.l > m.l then m.l = dl.l; m.lu = dl.lu end
    m.p = m.p + dl.p
    if dl.e == 1 then m.e = 1 end
    addAll(m.s, dl.s); addAll(m.pr, dl.pr); addAll(m.h, dl.h)
    m.ro = better(m.ro, dl.ro)
    if not m.rt then m.rt = dl.rt end
    for line in string.gmatch(dl.x, '[^\\n]+') do m.x = addText(m.x, line) end
    j = cjson.encode(m)
    local now = bucket(tonumber(m.lu) - tonumber(m.fu))
    if was ~= now then redis.call('SREM', DUR .. was, id) end
    if sent ~= now then redis.call('SREM', DUR .. sent, id) end
    redis.call('SADD', DUR .. now, id)
    -- The batch's ZADD NX kept the score a former batch set.
    redis.call('ZADD', START, m.fu, id)
    if legacy == nil then legacy = redis.call('EXISTS', P .. 'dur') == 1 end
    if legacy then redis.call('ZREM', P .. 'dur', id) end
  end
  sums[2 * k - 1] = id; sums[2 * k] = j
end
for c = 1, #sums, 2000 do redis.call('HSET', SUM, unpack(sums, c, math.min(#sums, c + 1999))) end
if ARGV[1] ~= '' then
  local cutoff = '(' .. ARGV[1]
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
end
return n
`;

/**
 * KEYS: none. ARGV, 7 a trace: id, the summary its batch stored (HSET), the summary merged
 * by the driver with the one that HSET replaced, the merged start µs, the replaced and the
 * stored summaries' duration buckets, the merged one's. Writes the merged summary, bucket and
 * start only where the stored summary is still the batch's (else another writer merged in
 * between: 0 for that trace, the driver then merges through INDEX_SCRIPT). A merge decoded and
 * encoded by cjson in INDEX_SCRIPT cost Redis ~200k instructions a trace (callgrind).
 */
export const MERGED_SCRIPT = `
local P = '${IDX}'
local SUM, START, DUR = P .. 'sum', P .. 'start', P .. 'dur:'
local out = {}
local legacy
for k = 0, #ARGV / 7 - 1 do
  local a = 7 * k
  local id = ARGV[a + 1]
  if redis.call('HGET', SUM, id) == ARGV[a + 2] then
    local was, sent, now = ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
    redis.call('HSET', SUM, id, ARGV[a + 3])
    if was ~= now then redis.call('SREM', DUR .. was, id) end
    if sent ~= now then redis.call('SREM', DUR .. sent, id) end
    redis.call('SADD', DUR .. now, id)
    redis.call('ZADD', START, ARGV[a + 4], id)
    if legacy == nil then legacy = redis.call('EXISTS', P .. 'dur') == 1 end
    if legacy then redis.call('ZREM', P .. 'dur', id) end
    out[k + 1] = 1
  else
    out[k + 1] = 0
  end
end
return out
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
