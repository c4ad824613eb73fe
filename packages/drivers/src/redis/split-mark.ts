/**
 * The `split` score of a trace whose lines came in more than one batch: its start, so that a
 * search walks `split` in the time order of its batches (./index-read.ts). The trace's
 * oldest line is the first one ever pushed (LPUSH, oldest first: the list's last element);
 * its timestamp is the trace's start unless a later batch holds an earlier point (another
 * host's clock), and every batch marking the trace sends its own earliest too (ZADD LT keeps
 * the least). Read on the reading connection after the batch was stored, only for split
 * traces (a round trip a batch that has them).
 */
import type { Redis as RedisClient } from 'ioredis';
import type { TraceDelta } from '@osprofiler/core/instrument';
import { timestampMicrosText } from '../timestamp';
import { NAMESPACE_OPT } from './keys';

/** A stored line's timestamp (Python's json.dumps: `"timestamp": "…"`). */
const TIMESTAMP = /"timestamp": ?"([^"\\]*)"/;

/**
 * Each id's score (µs text): the least of its oldest stored line's timestamp and its earliest
 * in the batch (its `deltas`, a map an item); now when neither can be read (later than its start:
 * the walk still reads it before the records it holds).
 */
export async function splitScores(client: RedisClient, ids: readonly string[], deltas: readonly ReadonlyMap<string, TraceDelta>[]): Promise<string[]> {
  const p = client.pipeline();
  for (const id of ids) p.lindex(NAMESPACE_OPT + id, -1);
  const replies = (await p.exec()) ?? [];
  const now = String(Date.now() * 1000);
  return ids.map((id, i) => {
    const [err, line] = replies[i] ?? [null, null];
    const m = err === null && typeof line === 'string' ? TIMESTAMP.exec(line) : null;
    const oldest = m === null ? undefined : timestampMicrosText(m[1]);
    let d: TraceDelta | undefined;
    for (let k = 0; k < deltas.length && d === undefined; k++) d = deltas[k].get(id);
    const own = d === undefined ? undefined : timestampMicrosText(d.first);
    if (oldest === undefined) return own ?? now;
    if (own === undefined) return oldest;
    return Number(own) < Number(oldest) ? own : oldest;
  });
}
