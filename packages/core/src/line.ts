/**
 * The raw write path: one trace point serialised straight into the text Python
 * OSProfiler stores (`json.dumps` of the notification dict), without building the
 * notification object first. Byte-identical to `pyDumps(notification)` of what the object
 * path builds (`toPrimitive(info)`, `host` moved last); test/line.test.ts holds it to that.
 */
import { isPlainString, pyDumps, pyNumber, pyString } from './pyjson';
import type { Notification } from './notification';
import { toPrimitive } from './primitive';
import { newLineIndex, setIndexEntry } from './search';
import { flat } from './flat';
import { isNotedPlain } from './plain-ids';

/**
 * Points already serialised, for drivers that store text (`Driver.notifyLines`).
 * Index i of each array is one point, in notify order.
 */
export interface LineBatch {
  readonly baseIds: readonly string[];
  /** Each point's timestamp, as in its line (indexes need it without parsing the line). */
  readonly timestamps: readonly string[];
  /**
   * When the producer has them: each timestamp's timeKey (µs since 1970), present only
   * when every one of the batch's timestamps has one (none is NaN). Keyed timestamps order
   * as their texts, so deltasOfBatch compares these instead (the agent reads them from a
   * frame's bytes, where its timestamps are slices of the frame's text).
   */
  readonly timeKeys?: Float64Array;
  /** Python's `json.dumps(notification)`, one per point, ASCII only (ensure_ascii). */
  readonly lines: readonly string[];
  /** 1 where the point's `info.etype` is not null (the error index), or null when none is. */
  readonly errors: Uint8Array | null;
  /** When the producer has them: each line's bytes (a driver may write them as they are). */
  readonly buffers?: readonly Uint8Array[];
  /**
   * When the producer has them: where each line's bytes are, without a Uint8Array a line
   * (the agent's decoded bodies; the redis:// driver copies them from there). A driver that
   * reads this need not read `buffers`.
   */
  readonly linePlaces?: LinePlaces;
  /**
   * What search indexes need of each point, filled by whoever formats the lines (core's
   * notifier, linesOfNotifications), so drivers never parse lines to index them. Absent
   * for lines from elsewhere (an agent client, Python): see search.ts `indexOfLines`.
   */
  readonly index?: LineIndex;
}

/**
 * Lines' bytes where they are: line i is `regions[r][places[stride × i + at],
 * places[stride × i + at + 1])`, r the last region whose `firsts[r]` ≤ i.
 */
export interface LinePlaces {
  readonly regions: readonly Uint8Array[];
  readonly firsts: readonly number[];
  readonly places: Int32Array;
  readonly stride: number;
  readonly at: number;
}

/** Per point (same positions as `LineBatch.lines`): the fields trace search indexes. */
export interface LineIndex {
  /** The point's name, without `-start`/`-stop`. */
  readonly names: string[];
  /** 0 for a start event, 1 for a stop. */
  readonly phases: Uint8Array;
  readonly parentIds: string[];
  readonly projects: (string | null)[];
  readonly services: (string | null)[];
  readonly hosts: string[];
  /** Short searchable text of the info: `METHOD path`, an SQL statement, a command, a function, an error. */
  readonly details: (string | null)[];
  /** On a stop: `METHOD route` when the info carries the route template. */
  readonly routes: (string | null)[];
}

/**
 * Notification objects as a LineBatch, for drivers whose `notify` feeds their own
 * `notifyLines`: `serialise` each (Python's `json.dumps`, `pyDumps`, by default). A point
 * that fails to serialise goes to `onError` and is left out; without `onError` it throws.
 */
export function linesOfNotifications(batch: readonly Notification[], serialise: (n: Notification) => string = pyDumps, onError?: (err: unknown) => void): LineBatch {
  const baseIds: string[] = [];
  const timestamps: string[] = [];
  const lines: string[] = [];
  let errors: Uint8Array | null = null;
  const index = newLineIndex(batch.length);
  for (const n of batch) {
    let line: string;
    try {
      line = serialise(n);
    } catch (err) {
      if (onError === undefined) throw err;
      onError(err);
      continue;
    }
    if (setIndexEntry(index, lines.length, n)) (errors ??= new Uint8Array(batch.length))[lines.length] = 1;
    baseIds.push(String(n.base_id));
    timestamps.push(String(n.timestamp));
    lines.push(line);
  }
  const k = lines.length;
  if (k === batch.length) return { baseIds, timestamps, lines, errors, index };
  // Points left out: the index and errors (made for the whole batch) end with the lines.
  for (const a of [index.names, index.parentIds, index.projects, index.services, index.hosts, index.details, index.routes]) a.length = k;
  return { baseIds, timestamps, lines, errors: errors === null ? null : errors.subarray(0, k), index: { ...index, phases: index.phases.subarray(0, k) } };
}

