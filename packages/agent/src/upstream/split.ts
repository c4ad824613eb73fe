/**
 * The upstream split of an 'L' body (lines without an index: what apps send unless the
 * agent runs --client-index) by its lines' places, without decoding the points: per line
 * its LF, and its base_id and timestamp reached by hopping over the head's fixed keys, the
 * same fields `DecodedLines` finds with its searches. A trace's lines come together, so
 * they are one run of bytes: a part's body is its runs copied whole, not line by line.
 *
 * It answers only for bodies `DecodedLines` takes in the wire's own layout (PROTOCOL.md):
 * anything else (an 'I' body, a backslash in a line's head, keys out of order, a count
 * that does not match) returns null, and the caller splits by decoding, which then
 * decides as before. Where it answers, its parts are byte for byte the decoding split's
 * (test: upstream-split.test.ts, on the bench's lines and on mutated ones).
 *
 * Why: the decoding split read each record as ONE latin1 string; a record of a few
 * thousand points (the agent's writes) is past V8's regular object size, and such a string
 * is made in large-object space on fresh pages: `toString` alone cost ~1.5–1.9 µs a point
 * (kernel time, invisible to instruction counts) against ~0.02 µs for strings under 128
 * KiB. This split reads 64 KiB windows. It also makes no Buffer view, sliced strings or
 * index entry per line and copies a trace's lines in one piece: 4.7k instructions a point
 * against 7.4k for the decoding split (callgrind, 2,000-point records, split alone).
 */
import { createHash } from 'node:crypto';
import { lineProject, partitionOf, pointsSubject } from './contract';
import * as layout from '../layout';

// Module-local copies (an imported binding is a property load on every use: lines.ts).
const { BASE_KEY, CLOSE_BRACE, LF, LINE_START, MAGIC, PARENT_KEY, TIMESTAMP_KEY, TRACE_KEY, windowEnd } = layout;

export interface SplitPart {
  subject: string;
  body: Buffer;
  count: number;
  id: string;
  indexed: boolean;
}

/** One part being built: its runs' [start, end) in the text (LFs included), line count, error points' places. */
interface Group {
  subject: string;
  runs: number[];
  count: number;
  bytes: number;
  errors: number[];
}

/**
 * The parts of an 'L' body, as `splitBatch` makes them by decoding; null when this path
 * does not answer for the body (then decode it).
 */
export function splitLineRuns(body: Buffer, count: number, o: { subjectPrefix: string; partitions: number; agentId: string }, key: string | undefined): SplitPart[] | null {
  const len = body.length;
  if (len < 5 || body[0] !== MAGIC || body[len - 1] !== LF || count < 1) return null;
  const e = body.readUInt32BE(1);
  const t0 = 5 + 4 * e;
  if (e > count || t0 > len) return null;
  let errorAt: Uint8Array | undefined;
  if (e > 0) {
    errorAt = new Uint8Array(count);
    for (let k = 0; k < e; k++) {
      const i = body.readUInt32BE(5 + 4 * k);
      if (i >= count) return null;
      errorAt[i] = 1;
    }
  }
  const groups = new Map<string, Group>();
  let group: Group | undefined;
  let lastBase = '';
  let runStart = t0;
  let n = 0;
  // The text is read as latin1 strings of at most WINDOW bytes, cut after a LF (layout.ts: a
  // string past V8's regular object size costs kernel time to make).
  for (let w = t0; w < len; ) {
    const wEnd = windowEnd(body, w, len);
    const text = body.toString('latin1', w, wEnd);
    const end = text.length;
    // The next backslash at or after the line being read: a line whose head holds one is
    // left to the decoder (it parses escaped ids).
    let slash = text.indexOf('\\');
    if (slash < 0) slash = end;
    let pos = 0;
    while (pos < end) {
      if (n === count) return null;
      const lf = text.indexOf('\n', pos);
      if (lf < 0 || lf - pos < LINE_START.length + 2 || text.charCodeAt(lf - 1) !== CLOSE_BRACE || text.slice(pos, pos + LINE_START.length) !== LINE_START) return null;
      // The head's keys in the wire's order, each after the first quote that ends the value
      // before it (no backslash in the head: checked below, so every quote there is a real one).
      // Keys (and the base_id) compared as slices: with `startsWith(key, at)` this split cost
      // 7.0k instructions a point, 4.7k so (callgrind, 2,000-point records).
      const q = text.indexOf('"', pos + LINE_START.length);
      if (q < 0 || text.slice(q, q + BASE_KEY.length) !== BASE_KEY) return null;
      const b0 = q + BASE_KEY.length;
      const b1 = text.indexOf('"', b0);
      if (b1 <= b0 || text.slice(b1, b1 + TRACE_KEY.length) !== TRACE_KEY) return null;
      const t1 = text.indexOf('"', b1 + TRACE_KEY.length);
      if (t1 < 0 || text.slice(t1, t1 + PARENT_KEY.length) !== PARENT_KEY) return null;
      const p1 = text.indexOf('"', t1 + PARENT_KEY.length);
      if (p1 < 0 || text.slice(p1, p1 + TIMESTAMP_KEY.length) !== TIMESTAMP_KEY) return null;
      const ts1 = text.indexOf('"', p1 + TIMESTAMP_KEY.length);
      if (ts1 < 0 || ts1 > lf) return null;
      if (slash < pos) {
        slash = text.indexOf('\\', pos);
        if (slash < 0) slash = end;
      }
      if (slash < ts1) return null;
      if (group === undefined || b1 - b0 !== lastBase.length || text.slice(b0, b1) !== lastBase) {
        // A new trace: the run before it ends here; its subject from its first line.
        if (group !== undefined) closeRun(group, runStart, w + pos);
        lastBase = text.slice(b0, b1);
        const subject = pointsSubject(o.subjectPrefix, lineProject(body.subarray(w + pos, w + lf)), partitionOf(lastBase, o.partitions));
        group = groups.get(subject);
        if (group === undefined) groups.set(subject, (group = { subject, runs: [], count: 0, bytes: 0, errors: [] }));
        runStart = w + pos;
      }
      if (errorAt !== undefined && errorAt[n] === 1) group.errors.push(group.count);
      group.count++;
      n++;
      pos = lf + 1;
    }
    w = wEnd;
  }
  if (n !== count || group === undefined) return null;
  closeRun(group, runStart, len);
  const out: SplitPart[] = [];
  for (const g of groups.values()) {
    const errors = g.errors;
    const part = Buffer.allocUnsafe(5 + 4 * errors.length + g.bytes);
    part[0] = MAGIC;
    let off = part.writeUInt32BE(errors.length, 1);
    for (const k of errors) off = part.writeUInt32BE(k, off);
    const runs = g.runs;
    for (let r = 0; r < runs.length; r += 2) off += body.copy(part, off, runs[r], runs[r + 1]);
    const id = key === undefined ? `${o.agentId}:${createHash('md5').update(g.subject).update(part).digest('hex')}` : `${o.agentId}:${key}.${out.length}`;
    out.push({ subject: g.subject, body: part, count: g.count, id, indexed: false });
  }
  return out;
}

function closeRun(g: Group, start: number, end: number): void {
  g.runs.push(start, end);
  g.bytes += end - start;
}
