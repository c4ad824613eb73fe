/**
 * A set of points as core's LineBatch (bytes kept; strings made only if a driver asks),
 * with the search index the agent carried (per point; a point without one — an older
 * agent's, or one a rule rewrote — is parsed when the index is read).
 */
import type { LineBatch, LineIndex } from '@osprofiler/core/instrument';
import { PointIndex, type IndexSource } from '@osprofiler/agent';

export class PointSet implements LineBatch {
  readonly baseIds: string[] = [];
  readonly timestamps: string[] = [];
  readonly buffers: Buffer[] = [];
  private errorFlags: number[] = [];
  private anyError = false;
  private strings: string[] | undefined;
  readonly points = new PointIndex();

  push(line: Buffer, baseId: string, timestamp: string, isError: boolean, src: IndexSource | null = null, pos = 0): void {
    this.buffers.push(line);
    this.points.push(src, pos);
    this.baseIds.push(baseId);
    this.timestamps.push(timestamp);
    this.errorFlags.push(isError ? 1 : 0);
    if (isError) this.anyError = true;
    this.strings = undefined;
  }

  /** Appends all of `other`. */
  concat(other: PointSet): void {
    for (let i = 0; i < other.count; i++) this.push(other.buffers[i], other.baseIds[i], other.timestamps[i], other.errorFlags[i] === 1, other.points.srcs[i], other.points.pos[i]);
  }

  /** Point i of `other`, with its index entry. */
  pushFrom(other: PointSet, i: number): void {
    this.push(other.buffers[i], other.baseIds[i], other.timestamps[i], other.errorFlags[i] === 1, other.points.srcs[i], other.points.pos[i]);
  }

  /** The carried index (lines without one parsed); undefined when no point has one. */
  get index(): LineIndex | undefined {
    return this.points.lineIndex(() => this.lines);
  }

  isError(i: number): boolean {
    return this.errorFlags[i] === 1;
  }

  get count(): number {
    return this.buffers.length;
  }

  get lines(): readonly string[] {
    return (this.strings ??= this.buffers.map((b) => b.toString('latin1')));
  }

  get errors(): Uint8Array | null {
    return this.anyError ? Uint8Array.from(this.errorFlags) : null;
  }
}