const MAX_DEPTH = 10;
const hasOwnProperty = Object.prototype.hasOwnProperty;

// Measured on the raw path (tools/bench/core-points.cjs): testing whether a string needs
// escaping costs ~30 ns a call, about a dozen per point. Keys repeat (object literals in
// adapters), so their text is cached, with its `: ` (and the `, ` before it): fewer
// pieces per line, each a string addition and a node of the rope flattened later
// (callgrind, traced /nested: ~20 additions a line before, ~12 after). Ids repeat between
// a point's start and stop and across a trace, so the last few that passed are
// remembered by identity; names and base ids have caches of their own, so that a trace's
// new ids do not push them out.
const MAX_KEYS = 1024;

/**
 * A key's text: first in its object (`open`: with the object's `{`; `info`: with the line's
 * `", "info": {` before it), and after another field; each `…Q` variant ends with the opening
 * quote of a plain string value. Each variant is one string fewer a field (`'{' + …`,
 * `'"' + value + '"'`): a rope node or a small copy, and its young garbage, fewer
 * (callgrind, traced /nested: StringAdd was the first allocator of the flush).
 */
interface KeyText {
  /** The key itself (keySlots below are checked against it). */
  readonly key: string;
  readonly first: string;
  readonly next: string;
  readonly open: string;
  readonly info: string;
  readonly firstQ: string;
  readonly nextQ: string;
  readonly openQ: string;
  readonly infoQ: string;
  /** `next` and `nextQ` after a plain string value's closing quote (see `closeOwed`). */
  readonly qnext: string;
  readonly qnextQ: string;
  /**
   * The key's text after another field, by what that field's text owes (`closeOwed`, CLOSES):
   * `next`, `qnext`, and after an object value left open `}` or `"}` and `next` as one piece
   * (a piece fewer a field after an object: a request's route after its response's status).
   * nextsQ: the same with `nextQ`.
   */
  readonly nexts: readonly string[];
  readonly nextsQ: readonly string[];
  /** first, open, info by Lead; leadsQ: firstQ, openQ, infoQ (one keyed load, less code in fieldsText). */
  readonly leads: readonly string[];
  readonly leadsQ: readonly string[];
  /**
   * The text before an object whose first key this is (its parent's key text: `after`), and
   * `open` / `openQ` after it, as one flat piece each (`afterOpen`, `afterOpenQ`): see
   * fieldsText. `tried`: the text last seen before it, not merged yet.
   */
  after: string;
  afterOpen: string;
  afterOpenQ: string;
  tried: string;
}
const keys = new Map<string, KeyText>();
/** What comes before the first field of a line's info. */
const INFO_KEY = '", "info": {';
/**
 * fieldsText's first field: as it is (0, BARE), after the object's `{` (OPEN), or after the
 * line's `", "info": {` (INFO); also its index in KeyText.leads / leadsQ.
 */
const OPEN = 1;
const INFO = 2;
type Lead = 0 | typeof OPEN | typeof INFO;

// Key texts by a slot of the key's length and middle character, checked against the key (keys
// are mostly literals' internalized strings: one pointer comparison): a Map lookup hashed
// each key, ~70 instructions (callgrind, traced /nested: 19 lookups a trace, 1.3k). A key
// whose slot another key holds goes to the Map, and takes the slot.
const KEY_SLOTS = 128;
const keySlots: (KeyText | undefined)[] = new Array<KeyText | undefined>(KEY_SLOTS).fill(undefined);

function keyText(k: string): KeyText {
  const n = k.length;
  const slot = n === 0 ? 0 : (n * 7 + k.charCodeAt(n >> 1)) & (KEY_SLOTS - 1);
  const t = keySlots[slot];
  if (t !== undefined && t.key === k) return t;
  return (keySlots[slot] = keyTextOf(k));
}

