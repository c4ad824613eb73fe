/**
 * Searching the redis:// index: layout 2 (./index-layout.ts), layout 1's search script beside
 * it while a store still holds layout 1's keys (./index-scripts.ts), and the traces no index
 * covers (only Python wrote them), found by a bounded scan.
 */
import type { Redis as RedisClient } from 'ioredis';
import { jsonString, searchIndex } from '@osprofiler/core/instrument';
import type { NormalisedSearch, SearchCursor, TraceRecord } from '@osprofiler/core/instrument';
import type { SearchOptions, SearchPage, TraceSummary } from '@osprofiler/core';
import { IDX, SEARCH_SCRIPT } from './index-scripts';
import { BATCHES, BLOB, DUR_CLASS_MAX, ERROR_POSTING, IDS, META, SPAN, SPLIT, durClass, idsOfBlob, memberEarliest, postingKey } from './index-layout';
import { NAMESPACE_OPT } from './keys';
import { plainRuns, recordOfLua } from './search';

/** Records (layout 2) or candidates (layout 1) a search examines at most per call (a page may come back short, with a cursor). */
export const SEARCH_BOUND = 5_000;
/** Stored trace lists the fallback scan examines at most (and layout 2's indexed ids it reads at most to tell them apart). */
export const UNINDEXED_SCAN_BOUND = 200_000;
/** Unindexed traces read (LRANGE + parse) at most per search. */
const UNINDEXED_READ = 200;
/** The fallback scan's answer is reused this long, then refreshed in the background (the UI searches often). */
const UNINDEXED_CACHE_MS = 10_000;
const SCAN_COUNT = 5000;
/** Batches whose ids (IDS) the fallback scan reads per round trip. */
const IDS_CHUNK = 500;
/** How long the first search waits for the fallback scan. */
const FIRST_SCAN_WAIT_MS = 50;
/**
 * Layout 2's walk: batches a round trip, first and at most, doubling. A first page mostly
 * needs a batch or two (of 100 traces): starting at 16, the blobs read cost a page of 50
 * out of 5,000 traces ~7.7 ms of CPU a call against ~4.8 starting at 4 (process.cpuUsage,
 * 50 calls, tools/bench/search.cjs redis-layout2; load average 2.5, so rough).
 */
const CHUNK_FIRST = 4;
const CHUNK_MAX = 512;
/** Split traces (`split`, by score) a round trip of layout 2's second walk, first and at most, doubling. */
const SPLIT_FIRST = 16;
const SPLIT_MAX = 512;
/** How long a split trace's record built from its lines is reused, and how many are kept (splitRecords). */
const SPLIT_CACHE_MS = 5_000;
const SPLIT_CACHE_MAX = 4096;
/** A filter's posting key is walked instead of `batches` when it holds at most this share of them. */
const WALK_SHARE = 0.5;

const SUM = IDX + 'sum';
const START = IDX + 'start';
/** A resume key after every record starting at M (the next call starts at M, ties included). */
const AFTER_ALL = '\uffff';

type Commands = {
  ospSearch(query: string): Promise<string[]>;
};

/** A hit and its place in the order (start µs, base_id). */
interface Hit {
  key: SearchCursor;
  summary: TraceSummary;
}

/** One index's part of a page: its hits in order; every match up to `frontier` (in that order) is among them, null: every match. */
interface Part {
  hits: Hit[];
  frontier: SearchCursor | null;
}

/**
 * A record held until final: parsed (`rec`), or its line kept unparsed with its key read
 * from the text (`line`), parsed only if it reaches a page.
 */
interface Found {
  key: SearchCursor;
  rec: TraceRecord | undefined;
  line: string | undefined;
}

const byKey = (a: { key: SearchCursor }, b: { key: SearchCursor }): number => searchIndex.compareNewestFirst(a.key, b.key);

/** The earlier (newest-first) of two frontiers: the merged page is whole only up to it. */
function earlier(a: SearchCursor | null, b: SearchCursor | null): SearchCursor | null {
  if (a === null) return b;
  if (b === null) return a;
  return searchIndex.compareNewestFirst(a, b) <= 0 ? a : b;
}

/** ioredis pipeline replies, the first error thrown. */
async function replies(p: ReturnType<RedisClient['pipeline']>): Promise<unknown[]> {
  const r = (await p.exec()) ?? [];
  return r.map(([err, v]) => {
    if (err !== null) throw err;
    return v;
  });
}

