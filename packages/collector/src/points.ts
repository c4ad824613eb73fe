/** A set of points as core's LineBatch (bytes kept; strings made only if a driver asks). */
import type { LineBatch } from '@osprofiler/core/instrument';

export class PointSet implements LineBatch {
  readonly baseIds: string[] = [];
  readonly timestamps: string[] = [];
  readonly buffers: Buffer[] = [];
  private errorFlags: number[] = [];
  private anyError = false;
  private strings: string[] | undefined;

  push(line: Buffer, baseId: string, timestamp: string, isError: boolean): void {
    this.buffers.push(line);
    this.baseIds.push(baseId);
    this.timestamps.push(timestamp);
    this.errorFlags.push(isError ? 1 : 0);
    if (isError) this.anyError = true;
    this.strings = undefined;
  }

  /** Appends all of `other`. */
  concat(other: PointSet): void {
    for (let i = 0; i < other.count; i++) this.push(other.buffers[i], other.baseIds[i], other.timestamps[i], other.errorFlags[i] === 1);
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