function keyTextOf(k: string): KeyText {
  let t = keys.get(k);
  if (t === undefined) {
    const q = pyString(k);
    const first = flat(q + ': ');
    const open = flat('{' + q + ': ');
    const info = flat(INFO_KEY + q + ': ');
    const firstQ = flat(q + ': "');
    const openQ = flat('{' + q + ': "');
    const infoQ = flat(INFO_KEY + q + ': "');
    const next = flat(', ' + q + ': ');
    const nextQ = flat(', ' + q + ': "');
    t = {
      key: k,
      first,
      next,
      open,
      info,
      firstQ,
      nextQ,
      openQ,
      infoQ,
      qnext: flat('", ' + q + ': '),
      qnextQ: flat('", ' + q + ': "'),
      nexts: CLOSES.map((c) => (c === '' ? next : flat(c + next))),
      nextsQ: CLOSES.map((c) => (c === '' ? nextQ : flat(c + nextQ))),
      leads: [first, open, info],
      leadsQ: [firstQ, openQ, infoQ],
      after: '',
      afterOpen: '',
      afterOpenQ: '',
      tried: '',
    };
    if (keys.size < MAX_KEYS) keys.set(k, t);
  }
  return t;
}

// Plain ids seen lately, in a direct-mapped table of 256 slots chosen by the id's first two
// characters (a uuid4's first byte: one slot each, whatever the order). A remembered id is
// found with one comparison, almost always of the same string (its identity, no characters
// read). The ring of 8 ids before compared an id with up to 8 others of the same length
// (36): each a StringEqual call reading characters (callgrind, traced /nested: ~3.3k
// instructions a trace in StringEqual). A slot's id stays until an id of the same slot
// replaces it (at most 256 old ids kept alive, ~20 KB).
//
// The table is made anew for each batch (startLines), so that it is young while the batch's
// lines are made: a fresh id stored in the process's one table, long promoted, went through
// the write barrier's slow path (the remembered set), ~50 instructions a store (callgrind,
// trace-lines nested: 7 a trace). A trace's lines come in one batch; an id whose lines span
// two batches is tested again in the second.
const ID_SLOTS = 256;
// A batch's new tables are copies of these (`slice` of a packed array is one block copy; `new
// Array(n).fill('')` filled a holey array slot by slot: ~11k instructions a batch for both
// tables, ~0.28k a /nested trace in trace-lines.cjs).
const EMPTY_IDS: string[] = Array.from({ length: ID_SLOTS }, () => '');
const EMPTY_VALUES: string[] = Array.from({ length: 128 }, () => '');
let idSlots: string[] = newIdSlots();

// A point's ids text (`<trace_id>", "parent_id": "<parent_id>`), kept from its start line for
// its stop line: 2 rope pieces fewer a stop line (2 ConsStrings, 64 bytes of young garbage,
// and 2 string additions: trace-lines.cjs BENCH_ALLOC). A stack of up to BLOCK_DEPTH entries
// of [trace id, parent id, text]: a start with a fresh id pushes its text, a stop takes the
// top one when it is its own (a trace's points stop in the reverse order of their starts);
// anything else (a stop after another trace's start, a sink caller's own ids) makes the text
// again. The second is not part of it: a stop in another second than its start took the
// other path, which traced /nested then never ran until a second went by, and its first run
// deoptimized pointLine (+14k instructions a trace in some trace-lines.cjs runs). A table
// made for each batch (startLines, young as idSlots); a full stack starts again from the bottom.
const BLOCK_DEPTH = 16;
const EMPTY_BLOCKS: string[] = Array.from({ length: BLOCK_DEPTH * 3 }, () => '');
let blocks: string[] = EMPTY_BLOCKS.slice();
let blockDepth = 0;
const PARENT_KEY = '", "parent_id": "';

function idsText(traceId: string, parentId: string, plainTraceId: boolean): string {
  const b = blocks;
  const d = blockDepth;
  if (!plainTraceId) {
    const k = d * 3 - 3;
    if (d !== 0 && b[k] === traceId && b[k + 1] === parentId) {
      blockDepth = d - 1;
      return b[k + 2];
    }
    return idContent(traceId) + PARENT_KEY + parentContent(parentId);
  }
  const text = remember(traceId) + PARENT_KEY + parentContent(parentId);
  const k = d === BLOCK_DEPTH ? 0 : d * 3;
  b[k] = traceId;
  b[k + 1] = parentId;
  b[k + 2] = text;
  blockDepth = k / 3 + 1;
  return text;
}

function newIdSlots(): string[] {
  return EMPTY_IDS.slice();
}

/** `s`'s slot: the hex value of its first two characters for an id (other strings: any slot). */
function idSlot(s: string): number {
  if (s.length < 2) return 0;
  const a = s.charCodeAt(0);
  const b = s.charCodeAt(1);
  // '0'-'9' → 0-9, 'a'-'f' → 10-15 (c & 15, plus 9 past 0x3f).
  return (((a & 15) + 9 * (a >> 6)) * 16 + (b & 15) + 9 * (b >> 6)) & (ID_SLOTS - 1);
}

