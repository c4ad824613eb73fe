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
  private cache: (string | undefined)[];

  constructor(
    readonly buf: Buffer,
    /** Start of string k's bytes is starts[k]; its end is ends[k]. */
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
    readonly records: number,
  ) {
    this.cache = new Array<string | undefined>(starts.length);
  }

  get strings(): number {
    return this.starts.length;
  }

  /** String `ref` (null for NONE). */
  string(ref: number): string | null {
    if (ref === NONE) return null;
    return (this.cache[ref] ??= this.buf.toString('utf8', this.starts[ref], this.ends[ref]));
  }

  phase(pos: number): number {
    return this.buf[this.records + pos * RECORD_BYTES];
  }

  /** Ref `k` (0 name … 6 route) of the point at `pos`. */
  ref(pos: number, k: number): number {
    return this.buf.readUInt32BE(this.records + pos * RECORD_BYTES + 1 + 4 * k);
  }
}

/** The section at buf[start, end) for `count` points, or undefined when it does not check out. */
export function readIndex(buf: Buffer, start: number, end: number, count: number): IndexSource | undefined {
  if (end - start < 4) return undefined;
  const s = buf.readUInt32BE(start);
  // Each point names at most 7 distinct strings.
  if (s > REFS * count) return undefined;
  const starts = new Uint32Array(s);
  const ends = new Uint32Array(s);
  let off = start + 4;
  for (let k = 0; k < s; k++) {
    if (end - off < 4) return undefined;
    const n = buf.readUInt32BE(off);
    off += 4;
    if (n > end - off) return undefined;
    starts[k] = off;
    ends[k] = off + n;
    off += n;
  }
  if (end - off !== count * RECORD_BYTES) return undefined;
  for (let r = off; r < end; r += RECORD_BYTES) {
    if (buf[r] > 1) return undefined;
    for (let k = 0; k < REFS; k++) {
      const ref = buf.readUInt32BE(r + 1 + 4 * k);
      if (ref >= s && ref !== NONE) return undefined;
    }
  }
  return new IndexSource(buf, starts, ends, off);
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
  /**
   * Points so far, and per point its entry's source and place; while no point has an entry
   * (the apps' default 'L' bodies) only counted: two arrays of nulls and zeros grown a point
   * at a time were ~50 bytes of V8's heap a point (`srcs`/`pos` then make them on first use).
   */
  private n = 0;
  private srcList: (IndexSource | null)[] | undefined;
  private posList: number[] | undefined;
  /** Points with an entry. */
  private known = 0;

  get srcs(): readonly (IndexSource | null)[] {
    return this.materialize().srcList!;
  }

  get pos(): readonly number[] {
    return this.materialize().posList!;
  }

  push(src: IndexSource | null, pos: number): void {
    if (this.srcList === undefined) {
      if (src === null) {
        this.n++;
        return;
      }
      this.materialize();
    }
    // Stored by index, not pushed (a builtin call each: ~55 instructions, callgrind).
    const n = this.n++;
    this.srcList![n] = src;
    this.posList![n] = pos;
    if (src !== null) this.known++;
  }

  truncate(n: number): void {
    if (n >= this.n) return;
    this.n = n;
    const srcs = this.srcList;
    if (srcs === undefined) return;
    for (let i = n; i < srcs.length; i++) if (srcs[i] !== null) this.known--;
    srcs.length = n;
    this.posList!.length = n;
  }

  /** The arrays of the points counted so far (nulls and zeros for points without an entry). */
  private materialize(): this {
    if (this.srcList === undefined) {
      this.srcList = new Array<IndexSource | null>(this.n).fill(null);
      this.posList = new Array<number>(this.n).fill(0);
    }
    return this;
  }

  /** Whether every point has an entry. */
  get complete(): boolean {
    return this.known === this.n;
  }

  /**
   * The LineIndex of all points. Points without an entry are read by `events` when given
   * (what the index reads of the points listed, or of all when null), else their lines parsed;
   * without `events`, undefined when no point has an entry (the driver parses them all).
   */
  lineIndex(lines: () => readonly string[], events?: (points: readonly number[] | null) => readonly (Record<string, unknown> | undefined)[]): LineIndex | undefined {
    const n = this.n;
    if (n === 0) return undefined;
    if (this.known === 0) return events === undefined ? undefined : searchIndex.indexOfEvents(events(null));
    const index: LineIndex = { names: [], phases: new Uint8Array(n), parentIds: [], projects: [], services: [], hosts: [], details: [], routes: [] };
    // Points without an entry are parsed together, in one indexOfLines call (one a line,
    // before: a batch object and an index of 7 arrays per line).
    let missing: number[] | undefined;
    const { srcs, pos } = this;
    for (let i = 0; i < n; i++) {
      const src = srcs[i];
      if (src === null) {
        (missing ??= []).push(i);
        index.names.push('');
        index.parentIds.push('');
        index.projects.push(null);
        index.services.push(null);
        index.hosts.push('');
        index.details.push(null);
        index.routes.push(null);
        continue;
      }
      const p = pos[i];
      index.phases[i] = src.phase(p);
      index.names.push(src.string(src.ref(p, 0)) ?? '');
      index.parentIds.push(src.string(src.ref(p, 1)) ?? '');
      index.projects.push(src.string(src.ref(p, 2)));
      index.services.push(src.string(src.ref(p, 3)));
      index.hosts.push(src.string(src.ref(p, 4)) ?? '');
      index.details.push(src.string(src.ref(p, 5)));
      index.routes.push(src.string(src.ref(p, 6)));
    }
    if (missing !== undefined) {
      let parsed: LineIndex;
      if (events !== undefined) parsed = searchIndex.indexOfEvents(events(missing));
      else {
        const all = lines();
        parsed = searchIndex.indexOfLines({ lines: missing.map((i) => all[i]) });
      }
      for (let k = 0; k < missing.length; k++) {
        const i = missing[k];
        index.phases[i] = parsed.phases[k];
        index.names[i] = parsed.names[k];
        index.parentIds[i] = parsed.parentIds[k];
        index.projects[i] = parsed.projects[k];
        index.services[i] = parsed.services[k];
        index.hosts[i] = parsed.hosts[k];
        index.details[i] = parsed.details[k];
        index.routes[i] = parsed.routes[k];
      }
    }
    return index;
  }
}
