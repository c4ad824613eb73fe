/**
 * Idempotent batch writes for redis:// (used by the collector): a batch's LPUSHes, its
 * error index SETs and its duplicate marker in ONE Lua script, so the marker exists
 * exactly when the points do. A batch whose marker is already there (a redelivery) writes
 * nothing. Redis runs a script atomically (no other command in between); a script that
 * fails half-way is not rolled back, so the key types are checked before anything is
 * written (the only way these commands fail on a running server).
 */

import { Script } from './resp';

/** Marker keys: `osprofiler_batch:<batch key>`, expiring after `markerTtlSeconds`. */
export const NAMESPACE_BATCH = 'osprofiler_batch:';

// KEYS[1] marker; KEYS[2..1+L] trace lists; KEYS[2+L..] error keys.
// ARGV[1] marker ttl (s); ARGV[2] list ttl (s, 0 = none); ARGV[3] L; per list: n, n values;
// then one value per error key.
// Key types are checked first: a command that would fail (WRONGTYPE) fails before the
// marker is set, so a refused batch leaves nothing behind and can be retried.
export const WRITE_ONCE_LUA = `
local L = tonumber(ARGV[3])
for k = 2, 1 + L do
  local t = redis.call('TYPE', KEYS[k]).ok
  if t ~= 'none' and t ~= 'list' then return redis.error_reply('WRONGTYPE ' .. KEYS[k] .. ' is a ' .. t .. ', not a list') end
end
for e = 2 + L, #KEYS do
  local t = redis.call('TYPE', KEYS[e]).ok
  if t ~= 'none' and t ~= 'string' then return redis.error_reply('WRONGTYPE ' .. KEYS[e] .. ' is a ' .. t .. ', not a string') end
end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) then return 0 end
local ttl = tonumber(ARGV[2])
local a = 4
for k = 1, L do
  local n = tonumber(ARGV[a])
  a = a + 1
  local i = 0
  while i < n do
    local j = math.min(i + 1000, n)
    redis.call('LPUSH', KEYS[1 + k], unpack(ARGV, a + i, a + j - 1))
    i = j
  end
  a = a + n
  if ttl > 0 then redis.call('EXPIRE', KEYS[1 + k], ttl) end
end
for e = 2 + L, #KEYS do
  if ttl > 0 then redis.call('SET', KEYS[e], ARGV[a], 'EX', ttl) else redis.call('SET', KEYS[e], ARGV[a]) end
  a = a + 1
end
return 1
`;

export const WRITE_ONCE = new Script(WRITE_ONCE_LUA);
