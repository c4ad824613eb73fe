/**
 * The `split` score of a trace whose lines came in more than one batch: its start, so that a
 * search walks `split` in the time order of its batches (./index-read.ts). The trace's
 * oldest line is the first one ever pushed (LPUSH, oldest first: the list's last element);
 * its timestamp is the trace's start unless a later batch holds an earlier point (another
 * host's clock), and every batch marking the trace sends its own earliest too (ZADD LT keeps
 * the least). Read after the batch was stored, on the write connection, only for split
 * traces (a round trip a batch that has them).
 */
import type { TraceDelta } from '@osprofiler/core/instrument';
import { timestampMicrosText } from '../timestamp';
import { NAMESPACE_OPT } from './keys';
import type { Reply, RespEncoder } from './resp';

/** A stored line's timestamp (Python's json.dumps: `"timestamp": "…"`). */
const TIMESTAMP = /"timestamp": ?"([^"\\]*)"/;

/** The `LINDEX <trace> -1` of each id: its oldest line. */
export function encodeOldest(enc: RespEncoder, ids: readonly string[]): void {
  for (const id of ids) enc.command(3).str('LINDEX').str(NAMESPACE_OPT + id).str('-1');
}

/**
 * Each id's score (µs text) from encodeOldest's replies: the least of its oldest line's
 * timestamp and its earliest in the batch (its `deltas`, a map an item); now when neither
 * can be read (later than its start: the walk still reads it before the records it holds).
 */
export function splitScores(replies: readonly Reply[], ids: readonly string[], deltas: readonly ReadonlyMap<string, TraceDelta>[]): string[] {
  const now = String(Date.now() * 1000);
  return ids.map((id, i) => {
    const line = replies[i];
    const m = typeof line === 'string' ? TIMESTAMP.exec(line) : null;
    const oldest = m === null ? undefined : timestampMicrosText(m[1]);
    let d: TraceDelta | undefined;
    for (let k = 0; k < deltas.length && d === undefined; k++) d = deltas[k].get(id);
    const own = d === undefined ? undefined : timestampMicrosText(d.first);
    if (oldest === undefined) return own ?? now;
    if (own === undefined) return oldest;
    return Number(own) < Number(oldest) ? own : oldest;
  });
}
