import { randomUUID } from 'node:crypto';
import { runtime } from './runtime';

/**
 * The per-request profiler, kept in the async context. Same model as Python's:
 * a stack of ids that starts as `[base_id, parent_id]`; `start` pushes a new id,
 * `stop` pops it. The current id is the top, the parent id the entry below.
 *
 * The stack is for sequential `start`/`stop` pairs. Work that runs concurrently within
 * one request uses the scoped helpers (`traced`, `trace`, decorators), which give every
 * concurrent branch its own forked profiler, so siblings never pop each other's points.
 */
export class Profiler {
  readonly baseId: string;
  /** The key this trace's outgoing calls are signed with (the key that matched on the way in). */
  readonly hmacKey: string;
  private readonly ids: string[];
  private readonly names: string[];

  /**
   * Use `newProfiler()` for a trace's root profiler. The stack starts as `[below, top]`:
   * `[base_id, parent_id]` for a root, `[parent, point id]` for a scoped point's fork.
   */
  constructor(hmacKey: string, baseId: string, below: string, top: string) {
    this.hmacKey = hmacKey;
    this.baseId = baseId;
    this.ids = [below, top];
    this.names = [];
  }

  /** The id of the innermost open point (what outgoing calls send as `parent_id`). */
  get currentId(): string {
    return this.ids[this.ids.length - 1];
  }

  /** The id just below the current one. */
  get parentId(): string {
    return this.ids[this.ids.length - 2];
  }

  start(name: string, info?: object): void {
    const parent = this.ids[this.ids.length - 1];
    const id = randomUUID();
    this.ids.push(id);
    this.names.push(name);
    runtime.sink.point(0, name, this.baseId, id, parent, info);
  }

  stop(info?: object): void {
    if (this.ids.length <= 2) {
      // The two bottom entries belong to the creator (base/parent, or a scoped point).
      // Unmatched stop: ignored and counted, never thrown (Python OSProfiler 4.x behaviour).
      runtime.unmatchedStops++;
      return;
    }
    const id = this.ids.pop() as string;
    const name = this.names.pop() as string;
    runtime.sink.point(1, name, this.baseId, id, this.ids[this.ids.length - 1], info);
  }
}

/** A root profiler, as Python's `profiler.init`: an empty or absent base id gets a fresh uuid4. */
export function newProfiler(hmacKey: string, baseId?: string | null, parentId?: string | null): Profiler {
  const base = baseId || randomUUID();
  return new Profiler(hmacKey, base, base, parentId || base);
}