/** An id, between quotes the caller writes: escaped only when it has to be. */
function idContent(s: string): string {
  const k = idSlot(s);
  if (idSlots[k] === s) return s;
  if (!isPlainString(s)) return pyString(s).slice(1, -1);
  idSlots[k] = s;
  return s;
}

/** `s` (known plain) goes into the id table: its stop line and its children's lines find it there. */
function remember(s: string): string {
  idSlots[idSlot(s)] = s;
  return s;
}

/** The start of a line up to the base id's value, for each phase of one point name. */
interface NameHead {
  readonly start: string;
  readonly stop: string;
}
const names = new Map<string, NameHead>();
// The last name's heads: a batch's lines come in runs of one name (a trace's nested `fn`
// starts, then their stops), and a name is one string, so one comparison replaces the Map
// lookup for most lines.

function nameHead(name: string, suffix: string): string {
  const l = last;
  let h = name === l.name ? l.head : names.get(name);
  if (h === undefined) h = newNameHead(name);
  l.name = name;
  l.head = h;
  if (suffix === '-start') return h.start;
  if (suffix === '-stop') return h.stop;
  return '{"name": "' + (isPlainString(name) ? name : pyString(name).slice(1, -1)) + suffix + '", "base_id": "';
}

// Apart from nameHead, so that nameHead stays small enough for TurboFan to inline it into
// pointLine (callgrind, traced /nested: ~1k instructions a trace when it was called).
function newNameHead(name: string): NameHead {
  const c = isPlainString(name) ? name : pyString(name).slice(1, -1);
  const h = { start: flat('{"name": "' + c + '-start", "base_id": "'), stop: flat('{"name": "' + c + '-stop", "base_id": "') };
  if (names.size < MAX_KEYS) names.set(name, h);
  return h;
}

/**
 * What the last line used, for the next: its name's heads (a batch's lines come in runs of
 * one name), its base id and that id's text up to the trace id's value (every line of a
 * trace has it), and its name head and base text joined. An object made for each batch
 * (startLines): young, its fields take the batch's young strings without the write
 * barrier's slow path, where module variables (a context long promoted) took it at every
 * new base id and joined text (callgrind, trace-lines nested: 11 a trace, ~0.57k).
 */
interface LastTexts {
  name: string;
  head: NameHead | undefined;
  base: string;
  baseContent: string;
  baseText: string;
  headText: string;
  baseTextUsed: string;
  nameBase: string;
}

function newLastTexts(): LastTexts {
  return { name: '', head: undefined, base: '', baseContent: '', baseText: '", "trace_id": "', headText: '', baseTextUsed: '', nameBase: '' };
}

let last: LastTexts = newLastTexts();

function baseText(baseId: string, plainBase: boolean): string {
  const l = last;
  if (baseId !== l.base) {
    l.base = baseId;
    // A header-continued trace's base was noted plain when its header was decoded (plain-ids.ts).
    l.baseContent = plainBase || isNotedPlain(baseId) || isPlainString(baseId) ? remember(baseId) : pyString(baseId).slice(1, -1);
    l.baseText = l.baseContent + '", "trace_id": "';
  }
  return l.baseText;
}

// The last line's name head and base text, and the two joined: a trace's lines come in runs
// of one name and phase (its nested starts, then their stops), so the pair is one piece of
// the rope for most lines, not two.

function nameBaseText(name: string, suffix: string, baseId: string, plainBase: boolean): string {
  const h = nameHead(name, suffix);
  const b = baseText(baseId, plainBase);
  const l = last;
  if (h !== l.headText || b !== l.baseTextUsed) {
    l.headText = h;
    l.baseTextUsed = b;
    l.nameBase = h + b;
  }
  return l.nameBase;
}

/** A parent id's content: the base's (plain or not) without a test, or as idContent. */
function parentContent(p: string): string {
  if (idSlots[idSlot(p)] === p) return p;
  const l = last;
  return p === l.base ? l.baseContent : idContent(p);
}

// What follows the timestamp, for the last tail: no info, and after info fields.
let lastTail = '';
let emptyInfoTail = INFO_KEY;
// After info fields, by what they owe (CLOSES): `, ` + tail, `", `, `}, `, `"}, ` + tail.
let afterFieldsTails = [', ', '", ', '}, ', '"}, '];