/** A summary line's base_id read from its text (`{"id":"<id>","f":…`, see summaryText); undefined when it is not one or is escaped. */
function idOfLine(line: string): string | undefined {
  if (!line.startsWith('{"id":"')) return undefined;
  // Inside a JSON string every quote is escaped: the first `","f":"` ends the id.
  const end = line.indexOf('","f":"', 7);
  if (end < 0) return undefined;
  const raw = line.slice(7, end);
  // An escaped id (never a UUID) is left to the parse: such a trace is not looked up in
  // SPLIT: its record is read as the batch wrote it.
  return raw.includes('\\') ? undefined : raw;
}

/**
 * Texts a summary line must hold to match `s`, checked before it is parsed (JSON.parse is
 * most of a record's cost): each of service, project, host, root as summaryText writes it
 * (jsonString of the value, quotes included; a value that is not well-formed is written
 * changed, so it could not match anyway) and `"e":1` for errorsOnly. Undefined: none.
 */
function neededTexts(s: NormalisedSearch): string[] {
  const out: string[] = [];
  for (const v of [s.service, s.project, s.host, s.root]) {
    if (v !== undefined && (v as unknown as { isWellFormed(): boolean }).isWellFormed()) out.push(jsonString(v));
  }
  if (s.errorsOnly) out.push('"e":1');
  return out;
}

/**
 * A text filter's runs (plainRuns) when the text is ASCII: a matching record holds each in
 * its JSON line verbatim (its `x`, lower-cased when written before session 22) or, lower-cased, in its `x` or its root's
 * name (ASCII characters lower-case the same in the line as in the name alone); a non-ASCII
 * text is not checked before parsing.
 */
function textRuns(s: NormalisedSearch): string[] {
  return s.text === undefined || !/^[\x20-\x7e]*$/.test(s.text) ? [] : plainRuns(s.text);
}

/**
 * The lines of a blob holding every text of `needed`, found by searching the blob for the
 * first (one indexOf a hit, not a split and one a line: errors only over 5,000 records,
 * 5.1 → 3.5 ms a call in these steps, cpu-prof of tools/bench/search.cjs redis-layout2),
 * and how many lines it has. A text never holds a line break (JSON escapes it), so a hit
 * lies within one line.
 */
function linesHolding(blob: string, needed: readonly string[]): { lines: string[]; total: number } {
  let total = 1;
  for (let k = blob.indexOf('\n'); k >= 0; k = blob.indexOf('\n', k + 1)) total++;
  const lines: string[] = [];
  const first = needed[0];
  for (let at = blob.indexOf(first); at >= 0; ) {
    const start = blob.lastIndexOf('\n', at) + 1;
    let end = blob.indexOf('\n', at);
    if (end < 0) end = blob.length;
    const line = blob.slice(start, end);
    let all = true;
    for (let j = 1; j < needed.length && all; j++) all = line.includes(needed[j]);
    if (all) lines.push(line);
    at = end < blob.length ? blob.indexOf(first, end + 1) : -1;
  }
  return { lines, total };
}

function holdsRuns(line: string, runs: readonly string[]): boolean {
  let lower: string | undefined;
  for (const run of runs) {
    if (line.includes(run)) continue;
    lower ??= line.toLowerCase();
    if (!lower.includes(run)) return false;
  }
  return true;
}

/** A sorted set read newest first by score (ZREVRANGEBYSCORE … WITHSCORES), in chunks doubling from `n` to `max`. */
class ScoreWalk {
  /** Members walked with score `top` (the next chunk skips them). */
  private ties = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly key: string,
    private top: string,
    private readonly lo: string,
    private n: number,
    private readonly max: number,
  ) {}

  /** The next chunk; `last`: nothing follows it. */
  async next(): Promise<{ members: string[]; scores: number[]; last: boolean }> {
    const n = this.n;
    const chunk = await this.client.zrevrangebyscore(this.key, this.top, this.lo, 'WITHSCORES', 'LIMIT', this.ties, n);
    const members: string[] = [];
    const scores: number[] = [];
    for (let i = 0; i < chunk.length; i += 2) {
      members.push(chunk[i]);
      scores.push(Number(chunk[i + 1]));
    }
    if (members.length > 0) {
      // The next chunk from the last score, past the members already walked there: a
      // member added above meanwhile does not shift it (LIMIT's offset alone would).
      const lastText = chunk[chunk.length - 1];
      let same = 0;
      for (let i = scores.length - 1; i >= 0 && scores[i] === scores[scores.length - 1]; i--) same++;
      this.ties = lastText === this.top ? this.ties + same : same;
      this.top = lastText;
    }
    this.n = Math.min(this.max, n * 2);
    return { members, scores, last: members.length < n };
  }
}

/**
 * Whether a split trace can match `s` whole where none of its parts does: a duration range
 * (the whole is longer than its parts), or two filter kinds (one part's service, another's
 * host). Text counts as a kind: a part's text is part of the whole's.
 */
