/**
 * The search index of a line body (core's `LineIndex`), carried next to the lines so the
 * agent and the collector never parse a line to index it (the redis:// search index; the
 * parse was 15 % of the collector's CPU). PROTOCOL.md §Batches describes the bytes:
 *
 *   index   = u32 S  S × (u32 n, n bytes UTF-8)   count × record
 *   record  = u8 phase (0 start, 1 stop)  7 × u32 string refs:
 *             name, parent_id, project, service, host, detail, route   (0xFFFFFFFF = null)
 *
 * Strings are shared through the table (a batch's names, hosts, projects and services
 * repeat). The receiver treats the section as untrusted: `readIndex` checks every length
 * and ref (7 reads a point) and a section that does not check out is dropped — the lines
 * are then parsed, as for a client that sent none. Splitting a body (upstream subjects,
 * merged records) copies string bytes by ref, without making strings.
 */
import type { LineIndex } from '@osprofiler/core/instrument';
import { searchIndex } from '@osprofiler/core/instrument';

export const NONE = 0xffffffff;
/** Bytes of one point's record. */
export const RECORD_BYTES = 1 + 7 * 4;
const REFS = 7;

/** A checked index section: string table offsets and where the records start. */
export class IndexSource {
  /** The table's strings, made together on first use (each once a section, not a lookup a ref). */
  private table: string[] | undefined;
  /**
   * The section's bytes for its u32 reads: `buf.readUInt32BE` went through a LoadIC and
   * Node's JavaScript each (~100 instructions a ref, 7 refs a point read twice: ~3k a point of
   * 6-point traces, callgrind, agent-ir.cjs with --client-index), a DataView read is inlined.
   */
  readonly dv: DataView;

  constructor(
    readonly buf: Buffer,
    /** Start of string k's bytes is starts[k]; its end is ends[k]. */
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
    readonly records: number,
    dv?: DataView,
  ) {
    this.dv = dv ?? new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  get strings(): number {
    return this.starts.length;
  }

  /** Every string of the table, in ref order (made once). */
  texts(): string[] {
    let t = this.table;
    if (t === undefined) {
      const { buf, starts, ends } = this;
      t = new Array<string>(starts.length);
      for (let k = 0; k < starts.length; k++) t[k] = buf.toString('utf8', starts[k], ends[k]);
      this.table = t;
    }
    return t;
  }

  /** String `ref` (null for NONE). */
  string(ref: number): string | null {
    return ref === NONE ? null : this.texts()[ref];
  }

  phase(pos: number): number {
    return this.buf[this.records + pos * RECORD_BYTES];
  }

  /** Ref `k` (0 name … 6 route) of the point at `pos`. */
  ref(pos: number, k: number): number {
    return this.dv.getUint32(this.records + pos * RECORD_BYTES + 1 + 4 * k);
  }
}

/** The section at buf[start, end) for `count` points, or undefined when it does not check out. */
export function readIndex(buf: Buffer, start: number, end: number, count: number): IndexSource | undefined {
  if (end - start < 4) return undefined;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const s = dv.getUint32(start);
  // Each point names at most 7 distinct strings.
  if (s > REFS * count) return undefined;
  const starts = new Uint32Array(s);
  const ends = new Uint32Array(s);
  let off = start + 4;
  for (let k = 0; k < s; k++) {
    if (end - off < 4) return undefined;
    const n = dv.getUint32(off);
    off += 4;
    if (n > end - off) return undefined;
    starts[k] = off;
    ends[k] = off + n;
    off += n;
  }
  if (end - off !== count * RECORD_BYTES) return undefined;
  for (let r = off; r < end; r += RECORD_BYTES) {
    if (buf[r] > 1) return undefined;
    for (let k = r + 1; k < r + RECORD_BYTES; k += 4) {
      const ref = dv.getUint32(k);
      if (ref >= s && ref !== NONE) return undefined;
    }
  }
  return new IndexSource(buf, starts, ends, off, dv);
}

/** Builds a section from core LineIndex ranges (the client) — strings deduplicated. */
export class IndexWriter {
  private readonly ids = new Map<string, number>();
  private readonly table: string[] = [];
  private tableBytes = 0;
  // Typed and sized up front: a JS array grown by 7 pushes a point was a third of the
  // writer's cost (GC), measured with tools/bench/lineindex.cjs.
  private readonly refs: Uint32Array;
  private readonly phases: Uint8Array;
  private n = 0;

  constructor(points: number) {
    this.refs = new Uint32Array(points * REFS);
    this.phases = new Uint8Array(points);
  }

  private id(s: string | null): number {
    if (s === null) return NONE;
    let r = this.ids.get(s);
    if (r === undefined) {
      r = this.table.length;
      this.table.push(s);
      this.ids.set(s, r);
      this.tableBytes += 4 + Buffer.byteLength(s, 'utf8');
    }
    return r;
  }