// A line is built with `+` (V8 keeps a rope, flattened once where the batch is joined for
// the socket or file). Counted under callgrind (tools/bench/compare, README "compare"),
// format + the batch's join + Buffer.from: 11.5k instructions a line with `+` against
// 15.9k with an array of parts joined per line (Array.prototype.join's generic path, and
// the `parts.length = 0` reset is a runtime call).
// The objects being serialised (outermost first), for toPrimitive's `<circular>`; at most
// MAX_DEPTH long, so a linear scan, and no Set per point. A new array for each batch
// (startLines): a young array takes the infos it holds without the write barrier's slow
// path, where the one array of the process, long promoted, recorded every young info and
// nested object pushed in the remembered set (callgrind, traced /nested: ~0.8k
// instructions a trace of RecordWrite for 15 pushes).
let path: object[] = [];

// Whether the text fieldsText returned last ends in a plain string value whose closing quote
// it left to what follows: the next key's text (KeyText.qnext), the object's `"}` or the
// line's tail. One piece of the line's rope fewer for each plain string value (a string
// addition, a node walked and a memcpy where the batch is joined; callgrind, traced
// /nested: 10 pieces a trace).
//
// And an info's last field, when its value is a plain object, leaves that object's `}` (or
// `"}`) to the line's tail: one piece fewer a line whose info ends in an object (an HTTP
// point's request, a function's name, a statement's `db`; callgrind, trace-lines nested
// with BENCH_IR_WARMUP=20000: 68.71k -> 68.43k a trace, 7 lines). So what the text owes is
// one of: nothing, a quote, a brace, or both (CLOSES).
let closeOwed = 0;
const OWES_QUOTE = 1;
const OWES_BRACE = 2;
const CLOSES = ['', '"', '}', '"}'];
// Set by fieldsText just before valueText of a top-level info field: a plain object's text
// may then end open, its closer owed (closeLeft, read back at once).
let deferClose = false;
let closeLeft = 0;

// The text fieldsText writes before an object value (its key's text: `", "info": {"k": ` or
// `, "k": `), set just before valueText of that value: the object's first key then comes with
// it as one flat piece (KeyText.afterOpen), and prefixTaken says so when valueText returns
// (set by that object's fieldsText as it ends). One rope piece fewer for each object value
// whose key and first key repeat (a function's name, a request's path or route, a response's
// status: 8 a traced /nested request, trace-lines.cjs).
let prefix = '';
let prefixTaken = false;

// `pre` came before this key: merged (true) the second time in a row; apart from fieldsText
// (its rare path), so that fieldsText stays small enough for TurboFan to inline it.
function mergeLead(kt: KeyText, pre: string): boolean {
  if (kt.tried !== pre) {
    kt.tried = pre;
    return false;
  }
  kt.afterOpen = flat(pre + kt.open);
  kt.afterOpenQ = flat(pre + kt.openQ);
  kt.after = pre;
  return true;
}

/** Called before formatting a batch of lines (notifier.ts formatLines). */
export function startLines(): void {
  // Made holding an object, so that it is an array of objects from the start: an empty
  // literal is an array of small integers, and the first push of an object changes its
  // elements kind, where `push` is then called, not inlined (~50 instructions a push).
  path = [path];
  path.pop();
  idSlots = newIdSlots();
  blocks = EMPTY_BLOCKS.slice();
  blockDepth = 0;
  plainValues = newPlainValues();
  last = newLastTexts();
}

/**
 * Whether valueText writes `o` (not an array) field by field, as an object literal: its
 * `constructor` is Object (literals, JSON.parse's objects), or its prototype Object.prototype.
 * The `constructor` load comes first: Object.getPrototypeOf goes through the runtime on Node
 * 20 for objects of unknown shape, ~120 instructions a call, the load ~50 (callgrind,
 * trace-lines nested: 15 a trace). An object made with Object.create(literal) or with an own
 * `constructor: Object` now takes this path, not toPrimitive's: the same text, since
 * toPrimitive copies such an object's own enumerable fields too (test/line.test.ts).
 */
function isFieldObject(o: object): boolean {
  return (o as { constructor?: unknown }).constructor === Object || Object.getPrototypeOf(o) === Object.prototype;
}

