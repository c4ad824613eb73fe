/**
 * The search index of lines that came without one ('L' bodies: the apps' default, since
 * `clientIndex` is off), read from the line's fixed layout instead of parsing all of it.
 *
 * A line is `{"name": "…", "base_id": "…", "trace_id": "…", "parent_id": "…", "timestamp":
 * "…", "info": INFO, "project": P, "service": S}` (PROTOCOL.md, wire §3): the index needs
 * the name, parent_id, project, service and what INFO says (host, detail, route). The
 * fixed fields are taken by position and only INFO goes through `JSON.parse`; the ids and
 * the timestamp (most of a line's bytes and strings) are never parsed. Why: `JSON.parse`
 * of every line was ~11.5k of the collector's ~27k instructions a point (callgrind,
 * tools/bench/collector-ir.cjs). core's `indexOfEvents` then makes the entries, so details
 * and routes are the parse's exactly.
 *
 * Any line off that layout — an escape in a fixed field, a field that is not a plain
 * string (null project/service excepted), another key, an INFO that is not one JSON
 * value (Python's bare NaN too) — is parsed whole, as before, so the index is the full
 * parse's for every line that parses. (A line that is not JSON only because a fixed field
 * holds a raw control character is read by position instead of indexed empty; it is
 * stored as it came either way.)
 */
import { parseStoredEvent, searchIndex } from '@osprofiler/core/instrument';
import type { LineIndex } from '@osprofiler/core/instrument';

/**
 * The fixed fields up to INFO: strings without quotes, escapes or control characters (so
 * each is exactly what `JSON.parse` would make of it); captures name and parent_id. One
 * sticky RegExp: ~100 ns a line, against ~30-45 ns for each `startsWith` of a key.
 */
const HEAD = /\{"name": "([^"\\\x00-\x1f]*)", "base_id": "[^"\\\x00-\x1f]*", "trace_id": "[^"\\\x00-\x1f]*", "parent_id": "([^"\\\x00-\x1f]*)", "timestamp": "[^"\\\x00-\x1f]*", "info": /y;
/** After INFO: project and service, null or such strings, and the line's end. */
const TAIL = /, "project": (?:null|"([^"\\\x00-\x1f]*)"), "service": (?:null|"([^"\\\x00-\x1f]*)")\}$/y;
const PROJECT_KEY = ', "project": ';

/** What indexOfEvents reads of a line. */
interface Fields {
  name: string;
  parent_id: string;
  info: unknown;
  project: string | null;
  service: string | null;
}

/** The search index of `lines` (core's `indexOfLines`, reading each line as above). */
export function indexOfWireLines(lines: readonly string[]): LineIndex {
  const events = new Array<Record<string, unknown> | undefined>(lines.length);
  for (let i = 0; i < lines.length; i++) events[i] = (fields(lines[i]) as unknown as Record<string, unknown> | undefined) ?? parseStoredEvent(lines[i]);
  return searchIndex.indexOfEvents(events);
}

/** The line's fields by position, or undefined when it is off the layout (then parsed whole). */
function fields(line: string): Fields | undefined {
  HEAD.lastIndex = 0;
  const head = HEAD.exec(line);
  if (head === null) return undefined;
  const i0 = HEAD.lastIndex;
  // The last `, "project": ` is the top-level key when the tail matches from it: inside a
  // string its quotes would be escaped, and INFO (one JSON value, below) comes before it.
  const k = line.lastIndexOf(PROJECT_KEY);
  if (k < i0) return undefined;
  TAIL.lastIndex = k;
  const tail = TAIL.exec(line);
  if (tail === null) return undefined;
  let info: unknown;
  try {
    info = JSON.parse(line.slice(i0, k));
  } catch {
    return undefined;
  }
  return { name: head[1], parent_id: head[2], info, project: tail[1] ?? null, service: tail[2] ?? null };
}
