/**
 * Idempotent batch writes for redis:// (used by the collector): each batch is one
 * transaction on the driver's write connection, sent in one piece with the batches
 * around it (./writer.ts writes a Buffer at a time, so nothing comes in between):
 *
 *   WATCH marker
 *   EVAL ONCE_CHECK_LUA   (marker there → touch it, 1; a key of the wrong type → touch, error; else 0)
 *   MULTI
 *   SET marker 1 EX ttl, LPUSH/EXPIRE per trace, SET per error key, the search index's
 *   ZADD/SADDs and EVALSHA
 *   EXEC
 *
 * A redelivered batch finds its marker, the check touches it, and the EXEC that follows
 * does nothing (a watched key changed). Otherwise the marker, the lines and the index
 * update are written together or not at all; a batch another connection wrote between
 * the check and the EXEC (two collectors around a lease handover) also aborts, and is
 * checked again. The lines are plain LPUSH arguments, as on the direct path: the former
 * write-once Lua script took every line through Lua (ARGV → Lua strings → redis.call),
 * which cost redis-server 2.0–2.3 µs a point against 1.0–1.2 for the direct path's LPUSHes.
 *
 * The key types are checked before anything is written: a command failing inside EXEC
 * (WRONGTYPE, the only way these fail on a running server) would not undo the others, so a
 * batch the store refuses leaves nothing behind and can be retried (or dead-lettered).
 * A key changing type between the check and the EXEC (well under a millisecond) is not
 * guarded.
 */

import type { Reply } from './resp';
import { RedisReplyError } from './resp';

/** Marker keys: `osprofiler_batch:<batch key>`, expiring after `markerTtlSeconds`. */
export const NAMESPACE_BATCH = 'osprofiler_batch:';

// KEYS[1] marker (WATCHed); KEYS[2..1+L] trace lists; KEYS[2+L..] error keys.
// ARGV[1] L; ARGV[2] marker ttl (s). Sent as EVAL (not EVALSHA): a NOSCRIPT here would let
// the EXEC run unchecked. Touching the watched marker (EXPIRE, or SET + DEL) is what makes
// the EXEC after it do nothing; SET + DEL leave no marker behind.
export const ONCE_CHECK_LUA = `
if redis.call('EXPIRE', KEYS[1], ARGV[2]) == 1 then return 1 end
local L = tonumber(ARGV[1])
for k = 2, #KEYS do
  local want = 'string'
  if k <= 1 + L then want = 'list' end
  local t = redis.call('TYPE', KEYS[k]).ok
  if t ~= 'none' and t ~= want then
    redis.call('SET', KEYS[1], '0')
    redis.call('DEL', KEYS[1])
    return redis.error_reply('WRONGTYPE ' .. KEYS[k] .. ' is a ' .. t .. ', not a ' .. want)
  end
end
return 0
`;

/** Where one batch's transaction sits in the replies: WATCH, check, MULTI, `queued` × QUEUED, EXEC. */
export interface OnceSlot {
  /** The batch's position in the call's items. */
  readonly item: number;
  /** Its WATCH's reply index. */
  readonly at: number;
  /** Commands between MULTI and EXEC. */
  readonly queued: number;
  /** Index of its search-index EVALSHA among the queued commands, or -1. */
  readonly indexAt: number;
}

/** What became of one batch's transaction. */
export type OnceOutcome =
  | { kind: 'written'; indexLost: boolean }
  | { kind: 'duplicate' }
  /** Another connection touched the marker between check and EXEC: check again. */
  | { kind: 'raced' }
  | { kind: 'failed'; error: RedisReplyError };

export function onceOutcome(replies: readonly Reply[], slot: OnceSlot): OnceOutcome {
  const check = replies[slot.at + 1];
  const exec = replies[slot.at + 3 + slot.queued];
  if (check instanceof RedisReplyError) return { kind: 'failed', error: check };
  if (check === 1) return { kind: 'duplicate' };
  if (exec === null) return { kind: 'raced' };
  // EXECABORT (a command refused when queued): nothing was written.
  if (exec instanceof RedisReplyError) return { kind: 'failed', error: exec };
  if (!Array.isArray(exec)) return { kind: 'failed', error: new RedisReplyError(`unexpected EXEC reply ${String(exec)}`) };
  let indexLost = false;
  for (let i = 0; i < exec.length; i++) {
    const r = exec[i];
    if (!(r instanceof RedisReplyError)) continue;
    // The index script unknown (SCRIPT FLUSH since connect): the points and the marker are
    // written; the index is sent again on its own (NOSCRIPT → SCRIPT LOAD, ./writer.ts).
    if (i === slot.indexAt && r.message.startsWith('NOSCRIPT')) indexLost = true;
    else return { kind: 'failed', error: r };
  }
  return { kind: 'written', indexLost };
}