function wholeOnly(s: NormalisedSearch): boolean {
  if (s.minDurationMs !== undefined || s.maxDurationMs !== undefined) return true;
  let kinds = 0;
  for (const v of [s.service, s.project, s.host, s.root, s.text]) if (v !== undefined) kinds++;
  if (s.errorsOnly) kinds++;
  return kinds >= 2;
}

/** Layout 2's filters as posting keys: one list per filter kind, a batch a candidate when each list has a key holding it. */
function postingKinds(s: NormalisedSearch): string[][] {
  const kinds: string[][] = [];
  if (s.service !== undefined) kinds.push([postingKey('service', s.service)]);
  if (s.project !== undefined) kinds.push([postingKey('project', s.project)]);
  if (s.host !== undefined) kinds.push([postingKey('host', s.host)]);
  if (s.root !== undefined) kinds.push([postingKey('root', s.root)]);
  if (s.errorsOnly) kinds.push([ERROR_POSTING]);
  if (s.minDurationMs !== undefined || s.maxDurationMs !== undefined) {
    // Classes are monotonic in the duration: rounded outwards, the range holds every match
    // (the exact duration is checked in the record).
    const lo = s.minDurationMs === undefined ? 0 : durClass(Math.floor(s.minDurationMs * 1000));
    const hi = s.maxDurationMs === undefined ? DUR_CLASS_MAX : Math.min(DUR_CLASS_MAX, durClass(Math.ceil(s.maxDurationMs * 1000)));
    const keys: string[] = [];
    for (let c = lo; c <= hi; c++) keys.push(postingKey('dur', String(c)));
    kinds.push(keys);
  }
  return kinds;
}

/** What search() reads first, in one round trip. */
interface Setup {
  legacy: boolean;
  batches: number;
  span: number;
  split: number;
  /** ZCARD of each single-key kind, by kind index (undefined for the duration union). */
  sizes: (number | undefined)[];
}

export class IndexReader {
  /** Records (layout 2) or candidates (layout 1) examined at most per call (tests lower it to reach each path). */
  bound = SEARCH_BOUND;
  /** Layout 1's: a filter set or duration range this small is read whole and ordered by start; a larger one walks the time order. */
  small = SEARCH_BOUND;
  private unindexed: { at: number; ids: string[] } | undefined;
  private readonly splitCache = new Map<string, { at: number; rec: TraceRecord | undefined }>();
  private refreshing: Promise<string[]> | undefined;
  private waited = false;
  /** Ids layout 2's batches hold, and the batches read for them (dropIndexed). */
  private readonly indexedIds = new Set<string>();
  private readonly readBatches = new Set<string>();

  constructor(private readonly client: RedisClient) {
    const c = client as RedisClient & Partial<Commands>;
    if (c.ospSearch === undefined) client.defineCommand('ospSearch', { numberOfKeys: 0, lua: SEARCH_SCRIPT });
  }

  /** One page, newest first (core's compareNewestFirst), from both layouts, plus on the first page the traces no index covers. */
  async search(options: SearchOptions): Promise<SearchPage> {
    const s = searchIndex.normaliseSearch(options);
    const kinds = postingKinds(s);
    const setup = await this.setup(kinds);
    const [two, one] = await Promise.all([this.layout2(s, kinds, setup), setup.legacy ? this.layout1(s) : { hits: [], frontier: null }]);
    // Layout 2's first at equal keys (stable sort): a split trace's record is built whole.
    const all = [...two.hits, ...one.hits].sort(byKey);
    const frontier = earlier(two.frontier, one.frontier);
    const kept: Hit[] = [];
    const ids = new Set<string>();
    for (const h of all) {
      if (frontier !== null && searchIndex.compareNewestFirst(h.key, frontier) > 0) break;
      if (ids.has(h.key.baseId)) continue;
      ids.add(h.key.baseId);
      kept.push(h);
    }
    const page = kept.slice(0, s.limit);
    const cursorKey = kept.length > s.limit ? page[page.length - 1].key : frontier;
    const traces = page.map((h) => h.summary);
    // Traces only Python wrote have no index entry: found by a bounded scan, shown on the first page.
    if (s.after === undefined) {
      const extra = (await this.unindexedMatches(s)).filter((t) => !ids.has(t.base_id));
      if (extra.length > 0) {
        traces.push(...extra);
        traces.sort((a, b) => searchIndex.compareNewestFirst(
          { startUs: searchIndex.timestampMicros(a.timestamp), baseId: a.base_id },
          { startUs: searchIndex.timestampMicros(b.timestamp), baseId: b.base_id },
        ));
      }
    }
    return { traces, cursor: cursorKey === null ? null : searchIndex.encodeCursor(cursorKey) };
  }