/** `pyDumps(toPrimitive(value, depth))` in one pass, for the shapes trace info usually has. */
function valueText(v: unknown, depth: number): string {
  const open = deferClose;
  deferClose = false;
  const pre = prefix;
  prefix = '';
  prefixTaken = false;
  switch (typeof v) {
    case 'string':
      return pyString(v);
    case 'number':
      return pyNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'bigint':
    case 'function':
    case 'symbol':
      return pyString(String(v));
  }
  if (v === null) return 'null';
  if (depth >= MAX_DEPTH) return '"?"';
  const o = v as object;
  const isArray = Array.isArray(o);
  if (isArray || isFieldObject(o)) {
    // A loop, not `includes` (a builtin call, ~35 instructions): the path is short.
    for (let i = 0; i < path.length; i++) if (path[i] === o) return '"<circular>"';
    path.push(o);
    let out: string;
    if (isArray) {
      out = '[';
      for (let i = 0; i < (o as unknown[]).length; i++) {
        if (i !== 0) out += ', ';
        out += valueText((o as unknown[])[i], depth + 1);
      }
      out += ']';
    } else {
      const fields = fieldsText(o as Record<string, unknown>, depth, false, OPEN, pre);
      if (fields === '') out = '{}';
      else if (open) {
        closeLeft = closeOwed | OWES_BRACE;
        out = fields;
      } else out = fields + CLOSES[closeOwed | OWES_BRACE];
    }
    path.pop();
    return out;
  }
  // Dates, Buffers, Errors, Maps, Sets, class instances: exactly what the object path does.
  return pyDumps(toPrimitive(o, depth, new Set(path)));
}

// Short string values that tested plain lately, by a slot of their length and last character:
// a service's infos repeat their values as the same strings (a method, a scheme, a route, a
// function's name), found with one comparison instead of isPlainString's loop, ~35
// instructions a character (callgrind, trace-lines nested: the loop ~1.1k a trace for 10
// values). A value that is not the slot's string (a new path, another value in the slot) is
// tested and takes the slot; equal text in another string object compares equal, and is as
// plain. Longer values go to isPlainString's RegExp, as before.
const VALUE_SLOTS = EMPTY_VALUES.length;
const SHORT_VALUE = 16;
// Made for each batch too (startLines), as idSlots.
let plainValues: string[] = newPlainValues();

function newPlainValues(): string[] {
  return EMPTY_VALUES.slice();
}

function isPlainValue(v: string): boolean {
  const n = v.length;
  if (n === 0) return true;
  if (n > SHORT_VALUE) return isPlainString(v);
  const slot = (n * 31 + v.charCodeAt(n - 1)) & (VALUE_SLOTS - 1);
  if (plainValues[slot] === v) return true;
  if (!isPlainString(v)) return false;
  plainValues[slot] = v;
  return true;
}

/**
 * `"k": v` pairs joined by `, `; `skipHost` drops a top-level `host`; `lead`: what the first
 * pair starts with (0 for BARE, OPEN, INFO). '' when none was written.
 * Walked with for-in, same order as Object.keys for the plain objects it gets: V8 reads `o[k]`
 * through the object's enum cache there, where `Object.keys` + `o[k]` went through the
 * megamorphic keyed-load stub for infos of every shape, and no key array is made (traced
 * /nested −8.5k instructions a request, tools/bench/trace-lines.cjs under callgrind).
 */
function fieldsText(o: Record<string, unknown>, depth: number, skipHost: boolean, lead: Lead, pre = ''): string {
  let out = '';
  let owed = 0;
  let took = false;
  for (const k in o) {
    if (!hasOwnProperty.call(o, k)) continue; // for-in also walks Object.prototype's enumerable keys (none, unless added)
    const v = o[k];
    if (v === undefined || (skipHost && k === 'host')) continue;
    const kt = keyText(k);
    // A plain string value's opening quote comes with the key's text (pyString would add both
    // quotes), its closing one with what follows.
    const plain = typeof v === 'string' && isPlainValue(v);
    let l: string;
    if (out !== '') l = plain ? kt.nextsQ[owed] : kt.nexts[owed];
    else if (pre !== '' && (kt.after === pre || mergeLead(kt, pre))) {
      l = plain ? kt.afterOpenQ : kt.afterOpen;
      took = true;
    } else l = plain ? kt.leadsQ[lead] : kt.leads[lead];
    if (plain) {
      out = out === '' ? l + (v as string) : out + l + (v as string);
      owed = OWES_QUOTE;
      continue;
    }
    deferClose = lead === INFO;
    prefix = l;
    const t = valueText(v, depth + 1);
    out = prefixTaken ? (out === '' ? t : out + t) : out === '' ? l + t : out + l + t;
    owed = closeLeft;
    closeLeft = 0;
  }
  closeOwed = owed;
  prefixTaken = took;
  return out;
}

