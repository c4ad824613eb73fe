/** The redis:// search index's records: a trace's summary JSON, written as text (./index-write.ts) and read back (./index-read.ts). */
import { jsonString } from '@osprofiler/core/instrument';
import { contained } from '../contained';
import type { TraceDelta, TraceRecord } from '@osprofiler/core/instrument';

interface LuaDelta {
  id: string;
  f: string;
  l: string;
  /** Before session 22 (and layout 1's `sum`): timestampMicrosText of f and l; the reader computes them when absent. */
  fu?: string;
  lu?: string;
  p: number;
  e: 0 | 1;
  s: string[];
  pr: string[];
  h: string[];
  ro: { ts: string; top: boolean; name: string; service: string | null; detail: string | null } | false;
  rt: string | false;
  x: string;
}

type WellFormed = { isWellFormed(): boolean; toWellFormed(): string };

/**
 * A string's JSON text, a lone surrogate made U+FFFD first: Lua's cjson refuses its escape
 * (`\ud800`), and the write script decodes a summary to merge a trace's next batch, so one
 * such summary made a whole batch's index update fail (seen on a real redis-server).
 */
function json(s: string): string {
  return jsonString((s as unknown as WellFormed).isWellFormed() ? s : (s as unknown as WellFormed).toWellFormed());
}

function jsonList(list: readonly string[], esc: (s: string) => string): string {
  if (list.length === 0) return '[]';
  let out = '["' + esc(list[0]);
  for (let i = 1; i < list.length; i++) out += '","' + esc(list[i]);
  return out + '"]';
}

/** A string's JSON text without its quotes (see json()). */
function inner(s: string): string {
  const j = json(s);
  return j.slice(1, j.length - 1);
}