  /** Points [from, from + n) of `index` (at most the `points` given to the constructor, in all). */
  add(index: LineIndex, from: number, n: number): void {
    const refs = this.refs;
    for (let i = from; i < from + n; i++) {
      const p = this.n++;
      this.phases[p] = index.phases[i];
      const o = p * REFS;
      refs[o] = this.id(index.names[i]);
      refs[o + 1] = this.id(index.parentIds[i]);
      refs[o + 2] = this.id(index.projects[i]);
      refs[o + 3] = this.id(index.services[i]);
      refs[o + 4] = this.id(index.hosts[i]);
      refs[o + 5] = this.id(index.details[i]);
      refs[o + 6] = this.id(index.routes[i]);
    }
  }

  get bytes(): number {
    return 4 + this.tableBytes + this.n * RECORD_BYTES;
  }

  /** Writes the section at `off`; returns the offset after it. */
  write(out: Buffer, off: number): number {
    off = out.writeUInt32BE(this.table.length, off);
    for (const s of this.table) {
      const n = out.write(s, off + 4, 'utf8');
      out.writeUInt32BE(n, off);
      off += 4 + n;
    }
    for (let p = 0; p < this.n; p++) {
      out[off++] = this.phases[p];
      for (let k = 0; k < REFS; k++) off = out.writeUInt32BE(this.refs[p * REFS + k], off);
    }
    return off;
  }
}

/**
 * Builds a section from points of checked sections (splitting or merging bodies): string
 * bytes are copied by ref, each source's refs remapped once per section written.
 */
export class IndexCopier {
  private readonly remaps = new Map<IndexSource, Int32Array>();
  private readonly table: { src: IndexSource; ref: number }[] = [];
  private tableBytes = 0;
  private readonly points: { src: IndexSource; pos: number }[] = [];

  add(src: IndexSource, pos: number): void {
    let m = this.remaps.get(src);
    if (m === undefined) this.remaps.set(src, (m = new Int32Array(src.strings).fill(-1)));
    for (let k = 0; k < REFS; k++) {
      const ref = src.ref(pos, k);
      if (ref !== NONE && m[ref] < 0) {
        m[ref] = this.table.length;
        this.table.push({ src, ref });
        this.tableBytes += 4 + src.ends[ref] - src.starts[ref];
      }
    }
    this.points.push({ src, pos });
  }

  get bytes(): number {
    return 4 + this.tableBytes + this.points.length * RECORD_BYTES;
  }

  write(out: Buffer, off: number): number {
    off = out.writeUInt32BE(this.table.length, off);
    for (const { src, ref } of this.table) {
      off = out.writeUInt32BE(src.ends[ref] - src.starts[ref], off);
      off += src.buf.copy(out, off, src.starts[ref], src.ends[ref]);
    }
    for (const { src, pos } of this.points) {
      const m = this.remaps.get(src) as Int32Array;
      out[off++] = src.phase(pos);
      for (let k = 0; k < REFS; k++) {
        const ref = src.ref(pos, k);
        off = out.writeUInt32BE(ref === NONE ? NONE : m[ref], off);
      }
    }
    return off;
  }
}

/**
 * Per point, where its index entry is (a checked section and the point's position in
 * it), or null when the point came without one (an older client, a point a collector
 * rule rewrote): `lineIndex` then parses only those lines.
 */
export class PointIndex {
  /** Points so far. */
  private n = 0;
  /**
   * The points with an entry, as runs: run r is points [runFirst[r], runFirst[r] + runCount[r])
   * at positions runPos[r]… of section runSrc[r] (a body's points are one run). Per point,
   * two arrays grown a point at a time were ~50 bytes of V8's heap a point and a store each;
   * `srcs`/`pos` make them on first use (splitting bodies, the collector).
   */
  private runSrc: IndexSource[] = [];
  private runFirst: number[] = [];
  private runPos: number[] = [];
  private runCount: number[] = [];
  /** Points with an entry. */
  private known = 0;
  private srcList: (IndexSource | null)[] | undefined;
  private posList: number[] | undefined;

  get srcs(): readonly (IndexSource | null)[] {
    return this.materialize().srcList!;
  }

  get pos(): readonly number[] {
    return this.materialize().posList!;
  }

  push(src: IndexSource | null, pos: number): void {
    const i = this.n++;
    this.srcList = this.posList = undefined;
    if (src === null) return;
    this.known++;
    const r = this.runSrc.length - 1;
    if (r >= 0 && this.runSrc[r] === src && this.runFirst[r] + this.runCount[r] === i && this.runPos[r] + this.runCount[r] === pos) {
      this.runCount[r]++;
      return;
    }
    this.runSrc.push(src);
    this.runFirst.push(i);
    this.runPos.push(pos);
    this.runCount.push(1);
  }

  /** Points [n, n + count) with the entries at positions 0… of `src` (a body's points), or none (null). */
  pushBody(src: IndexSource | null, count: number): void {
    const first = this.n;
    this.n += count;
    this.srcList = this.posList = undefined;
    if (src === null || count === 0) return;
    this.known += count;
    this.runSrc.push(src);
    this.runFirst.push(first);
    this.runPos.push(0);
    this.runCount.push(count);
  }

