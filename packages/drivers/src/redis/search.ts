/** Keeping and searching the redis:// search index (layout and scripts in ./index-scripts.ts). */
import type { Redis as RedisClient } from 'ioredis';
import { jsonString, searchIndex } from '@osprofiler/core/instrument';
import { contained } from '../contained';
import type { SearchOptions, SearchPage } from '@osprofiler/core';
import type { TraceDelta, TraceRecord } from '@osprofiler/core/instrument';
import { DUR_BUCKET_MAX, IDX, INDEX_SCRIPT, MERGED_SCRIPT, durBucket } from './index-scripts';
import { IndexReader } from './index-read';
import { Script, type RespEncoder } from './resp';

/** The filter sets' prefix. */
const IN = IDX + 'in:';
const START = IDX + 'start';
const DUR = IDX + 'dur:';
const SUM = IDX + 'sum';
import { timestampMicrosText } from '../timestamp';

/** The search's bounds live with the reader (./index-read.ts). */
export { SEARCH_BOUND, UNINDEXED_SCAN_BOUND } from './index-read';
/** ZSET trimming runs at most this often per driver. */
const TRIM_EVERY_MS = 60_000;

interface LuaDelta {
  id: string;
  f: string;
  l: string;
  fu: string;
  lu: string;
  p: number;
  e: 0 | 1;
  s: string[];
  pr: string[];
  h: string[];
  ro: { ts: string; top: boolean; name: string; service: string | null; detail: string | null } | false;
  rt: string | false;
  x: string;
}

/** The write script, sent as EVALSHA on the driver's write connection (loaded there at connect). */
export const INDEX = new Script(INDEX_SCRIPT);
/** The driver's merges (IndexFollowUp), loaded with INDEX. */
export const MERGED = new Script(MERGED_SCRIPT);

const CRLF = '\r\n';
/**
 * The usual lengths' headers, made up front: filled on demand, the array went sparse
 * (dictionary elements, each lookup hashed: 21.1k → 20.4k instructions a 1-point trace for
 * deltas and addToBatch, callgrind, 600 batches of 100 traces).
 */
const HEADS: string[] = Array.from({ length: 1024 }, (_, n) => '$' + n + CRLF);

/** A bulk string's header `$<n>\r\n`. */
function head(n: number): string {
  return n < 1024 ? HEADS[n] : '$' + n + CRLF;
}

/** A bulk string framed; its length in characters, or with `bytes` in UTF-8 bytes. */
function frame(s: string, bytes: boolean): string {
  return head(bytes ? Buffer.byteLength(s) : s.length) + s + CRLF;
}

/** A command name's part of its header (`\r\n$<n>\r\n<name>\r\n`), for cmd(). */
function named(name: string): string {
  return [CRLF, head(name.length), name, CRLF].join('');
}

const SADD = named('SADD');
const ZADD = named('ZADD');
const HMGET = named('HMGET');
const HSET = named('HSET');
const EVALSHA = named('EVALSHA');

/**
 * A command's header: `*<argc>` and its name's part (named()), made once: built here from
 * four pieces, every SADD's header cost ~3 more joins (and steps of the batch text's
 * flattening) than now (search.cjs's traces: ~0.9 SADDs a trace, see encode).
 */
function cmd(argc: number, name: string): string {
  return '*' + argc + name;
}

const MULTI = cmd(1, named('MULTI'));
const EXEC = cmd(1, named('EXEC'));

/**
 * A trace's duration in µs, `Number(lu) - Number(fu)` of its µs texts: when its first and
 * last timestamps (Python's 26-character form) share their minute, the difference of their
 * seconds' and six fraction digits, read here (µs are linear in them within a minute, by
 * either parse of timestampMicrosText); else by Number() (~1.3k instructions a trace for
 * two, their texts hashed and parsed as doubles, callgrind: search.cjs's traces, up to a
 * second long, cross a second in about half of them).
 */
function durationMicros(first: string, last: string, fu: string, lu: string): number {
  if (first.length === 26 && last.length === 26) {
    let same = true;
    for (let i = 0; i < 17; i++) {
      if (first.charCodeAt(i) !== last.charCodeAt(i)) {
        same = false;
        break;
      }
    }
    if (same && first.charCodeAt(19) === 46 && last.charCodeAt(19) === 46) {
      let a = 0;
      let b = 0;
      for (let i = 17; i < 26; i++) {
        if (i === 19) continue;
        const x = first.charCodeAt(i) - 48;
        const y = last.charCodeAt(i) - 48;
        if (x < 0 || x > 9 || y < 0 || y > 9) return Number(lu) - Number(fu);
        a = a * 10 + x;
        b = b * 10 + y;
      }
      return b - a;
    }
  }
  return Number(lu) - Number(fu);
}

