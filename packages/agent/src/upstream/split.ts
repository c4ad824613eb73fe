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
 * Why: the decoding split made per line a Buffer view, two sliced strings, an index entry
 * and a copy into its part, and searched three multi-character keys (V8's StringSearch
 * set-up per call): ~3k instructions a point of the agent's ~11k upstream
 * (tools/bench/collector-ir.cjs, `agent split + deflate`).
 */
import { createHash } from 'node:crypto';
import { lineProject, partitionOf, pointsSubject } from './contract';

const MAGIC = 0x4c; // 'L'
const LF = 0x0a;
const CLOSE_BRACE = 0x7d;
const LINE_START = '{"name": "';
const BASE_KEY = '", "base_id": "';
const TRACE_KEY = '", "trace_id": "';
const PARENT_KEY = '", "parent_id": "';
const TIMESTAMP_KEY = '", "timestamp": "';

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
  const text = body.toString('latin1', t0);
  const end = text.length;
  // The next backslash at or after the line being read (-1: none left): a line whose head
  // holds one is left to the decoder (it parses escaped ids).
  let slash = text.indexOf('\\');
  if (slash < 0) slash = end;
  const groups = new Map<string, Group>();
  let group: Group | undefined;
  let lastBase = '';
  let runStart = 0;
  let pos = 0;
  let n = 0;
  while (pos < end) {
    if (n === count) return null;
    const lf = text.indexOf('\n', pos);
    if (lf < 0 || lf - pos < LINE_START.length + 2 || text.charCodeAt(lf - 1) !== CLOSE_BRACE || !text.startsWith(LINE_START, pos)) return null;
    // The head's keys in the wire's order, each after the first quote that ends the value
    // before it (no backslash in the head: checked below, so every quote there is a real one).
    const q = text.indexOf('"', pos + LINE_START.length);
    if (q < 0 || !text.startsWith(BASE_KEY, q)) return null;
    const b0 = q + BASE_KEY.length;
    const b1 = text.indexOf('"', b0);
    if (b1 <= b0 || !text.startsWith(TRACE_KEY, b1)) return null;
    const t1 = text.indexOf('"', b1 + TRACE_KEY.length);
    if (t1 < 0 || !text.startsWith(PARENT_KEY, t1)) return null;
    const p1 = text.indexOf('"', t1 + PARENT_KEY.length);
    if (p1 < 0 || !text.startsWith(TIMESTAMP_KEY, p1)) return null;
    const ts1 = text.indexOf('"', p1 + TIMESTAMP_KEY.length);
    if (ts1 < 0 || ts1 > lf) return null;
    if (slash < pos) {
      slash = text.indexOf('\\', pos);
      if (slash < 0) slash = end;
    }
    if (slash < ts1) return null;
    if (group === undefined || b1 - b0 !== lastBase.length || !text.startsWith(lastBase, b0)) {
      // A new trace: the run before it ends here; its subject from its first line.
      if (group !== undefined) closeRun(group, runStart, pos);
      lastBase = text.slice(b0, b1);
      const subject = pointsSubject(o.subjectPrefix, lineProject(body.subarray(t0 + pos, t0 + lf)), partitionOf(lastBase, o.partitions));
      group = groups.get(subject);
      if (group === undefined) groups.set(subject, (group = { subject, runs: [], count: 0, bytes: 0, errors: [] }));
      runStart = pos;
    }
    if (errorAt !== undefined && errorAt[n] === 1) group.errors.push(group.count);
    group.count++;
    n++;
    pos = lf + 1;
  }
  if (n !== count || group === undefined) return null;
  closeRun(group, runStart, pos);
  const out: SplitPart[] = [];
  for (const g of groups.values()) {
    const errors = g.errors;
    const part = Buffer.allocUnsafe(5 + 4 * errors.length + g.bytes);
    part[0] = MAGIC;
    let off = part.writeUInt32BE(errors.length, 1);
    for (const k of errors) off = part.writeUInt32BE(k, off);
    const runs = g.runs;
    for (let r = 0; r < runs.length; r += 2) off += body.copy(part, off, t0 + runs[r], t0 + runs[r + 1]);
    const id = key === undefined ? `${o.agentId}:${createHash('md5').update(g.subject).update(part).digest('hex')}` : `${o.agentId}:${key}.${out.length}`;
    out.push({ subject: g.subject, body: part, count: g.count, id, indexed: false });
  }
  return out;
}

function closeRun(g: Group, start: number, end: number): void {
  g.runs.push(start, end);
  g.bytes += end - start;
}
