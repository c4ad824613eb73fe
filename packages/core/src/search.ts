/**
 * Trace search, shared by every readable driver: what a batch contributes to each
 * trace's summary (a "delta"), how deltas merge into a stored record, how a record
 * matches a search and becomes a `TraceSummary`, and the opaque cursor.
 *
 * The notifier fills `LineBatch.index` while it formats (it has each point's name,
 * phase, parent and info at hand), so building deltas never parses a line. Batches
 * without an index (the agent receiving lines from an older client, Python's writes)
 * go through `indexOfLines`, which parses them: off any application's request path.
 */
import { hasErrorType, type LineBatch, type LineIndex } from './line';
import { parseTimestamp } from './timestamp';
import type { SearchOptions, SearchPage, TraceSummary } from './driver';
import { parseStoredEvent } from './drivers/stored-event';
import { eventOfLine } from './line-layout';
import type { Notification } from './notification';

/** Characters of searchable text kept per trace (routes, SQL, commands, errors). */
export const MAX_TEXT = 4096;
/** Characters kept of one point's detail. */
const MAX_DETAIL = 300;
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 1000;

/** What one batch says about one trace. Timestamps are Python's fixed-width text, so they compare as strings. */
export interface TraceDelta {
  baseId: string;
  first: string;
  last: string;
  /** Start events seen (one per point). */
  points: number;
  error: boolean;
  services: string[];
  projects: string[];
  hosts: string[];
  /** The best root candidate of this batch: a start event, preferring parent === base_id, then the earliest. */
  root: RootCandidate | null;
  /** `METHOD route` from a top-level request's stop (routing knows the template only then). */
  route: string | null;
  text: string;
  /**
   * `first` and `last` as timeKey reads them, when the batch had LineBatch.timeKeys (else
   * NaN), on a delta fresh from deltasOfBatch: the redis:// index writer takes the trace's
   * duration from them. A record (mergeDelta's copy) has none; a merge leaves them NaN.
   */
  firstUs?: number;
  lastUs?: number;
}

export interface RootCandidate {
  ts: string;
  top: boolean;
  name: string;
  service: string | null;
  detail: string | null;
}

/** A trace's summary as a store keeps it: deltas merged. */
export type TraceRecord = TraceDelta;

/** The short text a point's info contributes to search and to a root's label (null when none, or when reading the info throws). */
export function pointDetail(info: object | undefined): string | null {
  try {
    return detailOf(info);
  } catch {
    return null; // a hostile getter: the point is still stored, just not searchable by text
  }
}

function detailOf(info: object | undefined): string | null {
  if (info === undefined || info === null) return null;
  const i = info as Record<string, unknown>;
  let out: string | null = null;
  const req = i.request as Record<string, unknown> | undefined;
  if (req !== undefined && req !== null && typeof req === 'object') {
    const where = req.route ?? req.path ?? req.url;
    if (typeof where === 'string') out = typeof req.method === 'string' ? `${req.method} ${where}` : where;
  }
  out ??= stringIn(i, 'db', 'statement') ?? stringIn(i, 'exec', 'command') ?? stringIn(i, 'function', 'name');
  if (i.etype !== undefined && i.etype !== null) {
    const e = `${String(i.etype)}: ${typeof i.message === 'string' ? i.message : ''}`;
    out = out === null ? e : `${out} ${e}`;
  }
  return out === null ? null : out.length > MAX_DETAIL ? out.slice(0, MAX_DETAIL) : out;
}

/** `o[key][field]` when `o[key]` is an object and that field a string, else null. */
function stringIn(o: Record<string, unknown>, key: string, field: string): string | null {
  const v = o[key];
  if (v === undefined || v === null || typeof v !== 'object') return null;
  const s = (v as Record<string, unknown>)[field];
  return typeof s === 'string' ? s : null;
}

/**
 * The index of lines that came without one (not for the request path): each line read by
 * its layout, or parsed whole when off it (./line-layout.ts). `heads[i]`, when given, is
 * line i's head already matched (see eventOfLine).
 */
export function indexOfLines(batch: Pick<LineBatch, 'lines'>, heads?: readonly (RegExpExecArray | null)[]): LineIndex {
  const { lines } = batch;
  const events = new Array<Record<string, unknown> | undefined>(lines.length);
  for (let i = 0; i < lines.length; i++) events[i] = eventOfLine(lines[i], heads?.[i]);
  return indexOfEvents(events);
}

