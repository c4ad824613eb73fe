/**
 * Stored lines as rows of `<prefix>osprofiler_points` and `<prefix>osprofiler_errors`.
 * Each line is stored as it is (it already is the text Python's `json.dumps` writes); the
 * columns come from the batch (base ids, timestamps, error flags, its `LineIndex`) and from
 * the line's head, so a line is parsed only when the batch has no index (lines from an
 * older agent client or Python) or its head is not in the notifier's layout.
 */
import { parseStoredEvent, searchIndex } from '@osprofiler/core/instrument';
import type { LineBatch, LineIndex } from '@osprofiler/core/instrument';
import { timestampMicrosText } from '../timestamp';

export interface PointRow {
  baseId: string;
  traceId: string;
  name: string;
  /** The event's timestamp as microseconds since 1970 (UTC), in decimal. */
  ts: string;
  /** The stored notification: exactly the JSON text Python's Redis driver would store. */
  event: string;
  project: string | null;
  service: string | null;
}

export interface Rows {
  points: PointRow[];
  /** base_id → timestamp (µs, decimal) of its latest error in this batch (Python: the last SET wins). */
  errors: Map<string, string>;
  /** Lines left out: a timestamp Python could not read either, or a line that is not a JSON object. */
  rejected: number;
  /** The batch's points that became rows, with their index: what the search summaries are built from. */
  kept: LineBatch;
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

// The head every line of core's notifier (pointLine, pyDumps of its objects) starts with.
const NAME = '{"name": "';
const BASE = '", "base_id": "';
const TRACE = '", "trace_id": "';

/** The closing quote of a JSON string starting at `from`, or -1 when there is none or the string holds an escape. */
function plainEnd(line: string, from: number): number {
  const end = line.indexOf('"', from);
  return end < 0 || line.lastIndexOf('\\', end) >= from ? -1 : end;
}

// Set by head() for the row being built (no object per line).
let headName = '';
let headTrace = '';

/** Reads name and trace_id from a line in the notifier's layout without parsing it; false when the line is laid out otherwise. */
function head(line: string): boolean {
  if (!line.startsWith(NAME)) return false;
  const a = plainEnd(line, NAME.length);
  if (a < 0 || !line.startsWith(BASE, a)) return false;
  const b = plainEnd(line, a + BASE.length);
  if (b < 0 || !line.startsWith(TRACE, b)) return false;
  const c = plainEnd(line, b + TRACE.length);
  if (c < 0) return false;
  headName = line.slice(NAME.length, a);
  headTrace = line.slice(b + TRACE.length, c);
  return true;
}

export function rowsOfLines(batch: LineBatch, filterErrorTrace: boolean): Rows {
  const { lines, baseIds, timestamps, errors: isError } = batch;
  const n = lines.length;
  // Without an index every line is parsed once, for the index and the columns together.
  const given = batch.index; // read once: core's notifier computes it on first read
  const events = given === undefined ? lines.map((line) => parseStoredEvent(line)) : undefined;
  const index: LineIndex = given ?? searchIndex.indexOfEvents(events!);
  const points: PointRow[] = [];
  const errors = new Map<string, string>();
  let dropped: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    const ts = timestampMicrosText(timestamps[i]);
    let name: string;
    let traceId: string;
    let project: string | null;
    let service: string | null;
    const ev = events !== undefined ? events[i] : head(lines[i]) ? null : parseStoredEvent(lines[i]);
    if (ev === null) {
      name = headName;
      traceId = headTrace;
      project = str(index.projects[i]);
      service = str(index.services[i]);
    } else if (ev !== undefined) {
      name = String(ev.name);
      traceId = String(ev.trace_id);
      project = str(ev.project);
      service = str(ev.service);
    } else {
      name = traceId = '';
      project = service = null;
    }
    if (ts === undefined || ev === undefined) {
      (dropped ??= new Uint8Array(n))[i] = 1;
      continue;
    }
    const baseId = baseIds[i];
    points.push({ baseId, traceId, name, ts, event: lines[i], project, service });
    if (filterErrorTrace && isError !== null && isError[i] === 1) errors.set(baseId, ts);
  }
  // Fields named one by one: a batch may be a class with getters (the agent's DecodedLines).
  const kept: LineBatch = dropped === undefined ? { baseIds, timestamps, lines, errors: isError, index } : without({ baseIds, timestamps, lines, errors: isError }, index, dropped);
  return { points, errors, rejected: n - points.length, kept };
}

/** The batch less the points marked in `drop`. */
function without(batch: LineBatch, index: LineIndex, drop: Uint8Array): LineBatch {
  const keep = <T>(a: readonly T[]): T[] => a.filter((_, i) => drop[i] === 0);
  const bytes = (a: Uint8Array): Uint8Array => a.filter((_, i) => drop[i] === 0);
  return {
    baseIds: keep(batch.baseIds),
    timestamps: keep(batch.timestamps),
    lines: keep(batch.lines),
    errors: batch.errors === null ? null : bytes(batch.errors),
    index: {
      names: keep(index.names),
      phases: bytes(index.phases),
      parentIds: keep(index.parentIds),
      projects: keep(index.projects),
      services: keep(index.services),
      hosts: keep(index.hosts),
      details: keep(index.details),
      routes: keep(index.routes),
    },
  };
}