  truncate(n: number): void {
    if (n >= this.n) return;
    this.n = n;
    this.srcList = this.posList = undefined;
    const { runSrc, runFirst, runPos, runCount } = this;
    for (let r = runSrc.length - 1; r >= 0 && runFirst[r] + runCount[r] > n; r--) {
      const keep = Math.max(0, n - runFirst[r]);
      this.known -= runCount[r] - keep;
      if (keep > 0) runCount[r] = keep;
      else {
        runSrc.length = r;
        runFirst.length = r;
        runPos.length = r;
        runCount.length = r;
      }
    }
  }

  /** Per point its source and position (null and 0 for points without an entry), made once until the next change. */
  private materialize(): this {
    if (this.srcList === undefined) {
      const srcs = new Array<IndexSource | null>(this.n).fill(null);
      const pos = new Array<number>(this.n).fill(0);
      const { runSrc, runFirst, runPos, runCount } = this;
      for (let r = 0; r < runSrc.length; r++) {
        for (let k = 0; k < runCount[r]; k++) {
          srcs[runFirst[r] + k] = runSrc[r];
          pos[runFirst[r] + k] = runPos[r] + k;
        }
      }
      this.srcList = srcs;
      this.posList = pos;
    }
    return this;
  }

  /** Whether no point has an entry (the apps' default 'L' bodies). */
  get none(): boolean {
    return this.known === 0;
  }

  /** Whether every point has an entry. */
  get complete(): boolean {
    return this.known === this.n;
  }

  /**
   * The LineIndex of all points. Points without an entry are read by `events` when given
   * (what the index reads of the points listed, or of all when null), else their lines parsed;
   * without `events`, undefined when no point has an entry (the driver parses them all).
   * Entries are read run by run: each section's strings made once (`texts`), its refs read
   * through its DataView, the arrays made at their length and filled by position (per point
   * before: 7 `string(ref(…))` calls, each a `readUInt32BE` and a cache lookup, and 7 pushes).
   */
  lineIndex(lines: () => readonly string[], events?: (points: readonly number[] | null) => readonly (Record<string, unknown> | undefined)[]): LineIndex | undefined {
    const n = this.n;
    if (n === 0) return undefined;
    if (this.known === 0) return events === undefined ? undefined : searchIndex.indexOfEvents(events(null));
    const names = new Array<string>(n);
    const phases = new Uint8Array(n);
    const parentIds = new Array<string>(n);
    const projects = new Array<string | null>(n);
    const services = new Array<string | null>(n);
    const hosts = new Array<string>(n);
    const details = new Array<string | null>(n);
    const routes = new Array<string | null>(n);
    // Points without an entry are parsed together, in one call (one a line, before: a batch
    // object and an index of 7 arrays per line).
    let missing: number[] | undefined;
    let at = 0;
    const { runSrc, runFirst, runPos, runCount } = this;
    for (let r = 0; r <= runSrc.length; r++) {
      const first = r < runSrc.length ? runFirst[r] : n;
      for (; at < first; at++) (missing ??= []).push(at);
      if (r === runSrc.length) break;
      const src = runSrc[r];
      const t = src.texts();
      const { buf, dv } = src;
      const end = first + runCount[r];
      let o = src.records + runPos[r] * RECORD_BYTES;
      for (let i = first; i < end; i++, o += RECORD_BYTES) {
        phases[i] = buf[o];
        let ref = dv.getUint32(o + 1);
        names[i] = ref === NONE ? '' : t[ref];
        ref = dv.getUint32(o + 5);
        parentIds[i] = ref === NONE ? '' : t[ref];
        ref = dv.getUint32(o + 9);
        projects[i] = ref === NONE ? null : t[ref];
        ref = dv.getUint32(o + 13);
        services[i] = ref === NONE ? null : t[ref];
        ref = dv.getUint32(o + 17);
        hosts[i] = ref === NONE ? '' : t[ref];
        ref = dv.getUint32(o + 21);
        details[i] = ref === NONE ? null : t[ref];
        ref = dv.getUint32(o + 25);
        routes[i] = ref === NONE ? null : t[ref];
      }
      at = end;
    }
    const index: LineIndex = { names, phases, parentIds, projects, services, hosts, details, routes };
    if (missing !== undefined) {
      let parsed: LineIndex;
      if (events !== undefined) parsed = searchIndex.indexOfEvents(events(missing));
      else {
        const all = lines();
        parsed = searchIndex.indexOfLines({ lines: missing.map((i) => all[i]) });
      }
      fillAt(index, missing, parsed);
    }
    return index;
  }
}

/** Entry `at[k]` of `index` set to entry k of `from` (the parsed entries of the points that came without one). */
export function fillAt(index: LineIndex, at: readonly number[], from: LineIndex): void {
  for (let k = 0; k < at.length; k++) {
    const i = at[k];
    index.phases[i] = from.phases[k];
    index.names[i] = from.names[k];
    index.parentIds[i] = from.parentIds[k];
    index.projects[i] = from.projects[k];
    index.services[i] = from.services[k];
    index.hosts[i] = from.hosts[k];
    index.details[i] = from.details[k];
    index.routes[i] = from.routes[k];
  }
}