/** The index of lines already parsed (undefined: a line that did not parse), for drivers that parse them anyway. */
export function indexOfEvents(events: readonly (Record<string, unknown> | undefined)[]): LineIndex {
  const n = events.length;
  const index = newLineIndex(n);
  // The error bit setIndexEntry answers is not kept: a batch of lines carries its errors.
  for (let i = 0; i < n; i++) setIndexEntry(index, i, events[i] ?? {});
  return index;
}

/** A LineIndex for `n` points, to be filled by setIndexEntry. */
export function newLineIndex(n: number): LineIndex {
  // Arrays of their final length, filled by index: a push cost ~125 instructions (7 a line, callgrind).
  return { names: new Array<string>(n), phases: new Uint8Array(n), parentIds: new Array<string>(n), projects: new Array<string | null>(n), services: new Array<string | null>(n), hosts: new Array<string>(n), details: new Array<string | null>(n), routes: new Array<string | null>(n) };
}

/** What the search index reads of a point: a notification object, or a stored line parsed. */
export interface IndexedPoint {
  readonly name?: unknown;
  readonly parent_id?: unknown;
  readonly project?: unknown;
  readonly service?: unknown;
  readonly info?: unknown;
}

/**
 * Point i's search-index entry, the one place it is made (indexOfEvents, recordOfEvents,
 * linesOfNotifications, deltasOfNotifications; the notifier's own points, held apart,
 * share pointDetail and stopRoute); returns whether the point goes into the error index
 * (line.ts hasErrorType, of an info that is an object). Each field is read as it is
 * from the point's line, so an index handed over with lines equals the one parsing them
 * gives (test/search.test.ts): a field that is not a string indexes as '' (name,
 * parent_id) or null (project, service); an info that is not an object gives no host,
 * detail, route or error.
 */
export function setIndexEntry(index: LineIndex, i: number, p: IndexedPoint): boolean {
  const full = typeof p.name === 'string' ? p.name : '';
  const stop = full.endsWith('-stop');
  const v = p.info;
  const info = v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  writeIndexEntry(
    index,
    i,
    pointName(full, stop),
    stop,
    typeof p.parent_id === 'string' ? p.parent_id : '',
    typeof p.project === 'string' ? p.project : null,
    typeof p.service === 'string' ? p.service : null,
    typeof info?.host === 'string' ? info.host : '',
    pointDetail(info),
    stop ? stopRoute(info) : null,
  );
  return hasErrorType(info);
}

/**
 * Entry `i`'s fields, as setIndexEntry makes them from a point; also for callers that kept
 * a point's INFO parts (host, detail, route) from an earlier line (line-layout.ts).
 */
export function writeIndexEntry(index: LineIndex, i: number, name: string, stop: boolean, parentId: string, project: string | null, service: string | null, host: string, detail: string | null, route: string | null): void {
  index.names[i] = name;
  index.phases[i] = stop ? 1 : 0;
  index.parentIds[i] = parentId;
  index.projects[i] = project;
  index.services[i] = service;
  index.hosts[i] = host;
  index.details[i] = detail;
  index.routes[i] = stop ? route : null;
}

/**
 * An event's name without its `-start`/`-stop` (`stop`: it ends with `-stop`), cut by
 * length: `replace(/-(start|stop)$/, '')` cost ~700 instructions a line (callgrind).
 */
export function pointName(full: string, stop: boolean): string {
  return stop ? full.slice(0, -5) : full.endsWith('-start') ? full.slice(0, -6) : full;
}

/** A stop's route label: `METHOD route` when its info carries the route template (a top-level request's label), else null (also when reading the info throws). */
export function stopRoute(info: object | undefined): string | null {
  try {
    const req = (info as Record<string, unknown> | undefined)?.request as Record<string, unknown> | undefined;
    if (req === undefined || req === null || typeof req !== 'object' || typeof req.route !== 'string') return null;
    const m = typeof req.method === 'string' ? req.method : undefined;
    return m === undefined ? req.route : `${m} ${req.route}`;
  } catch {
    return null;
  }
}