const same = (s: string): string => s;

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The last summary's middle parts and the values they were made of, reused by the next
 * trace of a batch with the same values (one service, project and host per batch is
 * usual): every piece joined costs ~135 instructions (the `+` and, when the batch's text
 * is written, V8's flattening), more than comparing the values.
 */
export class SummaryParts {
  p = -1;
  e = false;
  s: readonly string[] = [];
  pr: readonly string[] = [];
  h: readonly string[] = [];
  /** `","p":…,"ro":` */
  mid = '';
  /** mid and `{"ts":"` (a root's opening). */
  midRo = '';
  top = false;
  name = '';
  service: string | null = null;
  detail = false;
  /** `","top":…,"detail":` up to the detail's text (its opening quote included when it has one). */
  rootMid = '';
  /** The route's part (RT_TAILS's, the route, the text's opening) and what it was made of. */
  route: string | null = null;
  routeRt = -1;
  routePlain = false;
  routeTail = '';
}

/** SummaryParts a PartsMemo keeps at most (then it starts again). */
const PARTS_MAX = 1024;

/**
 * SummaryParts per first service and first host (nested Maps: the strings are the batch's
 * shared copies, their hashes cached), so a batch mixing services and hosts (an agent's of
 * several apps, search.cjs's upkeep: 5 services, 20 hosts) reuses its parts instead of
 * joining them again for every trace (two joins, ~3.8k instructions a trace): the driver's
 * main thread 10.8k → 10.5k instructions a line of those batches (callgrind, ABBA). The
 * previous trace's are kept at hand (one service and host a batch: no lookup). Kept from
 * batch to batch (IndexWriter's): summaryText checks a parts' values before it reuses them,
 * and a value that is not plain is escaped the same in a batch that is (see json()), so
 * the next batch's first trace of each pair need not join them again (search.cjs's 20 pairs
 * a batch of 100 traces: ~0.6 joins a trace).
 */
export class PartsMemo {
  private readonly byService = new Map<string, Map<string, SummaryParts>>();
  private lastService: string | undefined;
  private lastHost: string | undefined;
  private last: SummaryParts | undefined;
  private size = 0;

  of(d: TraceDelta): SummaryParts {
    const service = d.services.length > 0 ? d.services[0] : '';
    const host = d.hosts.length > 0 ? d.hosts[0] : '';
    if (service === this.lastService && host === this.lastHost) return this.last!;
    let hosts = this.byService.get(service);
    if (hosts === undefined) this.byService.set(service, (hosts = new Map()));
    let parts = hosts.get(host);
    if (parts === undefined) {
      if (++this.size > PARTS_MAX) {
        this.byService.clear();
        this.size = 1;
        this.byService.set(service, (hosts = new Map()));
      }
      hosts.set(host, (parts = new SummaryParts()));
    }
    this.lastService = service;
    this.lastHost = host;
    this.last = parts;
    return parts;
  }
}

/**
 * A trace's summary JSON exactly as `JSON.stringify` writes its LuaDelta form (the keys in
 * that order, the text as it is (lower-cased before session 22, see below); recordOfLua
 * and the script's cjson read it; a lone surrogate as U+FFFD, see json()), built as text: JSON.stringify
 * of the object cost 8.6k instructions a line of 1-point traces, this 3.9k (callgrind).
 * `fu`, `lu`: timestampMicrosText of d.first and d.last, written after `l` when given
 * (layout 1's `sum`, whose scripts read them; blobs before session 22); the index writer
 * leaves them out ('') since session 22: the reader computes them from `f` and `l`
 * (index-read.ts startOf), the writer saved one µs reading a trace (its last, when its
 * first's minute holds it) and four pieces of the summary's rope. That it read them says
 * they are plain (digits, `-`, `T`, `:`, `.`, space), so they are not checked again. `plain`: every
 * other string of the delta is known plain but the text's line breaks (addToBatch checks a
 * batch's at once), so none is escaped or checked here. `parts`: the batch's last summary's (see SummaryParts).
 * `id`: d.baseId, flat (see encode).
 */
export function summaryText(d: TraceDelta, fu = '', lu = '', plain = false, parts = new SummaryParts(), id = d.baseId, sep = false): string {
  const esc = plain ? same : inner;
  const e = d.error;
  if (d.points !== parts.p || e !== parts.e || !sameList(d.services, parts.s) || !sameList(d.projects, parts.pr) || !sameList(d.hosts, parts.h)) {
    parts.p = d.points;
    parts.e = e;
    parts.s = d.services;
    parts.pr = d.projects;
    parts.h = d.hosts;
    // Joined (a flat string), not `+`: a rope's pieces would each be a step of the batch
    // text's flattening in every summary that holds it (deltas+addToBatch 20.3k → 19.3k
    // instructions a 1-point trace, callgrind, 300 batches of 100).
    parts.mid = ['","p":', String(d.points), e ? ',"e":1,"s":' : ',"e":0,"s":', jsonList(d.services, esc), ',"pr":', jsonList(d.projects, esc), ',"h":', jsonList(d.hosts, esc), ',"ro":'].join('');
    parts.midRo = [parts.mid, '{"ts":"'].join('');
  }
  // Joined left to right, constants next to each other made one (RT_TAILS): each `+` is a
  // piece of the batch text's rope, ~120 instructions with its flattening (25 a summary of
  // search.cjs's traces instead of 28).
  let s = (sep ? '\n{"id":"' : '{"id":"') + esc(id) + '","f":"' + d.first + '","l":"' + d.last;
  if (fu !== '') s += '","fu":"' + fu + '","lu":"' + lu;
  const r = d.root;
  let rt = 0; // the root: 0 none, 1 without detail, 2 with
  if (r === null) s += parts.mid;
  else {
    const detail = r.detail !== null;
    if (r.top !== parts.top || r.name !== parts.name || r.service !== parts.service || detail !== parts.detail || parts.rootMid === '') {
      parts.top = r.top;
      parts.name = r.name;
      parts.service = r.service;
      parts.detail = detail;
      parts.rootMid = [r.top ? '","top":true,"name":"' : '","top":false,"name":"', esc(r.name), r.service === null ? '","service":null,"detail":' : '","service":"' + esc(r.service) + '","detail":', detail ? '"' : ''].join('');
    }
    s += parts.midRo + (r.ts === d.first ? r.ts : esc(r.ts)) + parts.rootMid;
    if (r.detail === null) rt = 1;
    else {
      s += esc(r.detail);
      rt = 2;
    }
  }
  // As it is: lower-cased before session 22 (~340 instructions and a copy a trace); the
  // reader lower-cases a line whose text a search does not find as it is (index-read.ts
  // holdsRuns, recordMatches), which it did for every line not holding it already.
  const x = d.text;
  const route = d.route;
  // A plain text's one escaped character is its line break (PLAIN_TEXT): escaped here
  // instead of JSON.stringify's walk of the whole text.
  if (route === null) return plain ? s + RT_TAILS[rt + 3] + escapeBreaks(x) + '"}' : s + RT_TAILS[rt] + json(x) + '}';
  // The route's part one piece while the batch's traces share their route (one app's few
  // routes): two pieces fewer (2 ConsStrings, ~300 instructions with the flattening).
  if (route !== parts.route || rt !== parts.routeRt || plain !== parts.routePlain) {
    parts.route = route;
    parts.routeRt = rt;
    parts.routePlain = plain;
    parts.routeTail = [RT_TAILS[rt + 6], esc(route), plain ? '","x":"' : '","x":'].join('');
  }
  return plain ? s + parts.routeTail + escapeBreaks(x) + '"}' : s + parts.routeTail + json(x) + '}';
}

/**
 * What follows the root's detail in a summary, by root (none, without detail, with: +0,
 * +1, +2): no route, then no route with the plain text's opening quote (+3), then a route's
 * opening (+6).
 */
const RT_TAILS = [
  'false,"rt":false,"x":', 'null},"rt":false,"x":', '"},"rt":false,"x":',
  'false,"rt":false,"x":"', 'null},"rt":false,"x":"', '"},"rt":false,"x":"',
  'false,"rt":"', 'null},"rt":"', '"},"rt":"',
];

/** `x` with its line breaks as `\\n`, by its pieces between them: `replaceAll` cost ~1.6k instructions a 4-line text (callgrind). */
function escapeBreaks(x: string): string {
  let k = x.indexOf('\n');
  if (k < 0) return x;
  let out = '';
  let from = 0;
  do {
    out += x.slice(from, k) + '\\n';
    from = k + 1;
    k = x.indexOf('\n', from);
  } while (k >= 0);
  return out + x.slice(from);
}

/** The runs of `text` between characters JSON may escape (`"`, `\\`, `/`, controls, DEL): a summary holding the text holds each as it is. */
export function plainRuns(text: string): string[] {
  return [...new Set(text.split(/["\\/\u0000-\u001f\u007f]/).filter((r) => r !== ''))];
}

const arr = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);

/** A stored summary as a record; undefined when it does not parse (counted, unless `quiet`: the caller passes it on). */
export function recordOfLua(j: string | null, quiet = false, micros?: { fu: unknown; lu: unknown }): TraceRecord | undefined {
  if (typeof j !== 'string') return undefined; // trimmed between the page's two reads
  let v: LuaDelta;
  try {
    v = JSON.parse(j) as LuaDelta;
  } catch (err) {
    if (!quiet) contained('redis.search.record', err); // a damaged index entry: skipped, counted
    return undefined;
  }
  if (typeof v.id !== 'string' || typeof v.f !== 'string') return undefined;
  if (micros !== undefined) {
    micros.fu = v.fu;
    micros.lu = v.lu;
  }
  return {
    baseId: v.id,
    first: v.f,
    last: v.l,
    points: Number(v.p) || 0,
    error: v.e === 1,
    services: arr(v.s),
    projects: arr(v.pr),
    hosts: arr(v.h),
    root: v.ro === false || v.ro === null || typeof v.ro !== 'object' ? null : { ...v.ro, service: v.ro.service ?? null, detail: v.ro.detail ?? null },
    route: typeof v.rt === 'string' ? v.rt : null,
    text: typeof v.x === 'string' ? v.x : '',
  };
}