/** Each duration bucket's key framed, made once (flat) when first used: a batch of search.cjs's traces has ~45 buckets. */
const DUR_KEYS: (string | undefined)[] = Array.from({ length: DUR_BUCKET_MAX + 1 }, () => undefined);

function durKey(k: number): string {
  return (DUR_KEYS[k] ??= [head((DUR + k).length), DUR, String(k), CRLF].join(''));
}

/** The write script's call: trim cutoff, then `n` traces' framed id and summary (`pairs`). */
function scriptCall(trim: string, n: number, pairs: string): string {
  return cmd(5 + 2 * n, EVALSHA) + frame(INDEX.sha, false) + frame('0', false) + frame(trim, false) + frame(String(n), false) + pairs;
}

/**
 * After a batch sent with addToBatch(…, firstWrite): its `MULTI; HMGET sum <ids>; HSET sum
 * <id summary>…; EXEC` stored every trace's summary of this batch and answered, per trace,
 * the summary it replaced (null for a trace's first batch, the usual case): two commands a
 * batch instead of one HSETNX a trace cost Redis 4.6k instead of 6.9k instructions a trace
 * (callgrind, 100-trace batches into a hash of 20,000). A replaced summary is merged here
 * with the batch's delta (core's mergeDelta, as INDEX_SCRIPT merges) and written by
 * MERGED_SCRIPT where the stored summary is still the batch's; where another writer merged
 * in between, and for a replaced summary not read here, INDEX_SCRIPT merges it into the
 * stored one. Were the follow-up lost (connection gone), the trace's summary would lack its
 * earlier batches' part, as with HSETNX it lacked the later batch's.
 */
export class IndexFollowUp {
  /** The traces sent through MERGED_SCRIPT, in its order, and the summary each replaced. */
  private readonly cas: { i: number; old: string }[] = [];

  constructor(
    /** The EXEC's command index in its batch. */
    readonly exec: number,
    /** Per trace, in the HMGET's order: its framed id, the summary sent, its delta and µs texts. */
    private readonly ids: readonly string[],
    private readonly sums: readonly string[],
    private readonly deltas: readonly TraceDelta[],
    private readonly fus: readonly string[],
    private readonly lus: readonly string[],
    private readonly buckets: readonly number[],
  ) {}

  /** The HMGET's answer; undefined (the failure counted) when the transaction did not run. */
  private replaced(replies: readonly unknown[]): readonly unknown[] | undefined {
    const r = replies[this.exec];
    if (Array.isArray(r) && Array.isArray(r[0])) {
      if (r[1] instanceof Error) contained('redis.index', r[1]);
      return r[0] as unknown[];
    }
    contained('redis.index', Array.isArray(r) ? r[0] : r instanceof Error ? r : new Error('redis:// index: the summaries\' transaction did not run'));
    return undefined;
  }

  /** Whether any trace of the batch was indexed before (the HMGET found its summary). */
  needsMerge(replies: readonly unknown[]): boolean {
    const got = this.replaced(replies);
    if (got === undefined) return false;
    for (let i = 0; i < got.length; i++) if (typeof got[i] === 'string') return true;
    return false;
  }

  /** The merges of the replaced summaries (needsMerge): MERGED_SCRIPT's call, then INDEX_SCRIPT's for those not read here. */
  encodeMerges(enc: RespEncoder, replies: readonly unknown[]): void {
    const got = (replies[this.exec] as unknown[][])[0];
    let cas = '';
    let script = '';
    let n = 0;
    for (let i = 0; i < this.ids.length; i++) {
      const old = got[i];
      if (typeof old !== 'string') continue;
      const merged = this.merged(i, old);
      if (merged === undefined) {
        script += this.ids[i] + frame(old, true);
        n++;
      } else {
        cas += this.ids[i] + frame(this.sums[i], true) + merged;
        this.cas.push({ i, old });
      }
    }
    if (this.cas.length > 0) enc.framedCommands(cmd(3 + 7 * this.cas.length, EVALSHA) + frame(MERGED.sha, false) + frame('0', false) + cas, 1, false, MERGED, 0);
    if (n > 0) enc.framedCommands(scriptCall('', n, script), 1, false, INDEX, 0);
  }