function addUnique(list: string[], v: string | null): void {
  // A trace's points mostly share their service, project and host: the last one first (no
  // list holds null or '').
  const n = list.length;
  if (n > 0 && list[n - 1] === v) return;
  if (v === null || v === '') return;
  if (!list.includes(v)) list.push(v);
}

/** A trace's list of one value, as addUnique leaves an empty one. */
function listOf(v: string | null): string[] {
  return v === null || v === '' ? [] : [v];
}

function appendText(text: string, more: string | null): string {
  if (more === null || more === '' || text.length >= MAX_TEXT) return text;
  if (text === '') return more.length > MAX_TEXT ? more.slice(0, MAX_TEXT) : more;
  if (more.length <= text.length && text.includes(more)) return text;
  const t = text + '\n' + more;
  return t.length > MAX_TEXT ? t.slice(0, MAX_TEXT) : t;
}

function betterRoot(a: RootCandidate | null, b: RootCandidate | null): RootCandidate | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.top !== b.top) return a.top ? a : b;
  return b.ts < a.ts ? b : a;
}

/**
 * Per trace, what this batch adds to its summary. Per line only what can change the
 * trace's summary is looked at (a 10-point trace's 20 lines cost ~19k instructions here,
 * callgrind): a start's root candidate is made and its parent compared only when it could
 * win (as betterRoot decides), a text the trace's last line added is not searched for again
 * (appendText would leave the text as it is), and timestamps come mostly in order.
 */