  private async setup(kinds: readonly string[][]): Promise<Setup> {
    const p = this.client.pipeline();
    p.exists(SUM);
    p.zcard(BATCHES);
    p.zscore(META, SPAN);
    p.zcard(SPLIT);
    for (const k of kinds) if (k.length === 1) p.zcard(k[0]);
    const r = await replies(p);
    let at = 4;
    return {
      legacy: r[0] === 1,
      batches: r[1] as number,
      span: Number(r[2] ?? 0) || 0,
      split: r[3] as number,
      sizes: kinds.map((k) => (k.length === 1 ? (r[at++] as number) : undefined)),
    };
  }

  /**
   * Layout 2: batches walked by score (their records' latest start) descending, from the
   * window's top plus META's span (batches scored above hold no record at or before it) down
   * to `since`; their records read, filtered and held until final: after a batch scored M,
   * the unwalked hold only records starting at or before M, so those starting after M are
   * in their final order.
   */
  private async layout2(s: NormalisedSearch, kinds: readonly string[][], setup: Setup): Promise<Part> {
    const done: Part = { hits: [], frontier: null };
    if (setup.batches === 0) return done;
    for (const k of kinds) if (k.length === 0) return done; // an empty duration range
    // The walked source: the smallest single-key filter's posting key when clearly smaller than `batches`.
    let walked = -1;
    let size = setup.batches * WALK_SHARE;
    setup.sizes.forEach((n, i) => {
      if (n !== undefined && n <= size) {
        walked = i;
        size = n;
      }
    });
    const src = walked >= 0 ? kinds[walked][0] : BATCHES;
    const checks = kinds.filter((_, i) => i !== walked);

    const untilUs = s.untilMs === undefined ? Infinity : s.untilMs * 1000;
    const x = Math.min(untilUs, s.after === undefined ? Infinity : s.after.startUs);
    const lo = s.sinceMs === undefined ? '-inf' : String(Math.floor(s.sinceMs * 1000));
    const walk = new ScoreWalk(this.client, src, x === Infinity ? '+inf' : String(Math.ceil(x + setup.span)), lo, CHUNK_FIRST, CHUNK_MAX);
    const needed = neededTexts(s);
    const runs = textRuns(s);
    const metMembers = new Set<string>();
    const met = new Set<string>();
    const merged = new Map<string, TraceRecord | undefined>();
    let buffer: Found[] = [];
    const out: Found[] = [];
    let examined = 0;

    /**
     * Moves the buffered records starting after `m` (final) to `out`, in order, parsing the
     * unparsed ones there and dropping those that do not match; stops at a page and one
     * (the caller then returns: nothing after out's last is needed).
     */
    const flush = (m: number): void => {
      const final = buffer.filter((f) => f.key.startUs > m).sort(byKey);
      if (final.length === 0) return;
      buffer = buffer.filter((f) => !(f.key.startUs > m));
      for (const f of final) {
        if (f.line !== undefined) {
          f.rec = recordOfLua(f.line);
          if (f.rec === undefined || !searchIndex.recordMatches(f.rec, s)) continue;
        }
        out.push(f);
        if (out.length > s.limit) return;
      }
    };
    const part = (frontier: SearchCursor | null): Part => ({
      hits: out.map((f) => ({ key: f.key, summary: searchIndex.summaryOfRecord(f.rec!) })),
      frontier,
    });
    const sinceMs = s.sinceMs;
    const untilMs = s.untilMs;
    const minMs = s.minDurationMs;
    const maxMs = s.maxDurationMs;
    const after = s.after;
    /**
     * A line's start in µs (its trace `id`'s key), read from its `fu` and `lu` (summaryText:
     * timestampMicrosText of `f` and `l`, what recordMatches' and consider's timestampMicros
     * read, and the same arithmetic), or from `f` and `l` when it has none; null when it is not past the cursor or not in the time
     * and duration window, undefined when they cannot be read. The records of batches
     * straddling a cursor, and of a duration class wider than its range, are mostly dropped
     * without parsing, and the others held unparsed until they reach a page.
     */
    const startOf = (line: string, id: string): number | null | undefined => {
      // `{"id":"<id>","f":"<f>","l":"<l>"`, then `","fu":"<fu>","lu":"<lu>"` in a blob
      // written before session 22; since, they are computed here from f and l (the same
      // reading as timestampMicrosText's; NaN where it gives none).
      const fAt = 7 + id.length + 7;
      const fEnd = line.indexOf('"', fAt);
      if (fEnd < 0 || !line.startsWith('","l":"', fEnd)) return undefined;
      const lEnd = line.indexOf('"', fEnd + 7);
      if (lEnd < 0) return undefined;
      let fu: number;
      let lu: number;
      if (line.startsWith('","fu":"', lEnd)) {
        const mid = line.indexOf('","lu":"', lEnd + 8);
        const end = mid < 0 ? -1 : line.indexOf('"', mid + 8);
        if (end < 0) return undefined;
        fu = Number(line.slice(lEnd + 8, mid));
        lu = Number(line.slice(mid + 8, end));
      } else {
        fu = searchIndex.timestampMicros(line.slice(fAt, fEnd));
        lu = searchIndex.timestampMicros(line.slice(fEnd + 7, lEnd));
      }
      if (!Number.isFinite(fu) || !Number.isFinite(lu)) return undefined;
      if (after !== undefined && searchIndex.compareNewestFirst({ startUs: fu, baseId: id }, after) <= 0) return null;
      if (sinceMs !== undefined && !(fu / 1000 >= sinceMs)) return null;
      if (untilMs !== undefined && !(fu / 1000 <= untilMs)) return null;
      const d = (lu - fu) / 1000;
      if (minMs !== undefined && !(d >= minMs)) return null;
      return maxMs === undefined || d <= maxMs ? fu : null;
    };
    /** A record met (its trace's first): held when past the cursor and matching. */
    const consider = (rec: TraceRecord): void => {
      met.add(rec.baseId);
      const key = { startUs: searchIndex.timestampMicros(rec.first), baseId: rec.baseId };
      if (s.after !== undefined && searchIndex.compareNewestFirst(key, s.after) <= 0) return;
      if (searchIndex.recordMatches(rec, s)) buffer.push({ key, rec, line: undefined });
    };

    // The second walk: `split` by score, newest first, beside the batches'. A split trace's
    // records are partial (a batch's postings hold its part's values: one that matches only
    // whole, by its duration over both parts or one part's service and the other's host, is
    // in no candidate batch), so with such filters every split trace is read from its lines
    // here, in step with the batches: `split` scores a trace by its start (or, marked before
    // session 20, by when it was marked: later), so once this walk is below M every split
    // trace starting after M is held, and the batch walk skips their partial records. Without
    // (no filter, or one kind whose value a part holds), some part of every matching split
    // trace is in a candidate batch scored at or above its start, met before its start is
    // final: the batch walk reads it from its lines there.
    const splitWalk = setup.split > 0 && wholeOnly(s);
    const splitTopUs = !splitWalk ? -Infinity : x === Infinity ? Infinity : Math.ceil(x + setup.span);
    const splits = new ScoreWalk(this.client, SPLIT, splitTopUs === Infinity ? '+inf' : String(splitTopUs), lo, SPLIT_FIRST, SPLIT_MAX);
    /** The split walk's last score: every entry scored above it was read (-Infinity: all). */
    let splitAt = splitWalk ? Infinity : -Infinity;
    /** Reads `split` down to `m` (entries scored above it), or until the bound; returns whether it got there. */
    const splitDown = async (m: number): Promise<boolean> => {
      while (splitAt > m) {
        if (examined >= this.bound && splitAt < x) return false;
        const { members, scores, last } = await splits.next();
        const ids = members.filter((id) => !met.has(id));
        const recs = await this.splitRecords(ids);
        examined += ids.length;
        ids.forEach((id, i) => {
          met.add(id);
          const rec = recs[i];
          if (rec !== undefined) consider(rec);
        });
        splitAt = last ? -Infinity : scores[scores.length - 1];
      }
      return true;
    };
    /**
     * What is final once both walks are below `m` moves to `out`. Returns the part to return
     * when a page is full or the split walk reached the bound, else undefined.
     */
    const settle = async (m: number): Promise<Part | undefined> => {
      if (!(await splitDown(m))) {
        // The bound, in the split walk: final down to where it got (above m).
        flush(splitAt);
        if (out.length > s.limit) return part(out[out.length - 1].key);
        return part({ startUs: splitAt, baseId: AFTER_ALL });
      }
      flush(m);
      if (out.length > s.limit) return part(out[out.length - 1].key);
      return undefined;
    };
    if (walked >= 0 && size === 0) return (await settle(-Infinity)) ?? part(null);

    for (;;) {
      const { members, scores, last } = await walk.next();
      // Candidates: not read before, holding records at or before x (their earliest start in the member), in every filter's postings.
      let cands: number[] = [];
      for (let i = 0; i < members.length; i++) {
        const m = members[i];
        if (metMembers.has(m)) continue;
        metMembers.add(m);
        if (!(memberEarliest(m) > x)) cands.push(i);
      }
      if (cands.length > 0 && checks.length > 0) {
        const p = this.client.pipeline();
        const names = cands.map((i) => members[i]);
        for (const kind of checks) for (const key of kind) p.zmscore(key, ...names);
        const r = await replies(p);
        let at = 0;
        const pass = cands.map(() => true);
        for (const kind of checks) {
          const any = cands.map(() => false);
          for (let k = 0; k < kind.length; k++) {
            const got = r[at++] as (string | null)[];
            for (let j = 0; j < cands.length; j++) if (got[j] !== null) any[j] = true;
          }
          for (let j = 0; j < cands.length; j++) pass[j] &&= any[j];
        }
        cands = cands.filter((_, j) => pass[j]);
      }
      const blobs = new Map<number, string>();
      if (cands.length > 0) {
        const p = this.client.pipeline();
        for (const i of cands) p.get(BLOB + members[i]);
        const r = await replies(p);
        // A missing blob: expired (its postings go at the next trim).
        cands.forEach((i, j) => {
          if (typeof r[j] === 'string') blobs.set(i, r[j] as string);
        });
      }
      // With split traces in the store, each blob's lines are needed whole (their ids looked up in SPLIT): split once here.
      const blobLines = setup.split > 0 ? new Map([...blobs].map(([i, blob]) => [i, blob.split('\n')])) : undefined;
      const split = blobLines !== undefined ? await this.splitOf(blobLines, merged, splitTopUs) : undefined;

      // Without split traces in the chunk, the lines holding a filter's texts are found in
      // the blob (linesHolding) instead of in each line.
      const scan = needed.length > 0 && (split === undefined || split.size === 0);
      for (let i = 0; i < members.length; i++) {
        const blob = blobs.get(i);
        if (blob !== undefined) {
          let lines: string[];
          if (scan) {
            const held = linesHolding(blob, needed);
            lines = held.lines;
            examined += held.total;
          } else {
            lines = blobLines?.get(i) ?? blob.split('\n');
            examined += lines.length;
          }
          for (const line of lines) {
            const id = idOfLine(line);
            let rec: TraceRecord | undefined;
            if (id !== undefined && split?.has(id)) {
              // The split walk's (held there), unless marked later than that walk's top.
              if (met.has(id) || !merged.has(id)) continue;
              rec = merged.get(id);
            } else {
              const startUs = id === undefined ? undefined : startOf(line, id);
              if (startUs === null) continue;
              if (!scan && needed.length > 0 && !needed.every((t) => line.includes(t))) continue;
              if (runs.length > 0 && !holdsRuns(line, runs)) continue;
              // A race between two batches (the trace not in SPLIT): the first record held is kept.
              if (id !== undefined && met.has(id)) continue;
              if (startUs !== undefined) {
                // Parsed only if it reaches a page (flush): a page of 50 with no filter
                // parsed every record of the blobs it read (500 a batch in search.cjs' fill).
                met.add(id!);
                buffer.push({ key: { startUs, baseId: id! }, rec: undefined, line });
                continue;
              }
              rec = recordOfLua(line);
            }
            if (rec !== undefined && !met.has(rec.baseId)) consider(rec);
          }
        }
        // Bound: stop after a batch scored below x (so the next call's window is lower than
        // this one's: it always gets on), resuming at its score, ties included.
        if (examined >= this.bound && scores[i] < x) return (await settle(scores[i])) ?? part({ startUs: scores[i], baseId: AFTER_ALL });
        // What is final goes out after each batch read: a full page leaves the chunk's other
        // blobs unparsed (16 batches of 100 traces: 1,600 records).
        if (blob !== undefined) {
          const done = await settle(scores[i]);
          if (done !== undefined) return done;
        }
      }
      if (last) return (await settle(-Infinity)) ?? part(null);
      const done = await settle(scores[scores.length - 1]);
      if (done !== undefined) return done;
    }
  }

