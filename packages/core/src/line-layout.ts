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
 * tools/bench/collector-ir.cjs; the agent's direct write parsed them too). indexOfEvents
 * (./search.ts) then makes the entries, so details and routes are the parse's exactly.
 *
 * Any line off that layout — an escape in a fixed field, a field that is not a plain
 * string (null project/service excepted), another key, an INFO that is not one JSON
 * value (Python's bare NaN too) — is parsed whole, as before, so the index is the full
 * parse's for every line that parses. (A line that is not JSON only because a fixed field
 * holds a raw control character is read by position instead of indexed empty; it is
 * stored as it came either way.)
 */
import { parseStoredEvent } from './drivers/stored-event';

/**
 * The fixed fields up to INFO: strings without quotes, escapes or control characters (so
 * each is exactly what `JSON.parse` would make of it); captures name, base_id, trace_id and
 * parent_id (the agent's decode reads base_id and the timestamp from the same match and
 * hands it to the index, agent src/lines.ts). One sticky RegExp: ~100 ns a line, against
 * ~30-45 ns for each `startsWith` of a key.
 */
export const LINE_HEAD = /\{"name": "([^"\\\x00-\x1f]*)", "base_id": "([^"\\\x00-\x1f]*)", "trace_id": "([^"\\\x00-\x1f]*)", "parent_id": "([^"\\\x00-\x1f]*)", "timestamp": "[^"\\\x00-\x1f]*", "info": /y;
/** After INFO: project and service, null or such strings, and the line's end. */
const TAIL = /, "project": (?:null|"([^"\\\x00-\x1f]*)"), "service": (?:null|"([^"\\\x00-\x1f]*)")\}$/y;
const PROJECT_KEY = ', "project": ';

/**
 * INFO texts parsed lately, and their values (read only: indexOfEvents only reads them). A
 * service's points repeat their infos (every stop's `{"host": "…"}`, a shared function or
 * statement info): `JSON.parse` of a 45-character INFO cost ~4k instructions, the lookup
 * (hashing the text) ~1k (callgrind, tools/bench/agent-ir.cjs); a text not seen before costs
 * ~2k more than its parse alone (the kept key's copy and hash). Bounded: cleared when full;
 * long texts (mostly unique: SQL, URLs) are not kept.
 */
const infos = new Map<string, unknown>();
const MAX_CACHED_INFOS = 1024;
const MAX_CACHED_INFO = 256;

/** What indexOfEvents reads of a line. */
interface Fields {
  name: string;
  parent_id: string;
  info: unknown;
  project: string | null;
  service: string | null;
}

/**
 * Line `line` as the index reads it: its fields taken by position when it is in the layout,
 * else parsed whole (undefined: not JSON). `head`, when given, is a match at the line's
 * start of LINE_HEAD or of a RegExp like it (name in group 1, parent_id in the last
 * group, INFO right after the match), so a caller that matched it already saves a match.
 */
export function eventOfLine(line: string, head?: RegExpExecArray | null): Record<string, unknown> | undefined {
  let m = head;
  if (m === undefined || m === null) {
    LINE_HEAD.lastIndex = 0;
    m = LINE_HEAD.exec(line);
  }
  const f = m === null ? undefined : rest(line, m[1], m[m.length - 1], m[0].length);
  return (f as unknown as Record<string, unknown> | undefined) ?? parseStoredEvent(line);
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
  const text = line.slice(i0, k);
  let info = text.length <= MAX_CACHED_INFO ? infos.get(text) : undefined;
  if (info === undefined) {
    try {
      info = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (text.length <= MAX_CACHED_INFO) {
      if (infos.size >= MAX_CACHED_INFOS) infos.clear();
      // The key copied (a slice of a `+` made flat), not a slice of the body's text it would keep alive.
      infos.set(('{' + text).slice(1), info);
    }
  }
  return { name, parent_id: parentId, info, project: tail[1] ?? null, service: tail[2] ?? null };
}