export function deltasOfBatch(batch: LineBatch): Map<string, TraceDelta> {
  const index = batch.index ?? indexOfLines(batch);
  const out = new Map<string, TraceDelta>();
  const { baseIds, timestamps, errors } = batch;
  // Numbers compared where the batch has them (LineBatch.timeKeys), else the texts.
  const keys = batch.timeKeys;
  const { services, projects, hosts, details, phases, parentIds, names, routes } = index;
  let d: TraceDelta | undefined;
  // The last text appendText was given for `d`: appendText(t, x) leaves a text holding x, or
  // MAX_TEXT long, so the same x again changes nothing.
  let lastText: string | null = null;
  // The batch's traces mostly share their service, project, host and root name, each
  // line's its own copy (parsed, or made by replace()): a trace's values are the first
  // copy seen, so the redis:// index's comparisons of them (several a trace) find the same
  // object, not two strings compared by their characters (~270 instructions each, callgrind).
  let service: string | null = null;
  let project: string | null = null;
  let host = '';
  let name = '';
  // Whether d's root candidate is at d's first timestamp.
  let rootFirst = false;
  // The values d's lists were last given (addUnique), null when not known.
  let lastService: string | null = null;
  let lastProject: string | null = null;
  let lastHost: string | null = null;
  for (let i = 0; i < baseIds.length; i++) {
    const baseId = baseIds[i];
    const ts = timestamps[i];
    const key = keys === undefined ? NaN : keys[i];
    let made = false;
    if (d === undefined || d.baseId !== baseId) {
      d = out.get(baseId);
      if (d === undefined) {
        if (services[i] !== service) service = services[i];
        if (projects[i] !== project) project = projects[i];
        if (hosts[i] !== host) host = hosts[i];
        // The trace's first line's values in arrays made with them (as addUnique adds): an
        // empty array grown by its first push cost ~100 instructions each (callgrind).
        d = { baseId, first: ts, last: ts, points: 0, error: false, services: listOf(service), projects: listOf(project), hosts: listOf(host), root: null, route: null, text: '', firstUs: key, lastUs: key };
        out.set(baseId, d);
        made = true;
        lastService = service;
        lastProject = project;
        lastHost = host;
      } else {
        lastService = lastProject = lastHost = null;
      }
      lastText = null;
      rootFirst = false; // not known for a trace met again
    }
    // Timestamps are slices of the frame's text: V8 compares those in its runtime, not in
    // the builtin (~400 instructions a compare, callgrind). A line later than the trace's
    // last so far is later than its root candidate too (one of the trace's lines), so the
    // root's `ts < a.ts` below is asked only of a line that came out of order.
    // Likewise a line earlier than the trace's first is earlier than its root candidate, and
    // one in between is not when the candidate is the trace's first line (`rootFirst`): the
    // root's compare is left to a start in between a later root (3 compares of a 10-point
    // trace of search.cjs's saved; in the agent, where timestamps are slices of the frame's
    // text, each goes through the runtime).
    // With keys (the agent's lines) the same questions of numbers: keyed timestamps order as
    // their texts, and equal keys are equal texts.
    let later = false;
    let earlier = false;
    if (keys !== undefined) {
      if (key > (d.lastUs as number)) {
        d.last = ts;
        d.lastUs = key;
        later = true;
      } else if (key < (d.firstUs as number)) {
        d.first = ts;
        d.firstUs = key;
        earlier = true;
        rootFirst = false;
      }
    } else if (ts > d.last) {
      d.last = ts;
      later = true;
    } else if (ts < d.first) {
      d.first = ts;
      earlier = true;
      rootFirst = false;
    }
    if (errors !== null && errors[i] === 1) d.error = true;
    if (!made) {
      // A value the trace's lists were given last (or null) changes nothing: one compare, not addUnique's reads.
      const sv = services[i];
      if (sv !== lastService) {
        addUnique(d.services, sv);
        lastService = sv;
      }
      const pv = projects[i];
      if (pv !== lastProject) {
        addUnique(d.projects, pv);
        lastProject = pv;
      }
      const hv = hosts[i];
      if (hv !== lastHost) {
        addUnique(d.hosts, hv);
        lastHost = hv;
      }
    }
    const detail = details[i];
    if (detail !== null && detail !== lastText) {
      d.text = appendText(d.text, detail);
      lastText = detail;
    }
    if (phases[i] === 0) {
      d.points++;
      // betterRoot(d.root, this start): a top-level start beats any other, else the earlier wins.
      const a = d.root;
      // ts < a.ts, asked only when the answer is not known already. The batch's shared name
      // and service (see above) are looked for only when a root is made: a trace's other
      // starts compared them for nothing (two string compares each).
      if (a === null) {
        if (names[i] !== name) name = names[i];
        if (services[i] !== service) service = services[i];
        d.root = { ts, top: parentIds[i] === baseId, name, service, detail };
        rootFirst = made || earlier;
      } else if (a.top) {
        if (!later && (earlier || (!rootFirst && ts < a.ts)) && parentIds[i] === baseId) {
          if (names[i] !== name) name = names[i];
          if (services[i] !== service) service = services[i];
          d.root = { ts, top: true, name, service, detail };
          rootFirst = earlier;
        }
      } else {
        const top = parentIds[i] === baseId;
        if (top || (!later && (earlier || (!rootFirst && ts < a.ts)))) {
          if (names[i] !== name) name = names[i];
          if (services[i] !== service) service = services[i];
          d.root = { ts, top, name, service, detail };
          rootFirst = made || earlier;
        }
      }
    } else if (d.route === null && routes[i] !== null && parentIds[i] === baseId) {
      d.route = routes[i];
      // A top-level stop's detail is mostly its route (appendText was just given it): a search
      // of the text saved, deltasOfBatch ~8.5k → ~7.8k instructions a varied 5-point trace
      // (callgrind, both builds in one process).
      if (d.route !== lastText) {
        d.text = appendText(d.text, d.route);
        lastText = d.route;
      }
    }
  }
  return out;
}

/** Merges a delta into a record (a fresh copy when `rec` is undefined). */
export function mergeDelta(rec: TraceRecord | undefined, d: TraceDelta): TraceRecord {
  if (rec === undefined) {
    // The record's fields only (no timestamp keys: see TraceDelta.firstUs).
    const { baseId, first, last, points, error, root, route, text } = d;
    return { baseId, first, last, points, error, services: [...d.services], projects: [...d.projects], hosts: [...d.hosts], root, route, text };
  }
  if (rec.firstUs !== undefined) rec.firstUs = rec.lastUs = NaN;
  if (d.first < rec.first) rec.first = d.first;
  if (d.last > rec.last) rec.last = d.last;
  rec.points += d.points;
  rec.error ||= d.error;
  for (const s of d.services) addUnique(rec.services, s);
  for (const s of d.projects) addUnique(rec.projects, s);
  for (const s of d.hosts) addUnique(rec.hosts, s);
  rec.root = betterRoot(rec.root, d.root);
  rec.route ??= d.route;
  for (const line of d.text.split('\n')) rec.text = appendText(rec.text, line);
  return rec;
}

