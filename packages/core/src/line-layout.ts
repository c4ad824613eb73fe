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
import type { LineIndex } from './line';
import { pointName, setIndexEntry, stopRoute, writeIndexEntry } from './search';

/**
 * The fixed fields up to INFO: strings without quotes, escapes or control characters (so
 * each is exactly what `JSON.parse` would make of it); captures name, base_id, trace_id and
 * parent_id. One sticky RegExp: ~100 ns a line, against ~30-45 ns for each `startsWith` of a
 * key. (The agent's decode tests it without captures, LINE_HEAD_TEST, reads the fields by
 * position, agent src/lines.ts, and hands them to eventAfterHead.)
 */
export const LINE_HEAD = /\{"name": "([^"\\\x00-\x1f]*)", "base_id": "([^"\\\x00-\x1f]*)", "trace_id": "([^"\\\x00-\x1f]*)", "parent_id": "([^"\\\x00-\x1f]*)", "timestamp": "[^"\\\x00-\x1f]*", "info": /y;
/**
 * LINE_HEAD without its captures (`test` of it makes no result array and no substrings): for
 * a reader that finds the fields' quotes itself once the head checked out (the agent).
 */
export const LINE_HEAD_TEST = new RegExp(LINE_HEAD.source.replace(/\((?!\?)/g, '(?:'), 'y');
/**
 * After INFO: project and service, null or such strings, and `}` (the caller checks that the
 * line ends there: the line may be a piece of a longer text, eventAfterHead).
 */
const TAIL = /, "project": (?:null|"[^"\\\x00-\x1f]*"), "service": (?:null|"[^"\\\x00-\x1f]*")\}/y;
const PROJECT_KEY = ', "project": ';
const SERVICE_KEY = ', "service": ';

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
/** Characters of a line's rest kept at most (a longer INFO is mostly unique). */
const MAX_CACHED_REST = 384;
/**
 * The last lines' rests (from INFO's start to the line's end: INFO and the tail) read whole,
 * most recent first, with what they gave: a line whose rest is one of them (same length, one
 * compare) gives the same INFO, project and service, with no key search, TAIL or INFO lookup.
 * A service's lines mostly repeat a few rests (its stops' `{"host": …}` and its project and
 * service). Per line (callgrind, agent-ir.cjs, 6-point traces): the key's `indexOf` ~0.35k
 * instructions, TAIL ~0.45k, the INFO Map's hash and its compare of a sliced text in V8's
 * runtime ~1k, against a slice and one `indexOf` of it ~0.25k (V8 compiles `startsWith`
 * into a loop of ~30 instructions a character).
 * 16 slots: a trace's distinct rests cycle through them once per trace (compare's /nested:
 * its request's start and stop, five functions' starts, their stops' one rest: 8), and
 * a hit only moves its rest one slot up, so with 4 slots every one of those starts missed.
 * Agent instructions a point (agent-ir.cjs, 6-point traces, each function named apart):
 * 4 slots 26.5k, 8 slots 17.2–18.0k, 16 slots 17.9k; 12-point traces 27.0k with 8, 16.7k
 * with 16; one info for every point 15.8k with 4, 15.5k with 8 (session 32).
 */
const MRU = 16;
const mruRests: string[] = new Array<string>(MRU).fill('');
/** Each slot's rest length (its text's, or its bytes' when kept as bytes only; 0: empty). */
const mruLengths = new Int32Array(MRU);
/**
 * Each slot's rest as bytes, for a caller that hands eventAfterHead its text's bytes (the
 * agent: a latin1 text and the bytes it was decoded from): 8 at a time as float64s, then the
 * rest's last 8 (`restBytes`); empty when the slot was read from a text alone. Compared 8
 * bytes a read instead of the slice and its `indexOf` (V8's StringSearch, ~8 instructions a
 * character: ~0.8k a line of ~100 characters, callgrind, agent-ir.cjs).
 */
const NO_BYTES = new Float64Array(0);
const mruBytes: Float64Array[] = new Array<Float64Array>(MRU).fill(NO_BYTES);
/**
 * What a slot's rest gives: INFO, project and service, and (`ready`, once a caller handed
 * eventAfterHead an index to fill) the index entry's parts INFO decides: host, detail and a
 * stop's route, as setIndexEntry makes them. A line whose rest is a slot's then costs its
 * entry's stores and its name's `-stop` test: setIndexEntry's reads of INFO (megamorphic
 * loads, pointDetail's several keys) ~1.1k instructions a line (callgrind, agent-ir.cjs).
 */
interface RestFields {
  info: unknown;
  project: string | null;
  service: string | null;
  ready: boolean;
  host: string;
  detail: string | null;
  route: string | null;
}
const mruFields: RestFields[] = new Array<RestFields>(MRU).fill({ info: undefined, project: null, service: null, ready: false, host: '', detail: null, route: null });
/**
 * The last two names fill met and what the index makes of them (without `-start`/`-stop`,
 * and whether a stop): a service's lines alternate a few names, so a line's name is mostly
 * one of them (one compare of two short flat strings), not `endsWith` and a slice (~0.4k
 * instructions a line, callgrind, agent-ir.cjs). Names shorter than SHORT_NAME only: a
 * slice that long is a copy (flat: compared in V8's builtin, and no body's text kept alive);
 * a longer one is a SlicedString, compared in V8's runtime (~450 instructions).
 */
const SHORT_NAME = 13;
let nameA = '';
let shortA = '';
let stopA = false;
let nameB = '';
let shortB = '';
let stopB = false;
/** What eventAfterHead returns when it wrote the entry into the index it was given. */
const FILLED: LineFields = { name: '', parent_id: '', info: undefined, project: null, service: null };

/** What indexOfEvents reads of a line. */
export interface LineFields {
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
  const f = m === null ? undefined : eventAfterHead(line, line.length, m[1], m[m.length - 1], m[0].length);
  return (f as unknown as Record<string, unknown> | undefined) ?? parseStoredEvent(line);
}

/**
 * The fields of the line that ends at `end` in `text` (a line, or a longer text holding it,
 * ended by a LF or the text's end) given its head, read as LINE_HEAD reads it: `name` and
 * `parentId` its strings, INFO at `i0`. Undefined when the rest is off the layout: the
 * caller then parses the line whole. (The agent reads heads by position in a body's text,
 * agent src/lines.ts, and hands them here without making the line's string.) `bytes`, when
 * given, holds the text's bytes (a one-byte text: byte i is character i, from text index 0):
 * the last lines' rests are then kept and compared as bytes. `index`, when given, gets the
 * line's entry at `i` (what setIndexEntry makes of these fields; then the result is only
 * compared with undefined): a rest met lately gives its INFO's parts of it without reading
 * INFO again.
 */
export function eventAfterHead(text: string, end: number, name: string, parentId: string, i0: number, bytes?: DataView, index?: LineIndex, i = 0): LineFields | undefined {
  const n = end - i0;
  // (The slots start empty: an empty rest, never one read, must not match them.)
  for (let j = 0; j < MRU && n > 0; j++) {
    if (mruLengths[j] !== n) continue;
    const b = mruBytes[j];
    const r = mruRests[j];
    if (bytes !== undefined && b.length > 0) {
      if (!sameRest(bytes, i0, n, b)) continue;
    } else if (r.length !== n || text.slice(i0, end).indexOf(r) !== 0) continue;
    const f = mruFields[j];
    if (j > 0) {
      mruRests[j] = mruRests[j - 1];
      mruBytes[j] = mruBytes[j - 1];
      mruLengths[j] = mruLengths[j - 1];
      mruFields[j] = mruFields[j - 1];
      mruRests[j - 1] = r;
      mruBytes[j - 1] = b;
      mruLengths[j - 1] = n;
      mruFields[j - 1] = f;
    }
    if (index !== undefined) return fill(index, i, name, parentId, f);
    return { name, parent_id: parentId, info: f.info, project: f.project, service: f.service };
  }
  // A `, "project": ` from which the tail runs to the line's end is the top-level key:
  // inside a string its quotes would be escaped, only one place can start such a tail, and
  // INFO (one JSON value, below) comes before it. The first one after INFO's start is it
  // unless INFO holds a "project" key itself; then the last one (`lastIndexOf`, a runtime
  // call: 0.43k instructions a line, against 0.29k for the `indexOf` and its search). TAIL is
  // tested, not executed: its two values are then read by position (`exec` made a result
  // array and the captures' substrings, ~0.2k instructions a line more, callgrind).
  let k = text.indexOf(PROJECT_KEY, i0);
  if (k < 0 || k >= end) return undefined;
  TAIL.lastIndex = k;
  if (!TAIL.test(text) || TAIL.lastIndex !== end) {
    k = text.lastIndexOf(PROJECT_KEY, end - PROJECT_KEY.length);
    if (k < i0) return undefined;
    TAIL.lastIndex = k;
    if (!TAIL.test(text) || TAIL.lastIndex !== end) return undefined;
  }
  const s = text.slice(i0, k);
  let info = s.length <= MAX_CACHED_INFO ? infos.get(s) : undefined;
  if (info === undefined) {
    info = parseInfo(s);
    if (info === undefined) return undefined;
    if (s.length <= MAX_CACHED_INFO) {
      if (infos.size >= MAX_CACHED_INFOS) infos.clear();
      // The key copied (a slice of a `+` made flat), not a slice of the body's text it would keep alive.
      infos.set(('{' + s).slice(1), info);
    }
  }
  const pv = k + PROJECT_KEY.length;
  const project = tailValue(text, pv);
  const service = tailValue(text, (project === null ? pv + 4 : pv + project.length + 2) + SERVICE_KEY.length);
  if (n <= MAX_CACHED_REST) {
    for (let j = MRU - 1; j > 0; j--) {
      mruRests[j] = mruRests[j - 1];
      mruBytes[j] = mruBytes[j - 1];
      mruLengths[j] = mruLengths[j - 1];
      mruFields[j] = mruFields[j - 1];
    }
    // With the bytes, the rest kept as bytes only (its text would cost a copy a miss);
    // else copied (a slice of a `+` made flat), not a slice of the body's text it would keep alive.
    if (bytes !== undefined && n >= 8) {
      mruBytes[0] = restBytes(bytes, i0, n);
      mruRests[0] = '';
    } else {
      mruBytes[0] = NO_BYTES;
      mruRests[0] = ('{' + text.slice(i0, end)).slice(1);
    }
    mruLengths[0] = n;
    mruFields[0] = { info, project, service, ready: false, host: '', detail: null, route: null };
    if (index !== undefined) return fill(index, i, name, parentId, mruFields[0]);
  }
  if (index !== undefined) {
    setIndexEntry(index, i, { name, parent_id: parentId, info, project, service });
    return FILLED;
  }
  return { name, parent_id: parentId, info, project, service };
}

/**
 * Entry `i` of `index` for a line of name `name` and parent `parentId` whose rest gave `f`:
 * setIndexEntry's the first time (host, detail and route then kept in `f`), after that from
 * `f` (the same values: they depend on INFO alone, read only, and a stop's route on INFO).
 */
function fill(index: LineIndex, i: number, name: string, parentId: string, f: RestFields): LineFields {
  if (!f.ready) {
    setIndexEntry(index, i, { name, parent_id: parentId, info: f.info, project: f.project, service: f.service });
    const v = f.info;
    f.host = index.hosts[i];
    f.detail = index.details[i];
    f.route = stopRoute(v !== null && typeof v === 'object' ? v : undefined);
    f.ready = true;
    return FILLED;
  }
  let stop: boolean;
  let short: string;
  if (name.length >= SHORT_NAME) {
    stop = name.endsWith('-stop');
    short = pointName(name, stop);
  } else if (name === nameA) {
    stop = stopA;
    short = shortA;
  } else if (name === nameB) {
    stop = stopB;
    short = shortB;
  } else {
    stop = name.endsWith('-stop');
    short = pointName(name, stop);
    nameB = nameA;
    shortB = shortA;
    stopB = stopA;
    nameA = name;
    shortA = short;
    stopA = stop;
  }
  writeIndexEntry(index, i, short, stop, parentId, f.project, f.service, f.host, f.detail, f.route);
  return FILLED;
}

/**
 * The `n` ≥ 8 bytes at `at` as float64s: 8 at a time, then the last 8 (overlapping). A kept
 * rest passed TAIL and `JSON.parse`, so it holds no NUL byte: no chunk of it is a zero (±0
 * would be equal to the other one with other bits), and equal float64s that are not zeros
 * have the same bits; a NaN chunk is never equal (the slot then never matches: a miss).
 */
function restBytes(dv: DataView, at: number, n: number): Float64Array {
  const full = (n - 1) >> 3;
  const out = new Float64Array(full + 1);
  for (let i = 0; i < full; i++) out[i] = dv.getFloat64(at + 8 * i, true);
  out[full] = dv.getFloat64(at + n - 8, true);
  return out;
}

/** Whether the `n` bytes at `at` are those restBytes kept in `b` (made from `n` bytes). */
function sameRest(dv: DataView, at: number, n: number, b: Float64Array): boolean {
  const full = b.length - 1;
  for (let i = 0; i < full; i++) if (dv.getFloat64(at + 8 * i, true) !== b[i]) return false;
  return dv.getFloat64(at + n - 8, true) === b[full];
}

/** The tail's value at `at` (TAIL matched there): null, or a string without quotes or escapes. */
function tailValue(text: string, at: number): string | null {
  return text.charCodeAt(at) === 0x6e /* n */ ? null : text.slice(at + 1, text.indexOf('"', at + 1));
}

/** INFO's value, or undefined when the text is not one JSON value. */
function parseInfo(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