// Adapters pass one frozen info per query shape (knex, typeorm: one per client, method
// and table), so its text is made once: a `db` start line with the Knex adapter's info,
// 8.2k instructions to format before, 0.86k from this cache (callgrind, 100,000 lines;
// CPU 1,296 → 144 ns). Only an info that cannot change is cached — frozen, every object
// and array in it frozen and plain, no getters — checked once per object (the WeakMap
// remembers a refusal too, as null); the last hit is checked first, by identity (and kept
// alive: one object). Any other info is formatted every time, as before, after one
// Object.isFrozen (~180 instructions a line, ~4 % of a `wsgi` start line's formatting).
// The notifier's info budget still looks at the whole line (a cut info is a new object).
const frozenTexts = new WeakMap<object, string | null>();
let lastFrozen: object | undefined;
let lastFrozenText = '';

/**
 * Whether `valueText(v, depth)` (what it reads of `v`) can never change: primitives, and
 * frozen plain objects and arrays of them with data properties only. Mirrors valueText's
 * walk (same depth cut, same `<circular>` path), so it never reads what the text does not.
 */
function immutableValue(v: unknown, depth: number): boolean {
  if (typeof v === 'function') return false; // its text is String(v): a toString that can be replaced
  if (typeof v !== 'object' || v === null) return true;
  if (depth >= MAX_DEPTH) return true; // written as "?" whatever it holds
  if (path.includes(v)) return true; // "<circular>"
  return immutableObject(v, depth);
}

/** A frozen plain object or array whose fields (at `depth` + 1) are immutable values. */
function immutableObject(o: object, depth: number): boolean {
  const isArray = Array.isArray(o);
  if (!isArray && Object.getPrototypeOf(o) !== Object.prototype) return false; // Date, Map, Buffer, class: toPrimitive's
  if (!Object.isFrozen(o)) return false;
  const keys = isArray ? Array.from({ length: (o as unknown[]).length }, (_, i) => String(i)) : Object.keys(o);
  path.push(o);
  try {
    for (const k of keys) {
      // A getter may answer differently each time; a hole reads through to Array.prototype.
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d === undefined || !('value' in d) || !immutableValue(d.value, depth + 1)) return false;
    }
    return true;
  } finally {
    path.pop();
  }
}

/** `", "info": {` and the point's info fields (all but `host`) joined by `, `; '' for none; throws like the object path. */
function infoText(info: object | undefined): string {
  if (info === undefined) return '';
  if (info === lastFrozen) {
    closeOwed = 0;
    return lastFrozenText;
  }
  // A primitive passes Object.isFrozen and is no WeakMap key: it goes on to be refused.
  if (typeof info !== 'object' || info === null || !isFrozenInfo(info)) return fieldsOfInfo(info);
  let text = frozenTexts.get(info);
  if (text === undefined) {
    text = isImmutableInfo(info) ? withQuote(fieldsOfInfo(info)) : null;
    frozenTexts.set(info, text);
  }
  if (text === null) return fieldsOfInfo(info);
  closeOwed = 0;
  lastFrozen = info;
  lastFrozenText = text;
  return text;
}

/** `fields` (from fieldsOfInfo) with the quote and brace it owes. */
function withQuote(fields: string): string {
  return closeOwed === 0 ? fields : fields + CLOSES[closeOwed];
}

// A Proxy's traps may throw where formatting would not: such an info is just not cached.
function isFrozenInfo(info: object): boolean {
  try {
    return Object.isFrozen(info);
  } catch {
    return false;
  }
}

function isImmutableInfo(info: object): boolean {
  try {
    return !Array.isArray(info) && immutableObject(info, 0);
  } catch {
    return false;
  } finally {
    path.length = 0;
  }
}

function fieldsOfInfo(info: object): string {
  let o = info as Record<string, unknown>;
  // null: toPrimitive's refusal below, as the object path's (not a TypeError of the `constructor` read).
  if (info === null || !isFieldObject(info)) {
    const p = toPrimitive(info);
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new TypeError('trace info must be an object');
    o = p as Record<string, unknown>;
  }
  path.push(info);
  const fields = fieldsText(o, 0, true, INFO);
  path.pop();
  return fields;
}

/** `"k": v, ` for every key of the point's info but `host` (empty for no info). */
export function infoFields(info: object | undefined): string {
  path.length = 0;
  const fields = infoText(info);
  return fields === '' ? '' : withQuote(fields).slice(INFO_KEY.length) + ', ';
}