/** Epoch microseconds of an OSProfiler timestamp (NaN when it does not parse). */
export function timestampMicros(ts: string): number {
  const us = parseTimestamp(ts);
  return us === undefined ? NaN : Number(us);
}

/** Epoch ms of a trace's start, as search's `since`/`until` compare it. */
export function recordStartMs(rec: { first: string }): number {
  return timestampMicros(rec.first) / 1000;
}

export function recordDurationMs(rec: { first: string; last: string }): number {
  return (timestampMicros(rec.last) - timestampMicros(rec.first)) / 1000;
}

/** The root's label: `METHOD route` (the method from the start, the route from the stop), else the start's detail. */
export function rootLabel(route: string | null, detail: string | null): string | null {
  if (route === null) return detail;
  if (/^[A-Z]+ /.test(route)) return route;
  const m = detail === null ? null : /^([A-Z]+) /.exec(detail);
  return m === null ? route : `${m[1]} ${route}`;
}

/** The summary a search returns for a record. */
export function summaryOfRecord(rec: TraceRecord, indexed = true): TraceSummary {
  return {
    base_id: rec.baseId,
    timestamp: rec.first,
    started: rec.first,
    duration_ms: Math.round(recordDurationMs(rec) * 1000) / 1000,
    root_name: rec.root?.name ?? null,
    root_service: rec.root?.service ?? null,
    root_detail: rootLabel(rec.route, rec.root?.detail ?? null),
    services: rec.services,
    projects: rec.projects,
    hosts: rec.hosts,
    points: rec.points,
    error: rec.error,
    indexed,
  };
}

/** Search options checked and normalised (limit clamped, strings trimmed, text lower-cased). */
export interface NormalisedSearch {
  limit: number;
  project?: string;
  service?: string;
  root?: string;
  host?: string;
  sinceMs?: number;
  untilMs?: number;
  minDurationMs?: number;
  maxDurationMs?: number;
  errorsOnly: boolean;
  /** Lower-cased. */
  text?: string;
  after?: Cursor;
}

/** Position after the last hit of a page: newest first, ties by base_id descending. */
export interface Cursor {
  startUs: number;
  baseId: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.startUs, c.baseId]), 'utf8').toString('base64url');
}

export function decodeCursor(s: string): Cursor {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && Number.isFinite(v[0]) && typeof v[1] === 'string') return { startUs: v[0], baseId: v[1] };
  } catch {
    // falls through
  }
  throw new TypeError('search cursor is not one this store returned');
}

