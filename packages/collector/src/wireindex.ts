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
/**
 * HEAD with two of the collector's checks in it (validate.ts): the trace_id made of an
 * id's characters (group 2; its length, at most 128, is checked apart) and the timestamp
 * in Python's format. A line it matches passes those two checks by construction (the
 * decoder's timestamp and the first `", "trace_id": "` are HEAD's: no field before them
 * holds a quote), so the collector runs it instead of them on lines that came without an
 * index, and the index then starts from its match instead of matching HEAD again.
 */
const CHECKED_HEAD = /\{"name": "([^"\\\x00-\x1f]*)", "base_id": "[^"\\\x00-\x1f]*", "trace_id": "([A-Za-z0-9_.:-]+)", "parent_id": "([^"\\\x00-\x1f]*)", "timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?", "info": /y;

/**
 * CHECKED_HEAD's match of `line` when its trace_id has at most 128 characters (then the
 * line passes the trace_id and timestamp checks), else null (check it the usual way).
 */
export function checkedHead(line: string): RegExpExecArray | null {
  CHECKED_HEAD.lastIndex = 0;
  const m = CHECKED_HEAD.exec(line);
  return m !== null && m[2].length <= 128 ? m : null;
}

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

/**
 * The search index of `lines` (core's `indexOfLines`, reading each line as above);
 * `heads[i]`, when there is one, is line i's `checkedHead` match.
 */
export function indexOfWireLines(lines: readonly string[], heads?: readonly (RegExpExecArray | null)[]): LineIndex {
  const events = new Array<Record<string, unknown> | undefined>(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const h = heads?.[i];
    let f: Fields | undefined;
    if (h !== undefined && h !== null) f = rest(line, h[1], h[3], h[0].length);
    else {
      HEAD.lastIndex = 0;
      const m = HEAD.exec(line);
      f = m === null ? undefined : rest(line, m[1], m[2], HEAD.lastIndex);
    }
    events[i] = (f as unknown as Record<string, unknown> | undefined) ?? parseStoredEvent(line);
  }
  return searchIndex.indexOfEvents(events);
}

/** The line's fields given its head (name, parent_id, INFO at `i0`), or undefined when the rest is off the layout (then parsed whole). */
function rest(line: string, name: string, parentId: string, i0: number): Fields | undefined {
  // A `, "project": ` from which the tail runs to the line's end is the top-level key:
  // inside a string its quotes would be escaped, only one place can start such a tail, and
  // INFO (one JSON value, below) comes before it. The first one after INFO's start is it
  // unless INFO holds a "project" key itself; then the last one (`lastIndexOf`, a runtime
  // call: 0.43k instructions a line, against 0.29k for the `indexOf` and its search).
  let k = line.indexOf(PROJECT_KEY, i0);
  if (k < 0) return undefined;
  TAIL.lastIndex = k;
  let tail: RegExpExecArray | null = TAIL.exec(line);
  if (tail === null) {
    k = line.lastIndexOf(PROJECT_KEY);
    if (k < i0) return undefined;
    TAIL.lastIndex = k;
    tail = TAIL.exec(line);
    if (tail === null) return undefined;
  }
  let info: unknown;
  try {
    info = JSON.parse(line.slice(i0, k));
  } catch {
    return undefined;
  }
  return { name, parent_id: parentId, info, project: tail[1] ?? null, service: tail[2] ?? null };
}
