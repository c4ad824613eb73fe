/**
 * Checking one JetStream message against the contract (PROTOCOL.md §Upstream): schema
 * header, body shape, size limits, ids and partition. A message that cannot be read at
 * all is dead-lettered whole; single bad points are dead-lettered and the rest written.
 * Rules (redact / drop / rename) are applied here too, re-serialising only changed points
 * (which then lose their carried index entry and are indexed from the new line).
 */
import { parseStoredEvent } from '@osprofiler/core/instrument';
import { DecodedLines, RawInflater, UPSTREAM_SCHEMAS, UPSTREAM_SCHEMA_DEFLATE, notificationText, partitionOf } from '@osprofiler/agent';
import type { Notification } from '@osprofiler/core';
import type { DeadReason } from './metrics';
import { PointSet } from './points';
import { checkedHead } from './wireindex';
import type { CompiledRules } from './rules';

export interface Limits {
  partitions: number;
  maxPointBytes: number;
  maxMessagePoints: number;
  /** A schema-3 (DEFLATE) body inflating to more than this is refused (`body`): a bound on what one message can make us allocate. */
  maxInflatedBytes: number;
}

export interface BadPoint {
  line: string;
  reason: string;
}

export type Checked =
  | { ok: false; reason: DeadReason; message: string }
  | { ok: true; points: PointSet; bad: BadPoint[]; dropped: number; changed: number; badIndex: boolean };

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?$/;
const TRACE_KEY = '", "trace_id": "';
const INFLATE_CHUNK_RATIO = 24;
const INFLATE_CHUNK_MAX = 4 * 1024 * 1024;
/**
 * An id and its closing quote, where lastIndex says; its length (1-128) is checked apart:
 * `{1,128}` made V8 count every character: 1.06k instructions a line for a UUID, 0.54k with
 * `+` (callgrind, collector-ir.cjs's messages).
 */
const TRACE_ID = /[A-Za-z0-9_.:-]+"/y;
/** One inflate handle, reset between messages (checks are synchronous, so never shared mid-message). */
const inflater = new RawInflater();

export function checkMessage(
  data: Uint8Array,
  schema: string | undefined,
  pointsHeader: string | undefined,
  partition: number,
  limits: Limits,
  rules: CompiledRules | undefined,
): Checked {
  // 1: lines; 2: lines and their search index ('I' body); 3: either, DEFLATE-compressed.
  // The (inflated) body's first byte says which, so any version reads either body.
  if (schema === undefined || !UPSTREAM_SCHEMAS.includes(schema)) {
    return { ok: false, reason: 'schema', message: `schema version "${schema ?? ''}" is not supported (collector reads ${UPSTREAM_SCHEMAS.join(', ')})` };
  }
  let body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const count = pointsHeader !== undefined && /^\d+$/.test(pointsHeader) ? Number(pointsHeader) : -1;
  if (count < 1 || count > limits.maxMessagePoints) {
    return { ok: false, reason: 'body', message: `Osprofiler-Points "${pointsHeader ?? ''}" is not a count from 1 to ${limits.maxMessagePoints}` };
  }
  if (schema === UPSTREAM_SCHEMA_DEFLATE) {
    try {
      body = inflater.inflate(body, limits.maxInflatedBytes, inflateChunkBytes(body.length, limits.maxInflatedBytes));
    } catch (err) {
      return { ok: false, reason: 'body', message: `schema 3 body does not inflate (raw DEFLATE, at most ${limits.maxInflatedBytes} bytes): ${(err as Error).message}` };
    }
  }
  const d = new DecodedLines();
  if (!d.append(body, count)) return { ok: false, reason: 'body', message: `body is not ${count} wire lines in the 'L' or 'I' format` };
  const ix = d.points;
  const errs = d.errors;
  // Points of one trace come together: its id and partition are checked once per run.
  let lastBase = '';
  let problems: Map<number, string> | undefined;
  const lines = d.lines;
  // Lines without a carried index (the apps' default): checkedHead checks trace_id and
  // timestamp in the RegExp the index reads the line with, kept for it (PointSet.index):
  // 1.9k instructions a line of checks that way, not on top of it (collector-ir.cjs).
  const heads = ix.complete ? undefined : new Array<RegExpExecArray | null>(d.count);
  for (let i = 0; i < d.count; i++) {
    const baseId = d.baseIds[i];
    const head = heads === undefined ? null : (heads[i] = checkedHead(lines[i]));
    const why = pointProblem(d.buffers[i], lines[i], baseId, d.timestamps[i], partition, limits, baseId === lastBase, head !== null);
    if (why === undefined) lastBase = baseId;
    else (problems ??= new Map()).set(i, why);
  }
  if (problems === undefined && (rules === undefined || !rules.changesPoints)) {
    // The usual message: every point as it came, the decoded arrays taken over (no copy).
    return { ok: true, points: new PointSet(d, errs, heads), bad: [], dropped: 0, changed: 0, badIndex: d.badIndexes > 0 };
  }
  const points = new PointSet();
  const bad: BadPoint[] = [];
  let dropped = 0;
  let changed = 0;
  for (let i = 0; i < d.count; i++) {
    const buf = d.buffers[i];
    const baseId = d.baseIds[i];
    const why = problems?.get(i);
    if (why !== undefined) {
      bad.push({ line: buf.toString('latin1', 0, Math.min(buf.length, 4096)), reason: why });
      continue;
    }
    if (rules === undefined || !rules.changesPoints) {
      points.push(buf, baseId, d.timestamps[i], errs !== null && errs[i] === 1, ix.srcs[i], ix.pos[i]);
      continue;
    }
    const n = parseStoredEvent(buf.toString('latin1'));
    if (n === undefined) {
      bad.push({ line: buf.toString('latin1', 0, Math.min(buf.length, 4096)), reason: 'point does not parse as JSON' });
      continue;
    }
    const r = rules.apply(n);
    if (r === 'drop') {
      dropped++;
      continue;
    }
    if (r === 'changed') {
      changed++;
      // No index entry: the rewritten line (renamed service/project, redacted info) is
      // indexed from itself when the store reads the index, so the two always agree.
      points.push(Buffer.from(notificationText(n as unknown as Notification), 'latin1'), baseId, d.timestamps[i], errs !== null && errs[i] === 1);
    } else points.push(buf, baseId, d.timestamps[i], errs !== null && errs[i] === 1, ix.srcs[i], ix.pos[i]);
  }
  return { ok: true, points, bad, dropped, changed, badIndex: d.badIndexes > 0 };
}

