/**
 * A set of points as core's LineBatch (bytes kept; strings made only if a driver asks),
 * with the search index the agent carried (per point; a point without one — an older
 * agent's, or one a rule rewrote — is parsed when the index is read).
 */
import { searchIndex, type LineBatch, type LineIndex } from '@osprofiler/core/instrument';
import { PointIndex, type IndexSource } from '@osprofiler/agent';

export class PointSet implements LineBatch {
  readonly baseIds: string[];
  readonly timestamps: string[];
  readonly buffers: Buffer[];
  readonly points: PointIndex;
  /** 1 per error point; a decoded message's own flags until something is pushed. */
  private errorFlags: number[] | Uint8Array;
  private anyError: boolean;
  private strings: readonly string[] | undefined;
  /**
   * A taken-over decoder's `lines` (strings sliced from the body's one text), until a push:
   * the index parse reads them instead of a `toString` per line (~1k instructions a point
   * less in the collector, tools/bench/collector-ir.cjs).
   */
  private decoded: { readonly lines: readonly string[] } | undefined;
  /**
   * Per line, its checkedHead match (validate.ts: lines that came without an index), read
   * by `index` so the head is matched once; kept while the lines are the decoder's or were
   * joined whole (`concat`).
   */
  private heads: (RegExpExecArray | null)[] | undefined;

  /**
   * Empty; or the points of a decoded message, its arrays taken over as they are (not
   * copied point by point; `from` must not be used after) with `errors` = `from.errors`.
   */
  constructor(
    from?: { baseIds: string[]; timestamps: string[]; buffers: Buffer[]; points: PointIndex; readonly lines: readonly string[] },
    errors: Uint8Array | null = null,
    heads?: (RegExpExecArray | null)[],
  ) {
    this.baseIds = from?.baseIds ?? [];
    this.timestamps = from?.timestamps ?? [];
    this.buffers = from?.buffers ?? [];
    this.points = from?.points ?? new PointIndex();
    this.errorFlags = errors ?? (from === undefined ? [] : new Uint8Array(from.buffers.length));
    this.anyError = errors !== null;
    this.strings = undefined;
    this.decoded = from;
    this.heads = heads;
  }

  push(line: Buffer, baseId: string, timestamp: string, isError: boolean, src: IndexSource | null = null, pos = 0): void {
    this.buffers.push(line);
    this.points.push(src, pos);
    this.baseIds.push(baseId);
    this.timestamps.push(timestamp);
    if (!Array.isArray(this.errorFlags)) this.errorFlags = Array.from(this.errorFlags);
    this.errorFlags.push(isError ? 1 : 0);
    if (isError) this.anyError = true;
    this.strings = undefined;
    this.decoded = undefined;
    this.heads = undefined;
  }

  /**
   * Appends all of `other`. Lines already made as strings on both sides are kept (the SQL
   * drivers read `lines`: otherwise a `toString` per line of the joined set).
   */
  concat(other: PointSet): void {
    const mine = this.count === 0 ? [] : this.madeLines;
    const theirs = other.madeLines;
    const myHeads = this.count === 0 ? [] : this.heads;
    for (let i = 0; i < other.count; i++) this.push(other.buffers[i], other.baseIds[i], other.timestamps[i], other.errorFlags[i] === 1, other.points.srcs[i], other.points.pos[i]);
    if (mine !== undefined && theirs !== undefined) this.strings = mine.concat(theirs);
    if (myHeads !== undefined && other.heads !== undefined) this.heads = myHeads.concat(other.heads);
  }

  /** The lines as strings if they are made already (or free: a taken-over decoder's slices). */
  private get madeLines(): readonly string[] | undefined {
    return this.strings ?? this.decoded?.lines;
  }

  /** Point i of `other`, with its index entry. */
  pushFrom(other: PointSet, i: number): void {
    this.push(other.buffers[i], other.baseIds[i], other.timestamps[i], other.errorFlags[i] === 1, other.points.srcs[i], other.points.pos[i]);
  }

  /**
   * The carried index (lines without one parsed); when no point carried one (the apps'
   * default 'L' bodies), core's layout reader given the heads checkMessage matched
   * (./wireindex.ts), so no line's head is matched twice.
   */
  get index(): LineIndex | undefined {
    return this.points.lineIndex(() => this.lines) ?? (this.count === 0 ? undefined : searchIndex.indexOfLines(this, this.heads));
  }

  isError(i: number): boolean {
    return this.errorFlags[i] === 1;
  }

  get count(): number {
    return this.buffers.length;
  }

  get lines(): readonly string[] {
    return (this.strings ??= this.decoded?.lines ?? this.buffers.map((b) => b.toString('latin1')));
  }

  get errors(): Uint8Array | null {
    if (!this.anyError) return null;
    return this.errorFlags instanceof Uint8Array ? this.errorFlags : Uint8Array.from(this.errorFlags);
  }
}