  /**
   * MERGED_SCRIPT's arguments after the id and the summary sent: merged summary, start, the
   * three buckets; undefined when `old` does not parse. The µs texts and buckets come from
   * the two summaries where the merged trace keeps their ends (Number() of a 16-digit text
   * ~800 instructions here).
   */
  private merged(i: number, old: string): string | undefined {
    const was = { fu: undefined as unknown, lu: undefined as unknown };
    const rec = recordOfLua(old, true, was);
    if (rec === undefined || typeof was.fu !== 'string' || typeof was.lu !== 'string') return undefined;
    const wasFirst = rec.first;
    const wasLast = rec.last;
    const d = this.deltas[i];
    const m = searchIndex.mergeDelta(rec, d);
    const fu = m.first === wasFirst ? was.fu : m.first === d.first ? this.fus[i] : timestampMicrosText(m.first);
    const lu = m.last === wasLast ? was.lu : m.last === d.last ? this.lus[i] : timestampMicrosText(m.last);
    if (fu === undefined || lu === undefined) return undefined;
    const wasBucket = durBucket(Number(was.lu) - Number(was.fu));
    const sent = this.buckets[i];
    const now = fu === was.fu && lu === was.lu ? wasBucket : fu === this.fus[i] && lu === this.lus[i] ? sent : durBucket(Number(lu) - Number(fu));
    return frame(summaryText(m, fu, lu), true) + frame(fu, false) + frame(String(wasBucket), false) + frame(String(sent), false) + frame(String(now), false);
  }

  /** After the merges' replies: whether MERGED_SCRIPT found a summary another writer had changed (those go through INDEX_SCRIPT). */
  needsRetry(replies: readonly unknown[]): boolean {
    if (this.cas.length === 0) return false;
    const r = replies[0];
    return Array.isArray(r) && r.includes(0);
  }

  /** INDEX_SCRIPT's call merging those replaced summaries into the stored ones (needsRetry). */
  encodeRetries(enc: RespEncoder, replies: readonly unknown[]): void {
    const r = replies[0] as unknown[];
    let script = '';
    let n = 0;
    this.cas.forEach(({ i, old }, k) => {
      if (r[k] !== 0) return;
      script += this.ids[i] + frame(old, true);
      n++;
    });
    enc.framedCommands(scriptCall('', n, script), 1, false, INDEX, 0);
  }
}

/**
 * The framed ids of the batch's traces in one set (one SADD). While its traces are the
 * batch's first n (`run`: every trace so far has the value, the usual case for a service,
 * project, host, root and duration bucket), `ids` is not built: it is the batch's ids'
 * prefix (BatchIds), joined once at the end instead of one `+=` per trace and set:
 * deltas+addToBatch 20.5k → 20.3k instructions a 1-point trace (callgrind, 300 batches of 100).
 */
interface Members {
  ids: string;
  n: number;
  run: boolean;
}

/** The batch's framed ids in order, and their prefixes joined (flat: one copy each). */
class BatchIds {
  readonly fids: string[] = [];
  /** The last prefix joined, and its length: the batch's sets mostly hold all of its traces. */
  private last = '';
  private lastN = 0;

  /** The first `n` ids as one text. */
  prefix(n: number): string {
    if (n !== this.lastN) {
      this.last = n === this.fids.length ? this.fids.join('') : this.fids.slice(0, n).join('');
      this.lastN = n;
    }
    return this.last;
  }
}

/** A new set's members: trace `i`'s id, as a run when `i` is the batch's first. */
function members(fid: string, i: number): Members {
  return i === 0 ? { ids: '', n: 1, run: true } : { ids: fid, n: 1, run: false };
}

/** Trace `i` (its id `fid`) joins `g`: the run goes on while it is the next trace, else its ids are joined. */
function addMember(g: Members, fid: string, i: number, all: BatchIds): void {
  if (g.run) {
    if (i === g.n) {
      g.n++;
      return;
    }
    g.ids = all.prefix(g.n);
    g.run = false;
  }
  g.ids += fid;
  g.n++;
}

/** A set's framed ids as text. */
function idsOf(g: Members, all: BatchIds): string {
  return g.run ? all.prefix(g.n) : g.ids;
}