/**
 * The output buffer for inflating `compressed` bytes: big enough for the whole body at the
 * bench's ~15-18x (one chunk, returned as it is) and bounded. Node's default 16 KiB chunks
 * cost a native call and a Buffer each, then a copy joining them: inflating 87 KB bodies
 * took 1.75k instructions a point that way, 0.95k in one chunk (callgrind). A body that
 * inflates further just takes more chunks. The body's lines keep the whole chunk until the
 * message is written: ~1.5× the text at the bench's ratio, more for text that compresses
 * less (24 ÷ its ratio), at most 4 MiB a message.
 */
function inflateChunkBytes(compressed: number, max: number): number {
  return Math.max(64 * 1024, Math.min(compressed * INFLATE_CHUNK_RATIO, max, INFLATE_CHUNK_MAX));
}

/** `headChecked`: the line matched checkedHead, so its timestamp and trace_id are good. */
function pointProblem(buf: Buffer, line: string, baseId: string, timestamp: string, partition: number, limits: Limits, baseChecked: boolean, headChecked: boolean): string | undefined {
  if (buf.length > limits.maxPointBytes) return `point of ${buf.length} bytes is larger than ${limits.maxPointBytes}`;
  if (!baseChecked && !ID.test(baseId)) return 'base_id is not an id ([A-Za-z0-9_.:-], 1-128)';
  if (!headChecked && !TIMESTAMP.test(timestamp)) return `timestamp "${timestamp.slice(0, 40)}" is not YYYY-MM-DDTHH:MM:SS[.ffffff]`;
  if (!headChecked && !traceIdOk(line)) return 'trace_id missing or not an id ([A-Za-z0-9_.:-], 1-128)';
  if (!baseChecked && partitionOf(baseId, limits.partitions) !== partition) return `base_id belongs to partition ${partitionOf(baseId, limits.partitions)}, not ${partition} (do agents and collectors use the same partition count?)`;
  return undefined;
}

/**
 * Whether the line's first `", "trace_id": "` is followed by an id (ID's characters, 1-128)
 * and `"`. On the line as a string (the decoder's slice, kept for the index parse): a native
 * search and a sticky RegExp cost 2.3k instructions a line against 3.3k for a byte loop
 * over the Buffer (callgrind, 2,000 lines of the bench's shape).
 */
function traceIdOk(line: string): boolean {
  const k = line.indexOf(TRACE_KEY);
  if (k < 0) return false;
  const at = k + TRACE_KEY.length;
  TRACE_ID.lastIndex = at;
  return TRACE_ID.test(line) && TRACE_ID.lastIndex - at <= 129;
}