function num(name: string, v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new TypeError(`search option ${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

export function normaliseSearch(o: SearchOptions = {}): NormalisedSearch {
  const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(num('limit', o.limit) ?? DEFAULT_PAGE)));
  const text = str(o.text)?.toLowerCase();
  return {
    limit,
    project: str(o.project),
    service: str(o.service),
    root: str(o.root),
    host: str(o.host),
    sinceMs: num('since', o.since instanceof Date ? o.since.getTime() : o.since),
    untilMs: num('until', o.until instanceof Date ? o.until.getTime() : o.until),
    minDurationMs: num('minDurationMs', o.minDurationMs),
    maxDurationMs: num('maxDurationMs', o.maxDurationMs),
    errorsOnly: o.errorsOnly === true,
    text,
    after: o.cursor === undefined || o.cursor === null || o.cursor === '' ? undefined : decodeCursor(o.cursor),
  };
}

/** Whether a record passes every filter (not the cursor). */
export function recordMatches(rec: TraceRecord, s: NormalisedSearch): boolean {
  if (s.errorsOnly && !rec.error) return false;
  if (s.service !== undefined && !rec.services.includes(s.service)) return false;
  if (s.project !== undefined && !rec.projects.includes(s.project)) return false;
  if (s.host !== undefined && !rec.hosts.includes(s.host)) return false;
  if (s.root !== undefined && rec.root?.name !== s.root) return false;
  if (s.sinceMs !== undefined || s.untilMs !== undefined) {
    const t = recordStartMs(rec);
    if (s.sinceMs !== undefined && !(t >= s.sinceMs)) return false;
    if (s.untilMs !== undefined && !(t <= s.untilMs)) return false;
  }
  if (s.minDurationMs !== undefined || s.maxDurationMs !== undefined) {
    const d = recordDurationMs(rec);
    if (s.minDurationMs !== undefined && !(d >= s.minDurationMs)) return false;
    if (s.maxDurationMs !== undefined && !(d <= s.maxDurationMs)) return false;
  }
  if (s.text !== undefined) {
    const hay = `${rec.text}\n${rec.root?.name ?? ''}`.toLowerCase();
    if (!hay.includes(s.text)) return false;
  }
  return true;
}

/** Orders newest first, ties by base_id descending (the cursor's order). */
export function compareNewestFirst(a: Cursor, b: Cursor): number {
  if (a.startUs !== b.startUs) return b.startUs - a.startUs;
  return a.baseId < b.baseId ? 1 : a.baseId > b.baseId ? -1 : 0;
}

/** A page out of records held in memory (memory://, file://): filter, order, cut after the cursor. */
export function searchRecords(records: Iterable<TraceRecord>, options: SearchOptions = {}): SearchPage {
  const s = normaliseSearch(options);
  const hits: { key: Cursor; rec: TraceRecord }[] = [];
  for (const rec of records) {
    const key = { startUs: timestampMicros(rec.first), baseId: rec.baseId };
    if (s.after !== undefined && compareNewestFirst(key, s.after) <= 0) continue;
    if (recordMatches(rec, s)) hits.push({ key, rec });
  }
  hits.sort((a, b) => compareNewestFirst(a.key, b.key));
  const page = hits.slice(0, s.limit);
  const last = page[page.length - 1];
  return {
    traces: page.map((h) => summaryOfRecord(h.rec)),
    cursor: hits.length > s.limit && last !== undefined ? encodeCursor(last.key) : null,
  };
}

/** A record serialised for stores that keep text (file://, redis hash field). */
export function recordToJson(rec: TraceRecord): string {
  // A delta stored as its record (the file driver's first for a trace) without its keys.
  const { baseId, first, last, points, error, services, projects, hosts, root, route, text } = rec;
  return JSON.stringify({ baseId, first, last, points, error, services, projects, hosts, root, route, text });
}

export function recordFromJson(text: string): TraceRecord | undefined {
  try {
    const v = JSON.parse(text) as TraceRecord;
    if (typeof v.baseId === 'string' && typeof v.first === 'string' && typeof v.last === 'string' && Array.isArray(v.services)) return v;
  } catch {
    // damaged: skipped
  }
  return undefined;
}

/** A summary record built from whole stored events (a trace no index covers, e.g. written by Python). */
export function recordOfEvents(baseId: string, lines: readonly string[]): TraceRecord | undefined {
  // Each line parsed once, for its timestamp, index entry and error bit; one without a timestamp is left out.
  const kept: string[] = [];
  const timestamps: string[] = [];
  const events: Record<string, unknown>[] = [];
  for (const line of lines) {
    const ev = parseStoredEvent(line);
    if (ev === undefined || typeof ev.timestamp !== 'string' || ev.timestamp === '') continue;
    kept.push(line);
    timestamps.push(ev.timestamp);
    events.push(ev);
  }
  const n = events.length;
  if (n === 0) return undefined;
  const index = newLineIndex(n);
  const errors = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (setIndexEntry(index, i, events[i])) errors[i] = 1;
  return deltasOfBatch({ baseIds: new Array<string>(n).fill(baseId), timestamps, lines: kept, errors, index }).get(baseId);
}

/** Per trace, what a batch of notification objects adds (drivers whose write path takes objects). */
export function deltasOfNotifications(batch: readonly Notification[]): Map<string, TraceDelta> {
  const n = batch.length;
  const index = newLineIndex(n);
  const baseIds = new Array<string>(n);
  const timestamps = new Array<string>(n);
  const errors = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const ev = batch[i];
    if (setIndexEntry(index, i, ev)) errors[i] = 1;
    baseIds[i] = String(ev.base_id);
    timestamps[i] = String(ev.timestamp);
  }
  return deltasOfBatch({ baseIds, timestamps, lines: [], errors, index });
}