  /**
   * Split traces' records built from their lines, each reused for SPLIT_CACHE_MS: 1,000
   * split 2-point traces cost ~25 ms of CPU (tools/bench/search.cjs redis-layout2 with them
   * marked, rough), and the UI pages and repeats searches. A live trace's summary lags its
   * lines as long.
   */
  private async splitRecords(ids: readonly string[]): Promise<(TraceRecord | undefined)[]> {
    const now = Date.now();
    const got = new Map<string, TraceRecord | undefined>();
    const todo: string[] = [];
    for (const id of ids) {
      const c = this.splitCache.get(id);
      if (c !== undefined && now - c.at < SPLIT_CACHE_MS) got.set(id, c.rec);
      else todo.push(id);
    }
    if (todo.length > 0) {
      const recs = await this.recordsOfLines(todo);
      if (this.splitCache.size + todo.length > SPLIT_CACHE_MAX) this.splitCache.clear();
      todo.forEach((id, i) => {
        got.set(id, recs[i]);
        this.splitCache.set(id, { at: now, rec: recs[i] });
      });
    }
    return ids.map((id) => got.get(id));
  }

  /**
   * The chunk's traces listed in SPLIT (their records partial). Those scored above `top`
   * (the split walk's first score, -Infinity without it; above it: marked by a writer before
   * session 20, by when, long after they started) are not in that walk: their records are
   * built from their lines here, into `merged` (per call).
   */
  private async splitOf(blobLines: Map<number, string[]>, merged: Map<string, TraceRecord | undefined>, top: number): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const lines of blobLines.values()) {
      for (const line of lines) {
        const id = idOfLine(line);
        if (id !== undefined) ids.add(id);
      }
    }
    const split = new Set<string>();
    if (ids.size === 0) return split;
    const list = [...ids];
    const scores = await this.client.zmscore(SPLIT, ...list);
    const late: string[] = [];
    list.forEach((id, i) => {
      const score = scores[i];
      if (score === null) return;
      split.add(id);
      if (Number(score) > top && !merged.has(id)) late.push(id);
    });
    if (late.length > 0) {
      const recs = await this.splitRecords(late);
      late.forEach((id, i) => merged.set(id, recs[i]));
    }
    return split;
  }

  /** Layout 1 (a store indexed before layout 2, while its keys last): SEARCH_SCRIPT as before. */
  private async layout1(s: NormalisedSearch): Promise<Part> {
    const IN = IDX + 'in:';
    const sets: string[] = [];
    if (s.errorsOnly) sets.push(IN + 'error');
    if (s.service !== undefined) sets.push(IN + 'service:' + s.service);
    if (s.project !== undefined) sets.push(IN + 'project:' + s.project);
    if (s.host !== undefined) sets.push(IN + 'host:' + s.host);
    if (s.root !== undefined) sets.push(IN + 'root:' + s.root);
    const us = (ms: number | undefined): string | false => (ms === undefined ? false : String(Math.round(ms * 1000)));
    const query = {
      limit: s.limit,
      bound: this.bound,
      small: this.small,
      sets,
      since: us(s.sinceMs),
      until: us(s.untilMs),
      cAfterScore: s.after === undefined ? false : String(s.after.startUs),
      cAfterId: s.after === undefined ? false : s.after.baseId,
      minDur: us(s.minDurationMs),
      maxDur: us(s.maxDurationMs),
      root: s.root ?? false,
      text: s.text ?? false,
      runs: s.text === undefined ? [] : plainRuns(s.text),
    };
    const raw = await (this.client as unknown as Commands).ospSearch(JSON.stringify(query));
    const n = raw.length - 3;
    // A bare id ('' summary) keeps its place in the time order until built from its lines.
    const page: { key: SearchCursor; summary: TraceSummary | undefined }[] = [];
    const bare: string[] = [];
    for (let i = 0; i < n; i += 3) {
      const key = { startUs: Number(raw[i + 1]), baseId: raw[i + 2] };
      if (raw[i] === '') {
        bare.push(key.baseId);
        page.push({ key, summary: undefined });
        continue;
      }
      const rec = recordOfLua(raw[i]);
      if (rec !== undefined) page.push({ key, summary: searchIndex.summaryOfRecord(rec) });
    }
    const built = bare.length === 0 ? undefined : new Map((await this.summariesOfLines(bare, s)).map((t) => [t.base_id, t]));
    const hits: Hit[] = [];
    for (const h of page) {
      const summary = h.summary ?? built?.get(h.key.baseId);
      if (summary !== undefined) hits.push({ key: h.key, summary });
    }
    const [status, lastScore, lastId] = raw.slice(n);
    return { hits, frontier: status === 'end' || lastId === '' ? null : { startUs: Number(lastScore), baseId: lastId } };
  }

  /** Ids of stored lists the index does not cover: the first call waits for the scan, later ones get the last answer while a new scan runs. */
  private async unindexedIds(): Promise<string[]> {
    const cached = this.unindexed;
    if (cached !== undefined && Date.now() - cached.at < UNINDEXED_CACHE_MS) return cached.ids;
    this.refreshing ??= this.scanUnindexed()
      .then((ids) => {
        this.unindexed = { at: Date.now(), ids };
        return ids;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    this.refreshing.catch(() => undefined); // a failed scan is started again by the next search
    if (cached !== undefined) return cached.ids;
    // The first scan of a large store takes seconds (2.3 s for 100,000 traces): the first
    // search waits for it at most FIRST_SCAN_WAIT_MS, later ones not at all until it is
    // done; what it finds shows from then on.
    if (this.waited) return [];
    this.waited = true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string[]>((resolve) => {
      timer = setTimeout(() => resolve([]), FIRST_SCAN_WAIT_MS);
      timer.unref();
    });
    try {
      return await Promise.race([this.refreshing, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * SCAN in chunks from here (Redis is never blocked for the whole keyspace), dropping ids
   * some layout 2 batch holds (its IDS key, read into indexedIds first), then those layout
   * 1's `start` holds (ZMSCORE, while it exists): a layout 2 store asks Redis nothing a key
   * (a refresh of 100,000 traces ~250–300 ms of the client's CPU with a ZMSCORE of every id,
   * tools/bench/search.cjs).
   */
  private async scanUnindexed(): Promise<string[]> {
    await this.dropIndexed(new Set());
    const legacy = (await this.client.exists(START)) === 1;
    const out = new Set<string>();
    let cursor = '0';
    let seen = 0;
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', NAMESPACE_OPT + '*', 'COUNT', SCAN_COUNT);
      cursor = next;
      seen += keys.length;
      const ids: string[] = [];
      for (const k of keys) {
        const id = k.slice(NAMESPACE_OPT.length);
        if (!this.indexedIds.has(id)) ids.push(id);
      }
      if (ids.length > 0 && legacy) {
        const scores = await this.client.zmscore(START, ...ids);
        ids.forEach((id, i) => {
          if (scores[i] === null) out.add(id);
        });
      } else for (const id of ids) out.add(id);
    } while (cursor !== '0' && seen < UNINDEXED_SCAN_BOUND);
    // Batches written meanwhile.
    if (out.size > 0) await this.dropIndexed(out);
    return [...out];
  }

  /**
   * Removes from `ids` those some layout 2 batch holds. A batch's ids never change, so the
   * ids of every batch read are kept (indexedIds, at most UNINDEXED_SCAN_BOUND, then read
   * again): a refresh reads only the batches newer than the newest chunk read before, where
   * reading every batch's ids again cost each 10 s refresh ~3.6 MB a 100,000 traces and the
   * searches around it their time (tools/bench/search.cjs). A batch written late with older
   * traces than the newest read is missed until the cache starts again: its traces may show
   * twice on a first page (once indexed, once not), where search() drops the second.
   */
  private async dropIndexed(ids: Set<string>): Promise<void> {
    if (this.indexedIds.size > UNINDEXED_SCAN_BOUND) {
      this.indexedIds.clear();
      this.readBatches.clear();
    }
    for (let from = 0; ; from += IDS_CHUNK) {
      const members = await this.client.zrevrange(BATCHES, from, from + IDS_CHUNK - 1);
      const fresh = members.filter((m) => !this.readBatches.has(m));
      if (fresh.length === 0) break;
      const p = this.client.pipeline();
      for (const m of fresh) p.get(IDS + m);
      const texts = await replies(p);
      fresh.forEach((m, i) => {
        this.readBatches.add(m);
        const text = texts[i];
        if (typeof text === 'string' && text !== '') for (const id of idsOfBlob(text)) this.indexedIds.add(id);
      });
      if (members.length < IDS_CHUNK || this.indexedIds.size > UNINDEXED_SCAN_BOUND) break;
    }
    for (const id of ids) if (this.indexedIds.has(id)) ids.delete(id);
  }

  private async unindexedMatches(s: NormalisedSearch): Promise<TraceSummary[]> {
    const ids = (await this.unindexedIds()).slice(0, UNINDEXED_READ);
    if (ids.length === 0) return [];
    return (await this.summariesOfLines(ids, s)).sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1)).slice(0, s.limit);
  }

  /** Records built from the traces' stored lines (undefined where none is left). */
  private async recordsOfLines(ids: readonly string[]): Promise<(TraceRecord | undefined)[]> {
    const p = this.client.pipeline();
    for (const id of ids) p.lrange(NAMESPACE_OPT + id, 0, -1);
    const results = (await p.exec()) ?? [];
    return ids.map((id, i) => {
      const [err, lines] = results[i] ?? [null, undefined];
      if (err !== null || !Array.isArray(lines) || lines.length === 0) return undefined;
      // LRANGE is newest first; the summary builder wants write order.
      return searchIndex.recordOfEvents(id, [...(lines as string[])].reverse());
    });
  }

  /** Summaries built from the traces' stored lines (marked unindexed), those matching `s` only: traces without an index entry. */
  private async summariesOfLines(ids: readonly string[], s: NormalisedSearch): Promise<TraceSummary[]> {
    const out: TraceSummary[] = [];
    for (const rec of await this.recordsOfLines(ids)) {
      if (rec !== undefined && searchIndex.recordMatches(rec, s)) out.push(searchIndex.summaryOfRecord(rec, false));
    }
    return out;
  }
}