/** Whether the point goes into the error index (Python: `info.get("etype") is not None`). */
export function hasErrorType(info: object | null | undefined): boolean {
  // null too: search.ts's setIndexEntry reads infos that came from parsed lines.
  if (info === undefined || info === null) return false;
  const e = (info as { etype?: unknown }).etype;
  return e !== undefined && e !== null;
}

/** The constant end of every line of one process: host, project and service. */
export function lineTail(host: string, project: string | null, service: string | null): string {
  return `"host": ${pyString(host)}}, "project": ${project === null ? 'null' : pyString(project)}, "service": ${service === null ? 'null' : pyString(service)}}`;
}

/**
 * One stored notification, as `pyDumps` writes it; `name` already carries
 * `-start`/`-stop`, `timestamp` is ours (plain) and `tail` comes from lineTail.
 */
export function notificationLine(name: string, baseId: string, traceId: string, parentId: string, timestamp: string, info: object | undefined, tail: string): string {
  return pointLine(name, '', baseId, traceId, parentId, timestamp, '', '', info, tail);
}

// '", "timestamp": "' and the timestamp's second, flat, for the last second seen; and that
// text with the last millisecond's three digits, flat too, for the last millisecond seen: a
// line's timestamp is then that piece and the last three digits (a table's string), where
// it was the second's piece and a 6-digit micros string made for each line (24 bytes a line:
// trace-lines.cjs BENCH_ALLOC). Made flat, not left a rope of the two: a rope piece on the
// right of a line's rope is a recursive WriteToFlat call where the batch's lines are joined
// (callgrind, trace-lines nested: 65.1–65.2k instructions a trace vs 64.2–64.9k before; the
// join's flat piece 63.9k). A millisecond's text is made ~0.03 (hello) to ~0.1 (nested) times
// a trace there; `flat()`'s JSON round trip for it read hello +0.2k, the join +0.
let lastSecond = '';
let secondText = '", "timestamp": "';
let lastMilli: string | undefined;
let milliText = secondText;

function timestampHead(second: string, milli: string): string {
  if (second !== lastSecond) {
    lastSecond = second;
    secondText = flat('", "timestamp": "' + second);
    lastMilli = undefined;
  }
  if (milli !== lastMilli) {
    lastMilli = milli;
    // Array.prototype.join writes one sequential string (flat's JSON round trip costs more).
    milliText = milli === '' ? secondText : [secondText, milli].join('');
  }
  return milliText;
}

// Apart from pointLine (run once a process): less of pointLine's code counts against
// TurboFan's inlining budget of the notifier's formatLines, where pointLine is inlined or
// not from run to run (callgrind with --perf-basic-prof, trace-lines nested).
function setTail(tail: string): void {
  lastTail = tail;
  emptyInfoTail = flat(INFO_KEY + tail);
  afterFieldsTails = CLOSES.map((c) => flat(c + ', ' + tail));
}

/**
 * One line, as the notifier builds it: the name is `name` + `suffix` (`-start`/`-stop`),
 * given apart so that no string is built for it (a concatenated name would be flattened
 * for every comparison). The timestamp is `second` + `milli` + `micros` (clock.ts
 * timestampSecond, timestampMilli, timestampSub; or the whole timestamp and two empty
 * strings): the second goes into the line with its key, one flat piece cached per second,
 * joined with the millisecond's digits once a millisecond, so the timestamp adds 2 pieces
 * to the line's rope, not 4 (a piece costs a string addition, a node walked and a memcpy
 * where the lines are joined, and young garbage), and no string of its own.
 * Throws like the object path for unserialisable info.
 */
/**
 * `plainTraceId`: the caller knows `traceId` is plain (a start's fresh uuid4, notifier.ts),
 * so it is neither tested nor compared with the cache (callgrind, traced /nested: the
 * RegExp test and four string comparisons for each of the 6 fresh ids, ~5k a trace).
 * `plainBaseId`: likewise for `baseId`, a new trace's fresh base (notifier.ts FRESH_ROOT).
 */
export function pointLine(name: string, suffix: string, baseId: string, traceId: string, parentId: string, second: string, milli: string, micros: string, info: object | undefined, tail: string, plainTraceId = false, plainBaseId = false): string {
  if (path.length !== 0) path.length = 0; // only after a throw mid-serialisation
  if (tail !== lastTail) setTail(tail);
  const head = nameBaseText(name, suffix, baseId, plainBaseId) + idsText(traceId, parentId, plainTraceId) + timestampHead(second, milli) + micros;
  const fields = infoText(info);
  return fields === '' ? head + emptyInfoTail : head + fields + afterFieldsTails[closeOwed];
}
