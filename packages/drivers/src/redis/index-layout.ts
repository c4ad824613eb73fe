/**
 * The redis:// search index, layout 2: one record blob a batch, postings a batch.
 *
 * Layout 1 (./index-scripts.ts) kept a trace in a summary hash, a time-ordered sorted set
 * and one set per service, project, host, root and duration bucket: ~8 members a trace,
 * ~20k of Redis's and ~28k of the writer's instructions a 10-point trace (session 18), about
 * half of the agent's work. Here a batch's traces cost Redis one blob and a few sorted-set
 * members a batch (one a distinct value), not a trace; summaries of a trace split over
 * batches are merged when read.
 *
 * Keys, all under IDX (`osprofiler_idx:`, a prefix Python never reads):
 *
 *   b:<member>        STRING  the batch's records, one summary JSON a trace (search.ts
 *                             summaryText: `{"id","f","l","fu","lu","p","e","s","pr","h",
 *                             "ro","rt","x"}`), joined by "\n" (JSON never holds a raw line
 *                             break); EX ttl with `?ttl=`
 *   i:<member>        STRING  the batch's base_ids joined by " " (the fallback scan's
 *                             "is this trace indexed?" without reading records), an id
 *                             holding a space or a backslash escaped (idInBlob: `\` as
 *                             `\\`, a space as `\s`; before session 21 written as it is, so
 *                             one holding a space read as two ids); EX ttl
 *   batches           ZSET    every batch, score = its records' latest start (µs)
 *   v:<kind>:<value>  ZSET    the batches holding a record with that value, same score:
 *                             kinds service, project, host, root (the record's root name),
 *                             dur (durClass of the record's duration); and `v:error` (no
 *                             value) for a record with an error
 *   vkeys             SET     every v: key (for trimming)
 *   meta              ZSET    member `span`: the largest (latest − earliest start) of any
 *                             batch, µs (ZADD GT), so a reader resuming at a start T knows
 *                             that batches scored above T + span hold no record at or
 *                             before T
 *   split             ZSET    base_ids of traces whose lines were pushed by more than one
 *                             batch (the writer's LPUSH answered more lines than it pushed),
 *                             score = the trace's start (µs, ./split-mark.ts; ZADD LT; when
 *                             marked, before session 20): their records are partial, the
 *                             reader walks them by score beside `batches` and builds each
 *                             summary from its lines
 *
 * A batch member is `<earliest start µs>:<writer>:<seq>`: its earliest start readable
 * without the blob (memberEarliest), unique across writers (writer: random per driver).
 *
 * Trimming (`?ttl=`, at most once a minute per writer): blobs expire by themselves; members
 * scored before now − ttl leave `batches`, each v: key (empty keys leave `vkeys`) and
 * `split`. A store still holding layout 1's keys (`sum`, `start`, `in:*`, `dur:*`) is read
 * beside layout 2 and trimmed as before until they age out.
 */
import { IDX, durBucket } from './index-scripts';

export { IDX };

export const BLOB = IDX + 'b:';
export const IDS = IDX + 'i:';
export const BATCHES = IDX + 'batches';
export const POSTING = IDX + 'v:';
export const ERROR_POSTING = POSTING + 'error';
export const POSTING_KEYS = IDX + 'vkeys';
export const META = IDX + 'meta';
export const SPAN = 'span';
export const SPLIT = IDX + 'split';

export type PostingKind = 'service' | 'project' | 'host' | 'root' | 'dur';

export function postingKey(kind: PostingKind, value: string): string {
  return POSTING + kind + ':' + value;
}

/** Highest duration class (durBucket's highest, 800, is 16 × 50). */
export const DUR_CLASS_MAX = 50;

/** A duration's class (µs): its durBucket's power of two, 0..50 — each class one power of two wide (the exact duration is checked in the record). */
export function durClass(us: number): number {
  return durBucket(us) >> 4;
}

/** The batch member for a batch whose earliest record starts at `earliestUs` (an integer's text). */
export function batchMember(earliestUs: string, writer: string, seq: number): string {
  return earliestUs + ':' + writer + ':' + seq.toString(36);
}

/** The earliest start (µs) of a batch member's records, NaN when not a member of this layout. */
export function memberEarliest(member: string): number {
  const k = member.indexOf(':');
  return k <= 0 ? NaN : Number(member.slice(0, k));
}

/**
 * A base_id as the ids blob (`i:<member>`) holds it: as it is, unless it holds a space or a
 * backslash (then `\` as `\\` and a space as `\s`, so the blob's words are its ids).
 */
export function idInBlob(id: string): string {
  return id.indexOf(' ') < 0 && id.indexOf('\\') < 0 ? id : id.replace(/[\\ ]/g, (c) => (c === ' ' ? '\\s' : '\\\\'));
}

/**
 * The ids an ids blob holds: each word, and a word holding a backslash also read as
 * idInBlob escaped it. A blob written before ids were escaped holds each as it is: its
 * words read as before (an id holding a backslash as itself, one holding a space not).
 */
export function idsOfBlob(text: string): string[] {
  const out: string[] = [];
  for (const w of text.split(' ')) {
    out.push(w);
    if (w.includes('\\')) {
      const id = w.replace(/\\(s|\\)/g, (_, c: string) => (c === 's' ? ' ' : '\\'));
      if (id !== w) out.push(id);
    }
  }
  return out;
}