/**
 * One `in:` kind's sets in a batch, value → framed ids, the last value's group at hand: a
 * batch's traces mostly share their values, and Map.get first hashes each trace's own copy
 * of the string (parsed from its line).
 */
class Groups {
  readonly map = new Map<string, Members>();
  private lastValue: string | undefined;
  private last: Members | undefined;

  constructor(readonly all: BatchIds) {}

  /** Trace `i`, its framed id `fid`, has `value`. */
  add(value: string, fid: string, i: number): void {
    let g = value === this.lastValue ? this.last : this.map.get(value);
    if (g === undefined) {
      g = members(fid, i);
      this.map.set(value, g);
    } else {
      addMember(g, fid, i, this.all);
    }
    this.lastValue = value;
    this.last = g;
  }
}

/** One SADD per value: its set's key (`prefix` + value) and the ids; the key joins `keys` when given. */
function sadds(groups: Groups, prefix: string, bytes: boolean, keys?: { text: string; n: number }): string {
  let out = '';
  for (const [value, g] of groups.map) {
    const key = frame(prefix + value, bytes);
    out += cmd(2 + g.n, SADD) + key + idsOf(g, groups.all);
    if (keys !== undefined) {
      keys.text += key;
      keys.n++;
    }
  }
  return out;
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

/**
 * A character JSON escapes or one past ASCII (as core's isPlainString): a batch whose
 * strings have none is written without a check per string (NOT_PLAIN_TEXT: the traces'
 * texts, whose only escaped character may then be their line breaks).
 */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const PLAIN_TEXT = /^[\n\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function sameList(a: readonly string[], b: readonly string[]): boolean {
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
 * batch to batch (RedisSearch's): summaryText checks a parts' values before it reuses them,
 * and a value that is not plain is escaped the same in a batch that is (see json()), so
 * the next batch's first trace of each pair need not join them again (search.cjs's 20 pairs
 * a batch of 100 traces: ~0.6 joins a trace).
 */
class PartsMemo {
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
 * that order, the text lower-cased: the search script looks for a text in it; recordOfLua
 * and the script's cjson read it; a lone surrogate as U+FFFD, see json()), built as text: JSON.stringify
 * of the object cost 8.6k instructions a line of 1-point traces, this 3.9k (callgrind).
 * `fu`, `lu`: timestampMicrosText of d.first and d.last. That it read them says they are
 * plain (digits, `-`, `T`, `:`, `.`, space), so they are not checked again. `plain`: every
 * other string of the delta is known plain but the text's line breaks (addToBatch checks a
 * batch's at once), so none is escaped or checked here. `parts`: the batch's last summary's (see SummaryParts).
 * `id`: d.baseId, flat (see encode).
 */
export function summaryText(d: TraceDelta, fu: string, lu: string, plain = false, parts = new SummaryParts(), id = d.baseId): string {
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
  let s = '{"id":"' + esc(id) + '","f":"' + d.first + '","l":"' + d.last + '","fu":"' + fu + '","lu":"' + lu;
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
  const x = d.text.toLowerCase();
  const route = d.route;
  // A plain text's one escaped character is its line break (PLAIN_TEXT): escaped here
  // instead of JSON.stringify's walk of the whole text.
  if (route === null) return plain ? s + RT_TAILS[rt + 3] + escapeBreaks(x) + '"}' : s + RT_TAILS[rt] + json(x) + '}';
  return plain ? s + RT_TAILS[rt + 6] + esc(route) + '","x":"' + escapeBreaks(x) + '"}' : s + RT_TAILS[rt + 6] + esc(route) + '","x":' + json(x) + '}';
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

export class RedisSearch {
  /** The searching (./index-read.ts). */
  private readonly reader: IndexReader;
  private lastTrim = 0;
  /** The summaries' shared parts, kept from batch to batch (PartsMemo). */
  private readonly parts = new PartsMemo();

  constructor(
    client: RedisClient,
    private readonly ttlSeconds: number,
  ) {
    this.reader = new IndexReader(client);
  }

  /** The reader's bounds (IndexReader's; tests lower them to reach each path). */
  get bound(): number {
    return this.reader.bound;
  }

  set bound(n: number) {
    this.reader.bound = n;
  }

  get small(): number {
    return this.reader.small;
  }

  set small(n: number) {
    this.reader.small = n;
  }

  /**
   * Encodes the index update for a batch into the driver's write batch (layout and order in
   * ./index-scripts.ts): `ZADD start NX`, one SADD per `in:` set and duration bucket, `SADD
   * keys`, and last the script with each trace's id and summary; the script call is the
   * last command encoded (once.ts looks for its NOSCRIPT there).
   *
   * With `firstWrite`, the summaries go as `MULTI; HMGET sum <ids>; HSET sum <id summary>…;
   * EXEC` instead (a trace's first batch, the usual case, needs no merge), the script only
   * when trimming is due; the IndexFollowUp returned sends the summaries the HSET replaced
   * through the script, to be merged, once the replies are in. Redis's instructions a trace:
   * see tools/bench/README.md `search.cjs`.
   */
  addToBatch(enc: RespEncoder, deltas: Map<string, TraceDelta>, firstWrite = false): IndexFollowUp | undefined {
    const traces: TraceDelta[] = [];
    const fus: string[] = [];
    const lus: string[] = [];
    // The batch's strings at once, for one plainness check (NOT_PLAIN) instead of one per
    // string; a value the trace before had too is not added again.
    let strings = '';
    let texts = '';
    let prev: TraceDelta | undefined;
    // The µs texts of the traces' first timestamps, then of their last: core's reading
    // keeps the last second it met at hand, and a batch's starts share their seconds in runs
    // (its ends too), where one trace's first and last, alternated, often did not (a cache
    // lookup and the second's text made again, twice a trace of search.cjs's).
    const all = [...deltas.values()];
    const lasts = new Array<string | undefined>(all.length);
    for (let i = 0; i < all.length; i++) lasts[i] = timestampMicrosText(all[i].last);
    for (let i = 0; i < all.length; i++) {
      const d = all[i];
      const lu = lasts[i];
      const fu = d.first === d.last ? lu : timestampMicrosText(d.first);
      if (fu === undefined || lu === undefined) continue; // not a timestamp Python could read: not indexed
      traces.push(d);
      fus.push(fu);
      lus.push(lu);
      strings += d.baseId;
      if (prev === undefined || !sameList(d.services, prev.services)) for (const v of d.services) strings += v;
      if (prev === undefined || !sameList(d.projects, prev.projects)) for (const v of d.projects) strings += v;
      if (prev === undefined || !sameList(d.hosts, prev.hosts)) for (const v of d.hosts) strings += v;
      const r = d.root;
      if (r !== null) {
        const pr = prev?.root;
        if (pr == null || r.name !== pr.name) strings += r.name;
        // The root's service is mostly the trace's first (checked with the services above, or before).
        if (r.service !== null && (pr == null || r.service !== pr.service) && r.service !== d.services[0]) strings += r.service;
        if (r.ts !== d.first) strings += r.ts;
        if (r.detail !== null) strings += r.detail;
      }
      if (d.route !== null) strings += d.route;
      texts += d.text;
      prev = d;
    }
    if (traces.length === 0) return undefined;
    const plain = PLAIN.test(strings) && PLAIN_TEXT.test(texts);
    let trim = '';
    const now = Date.now();
    if (this.ttlSeconds > 0 && now - this.lastTrim >= TRIM_EVERY_MS) {
      this.lastTrim = now;
      trim = String((now - this.ttlSeconds * 1000) * 1000);
    }
    // Framed here as one text (one write into the batch's Buffer), each header counting its
    // text's characters; a batch that is not all ASCII is framed again counting bytes.
    let r = this.encode(enc, traces, fus, lus, plain, trim, false, firstWrite);
    if (r === undefined) r = this.encode(enc, traces, fus, lus, plain, trim, true, firstWrite);
    return r ?? undefined;
  }

  /** The batch's commands as one text (see addToBatch); undefined when `bytes` is needed (not all ASCII), else the follow-up (null: none). */
  private encode(enc: RespEncoder, traces: readonly TraceDelta[], fus: readonly string[], lus: readonly string[], plain: boolean, trim: string, bytes: boolean, firstWrite: boolean): IndexFollowUp | null | undefined {
    const n = traces.length;
    let zadd = cmd(3 + 2 * n, ZADD) + frame(START, bytes) + frame('NX', bytes);
    let script = '';
    const all = new BatchIds();
    const sums: string[] | undefined = firstWrite ? new Array<string>(n) : undefined;
    const traceBuckets: number[] | undefined = firstWrite ? new Array<number>(n) : undefined;
    let errors = '';
    let nErrors = 0;
    // Per `in:` set kind, value → framed ids: each set's key made once per batch.
    const services = new Groups(all);
    const projects = new Groups(all);
    const hosts = new Groups(all);
    const roots = new Groups(all);
    // Duration buckets by number (a Map's number keys are hashed with siphash: ~400
    // instructions a trace), in the order first met.
    const durs = new Array<Members | undefined>(DUR_BUCKET_MAX + 1);
    const buckets: number[] = [];
    const parts = this.parts;
    for (let i = 0; i < n; i++) {
      const d = traces[i];
      const fu = fus[i];
      const lu = lus[i];
      // The id goes out 8 times (ZADD, four `in:` sets, its duration bucket, the script and
      // its summary): framed once, as a flat string. Left a rope, each use would make V8's
      // flattening walk the pieces again (and an id from randomUUID is ~20 of them): 8.0k →
      // 3.1k instructions a trace for 7 uses (callgrind, 100-trace batches). The slice
      // flattens `fid` in place (V8 does before it takes a substring of a rope): ~500
      // instructions a trace less than joining [h, id, CRLF].
      const h = head(bytes ? Buffer.byteLength(d.baseId) : d.baseId.length);
      const fid = h + d.baseId + CRLF;
      const id = fid.slice(h.length, fid.length - 2);
      zadd += head(fu.length) + fu + CRLF + fid;
      const sum = summaryText(d, fu, lu, plain, parts.of(d), id);
      script += fid + frame(sum, bytes);
      all.fids.push(fid);
      if (sums !== undefined) sums[i] = sum;
      if (d.error) {
        errors += fid;
        nErrors++;
      }
      for (const v of d.services) services.add(v, fid, i);
      for (const v of d.projects) projects.add(v, fid, i);
      for (const v of d.hosts) hosts.add(v, fid, i);
      if (d.root !== null && d.root.name !== '') roots.add(d.root.name, fid, i);
      const k = durBucket(durationMicros(d.first, d.last, fu, lu));
      if (traceBuckets !== undefined) traceBuckets[i] = k;
      const g = durs[k];
      if (g === undefined) {
        durs[k] = members(fid, i);
        buckets.push(k);
      } else {
        addMember(g, fid, i, all);
      }
    }
    const keys = { text: '', n: 0 };
    let text = zadd;
    if (nErrors > 0) {
      const key = frame(IN + 'error', bytes);
      text += cmd(2 + nErrors, SADD) + key + errors;
      keys.text += key;
      keys.n++;
    }
    text += sadds(services, IN + 'service:', bytes, keys) + sadds(projects, IN + 'project:', bytes, keys) + sadds(hosts, IN + 'host:', bytes, keys) + sadds(roots, IN + 'root:', bytes, keys);
    let commands = 1 + keys.n + buckets.length;
    if (keys.n > 0) {
      text += cmd(2 + keys.n, SADD) + frame(IDX + 'keys', bytes) + keys.text;
      commands++;
    }
    for (const k of buckets) {
      const g = durs[k]!;
      text += cmd(2 + g.n, SADD) + durKey(k) + idsOf(g, all);
    }
    if (sums === undefined) {
      const at = text.length;
      text += scriptCall(trim, n, script);
      return enc.framedCommands(text, commands + 1, !bytes, INDEX, at) ? null : undefined;
    }
    // The summaries as one transaction (see IndexFollowUp): `script` holds the HSET's pairs.
    const exec = enc.count + commands + 3;
    text += MULTI + cmd(2 + n, HMGET) + frame(SUM, false) + all.prefix(n) + cmd(2 + 2 * n, HSET) + frame(SUM, false) + script + EXEC;
    commands += 4;
    if (trim === '') return enc.framedCommands(text, commands, !bytes) ? new IndexFollowUp(exec, all.fids, sums, traces, fus, lus, traceBuckets!) : undefined;
    const at = text.length;
    text += scriptCall(trim, 0, '');
    return enc.framedCommands(text, commands + 1, !bytes, INDEX, at) ? new IndexFollowUp(exec, all.fids, sums, traces, fus, lus, traceBuckets!) : undefined;
  }

  /** One page, newest first (IndexReader). */
  search(options: SearchOptions): Promise<SearchPage> {
    return this.reader.search(options);
  }
}
