import { uuid4 } from './uuid';
import { DEFAULT_CONFIG } from './config';
import { runtime } from './runtime';

/**
 * What one trace may still record in this process (`maxTracePoints`), shared by its root
 * profiler and every fork. Points past it are not recorded, only counted; the count goes
 * out as a `dropped` marker (the agent's shape) just before the trace's next recorded stop.
 */
export interface TraceBudget {
  left: number;
  dropped: number;
  /** Of `dropped`, how many a marker already reported. */
  marked: number;
}

export function newBudget(): TraceBudget {
  return { left: runtime.maxTracePoints ?? DEFAULT_CONFIG.maxTracePoints, dropped: 0, marked: 0 };
}

/** Name of the marker point (stored as `dropped-stop`, parent the base id, `info.dropped` = N). */
export const DROPPED_POINT = 'dropped';

/** Reports the drops not reported yet. Called just before a recorded stop, so the marker lies within the trace. */
export function markDropped(baseId: string, budget: TraceBudget): void {
  const n = budget.dropped - budget.marked;
  budget.marked = budget.dropped;
  // A stop without a start: counted open here, so that its stop leaving the buffer leaves the
  // process's open points as they were (context-idle.ts).
  runtime.openPoints = (runtime.openPoints ?? 0) + 1;
  runtime.sink.point(1, DROPPED_POINT, baseId, uuid4(), baseId, { dropped: n, reason: 'max_trace_points' });
}

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
  /** @internal Shared by the whole trace in this process. */
  readonly budget: TraceBudget;
  /**
   * The stack above `[below, top]`: nothing (undefined), one started entry as a string (its id,
   * and its name in `names`), or from a second start on the whole stack as arrays
   * (`[below, top, …]` and the names). Most profilers are a scoped point's fork (`traced`,
   * adapters' points) whose own stack is never used, and a root's is mostly one point deep
   * (a request's `wsgi`): no arrays for either (two arrays fewer a traced request, 128 bytes
   * of young garbage: trace-lines.cjs BENCH_ALLOC).
   */
  private ids: string | string[] | undefined;
  private names: string | string[] | undefined;
  private readonly below: string;
  private readonly top: string;

  /**
   * Use `newProfiler()` for a trace's root profiler. The stack starts as `[below, top]`:
   * `[base_id, parent_id]` for a root, `[parent, point id]` for a scoped point's fork.
   */
  constructor(hmacKey: string, baseId: string, below: string, top: string, budget: TraceBudget = newBudget()) {
    this.hmacKey = hmacKey;
    this.budget = budget;
    this.baseId = baseId;
    this.below = below;
    this.top = top;
    this.ids = undefined;
    this.names = undefined;
  }

  /** The id of the innermost open point (what outgoing calls send as `parent_id`). */
  get currentId(): string {
    const ids = this.ids;
    return ids === undefined ? this.top : typeof ids === 'string' ? ids : ids[ids.length - 1];
  }

  /** The id just below the current one. */
  get parentId(): string {
    const ids = this.ids;
    return ids === undefined ? this.below : typeof ids === 'string' ? this.top : ids[ids.length - 2];
  }

  start(name: string, info?: object): void {
    const ids = this.ids;
    const parent = ids === undefined ? this.top : typeof ids === 'string' ? ids : ids[ids.length - 1];
    const b = this.budget;
    let id: string;
    if (b.left <= 0) {
      // Past the budget: not recorded. The parent's id is pushed again, so points and
      // calls made inside still hang under the last recorded point (and stop() knows such
      // an entry by it: a recorded entry's id is a fresh uuid4, never the one below it).
      b.dropped++;
      id = parent;
    } else {
      b.left--;
      id = uuid4();
      runtime.sink.point(0, name, this.baseId, id, parent, info);
    }
    if (ids === undefined) {
      this.ids = id;
      this.names = name;
    } else if (typeof ids === 'string') {
      // The second start makes the arrays with their entries in them: an array literal is
      // made at its length (`[]` then pushes grew it: GrowFastSmiOrObjectElements, callgrind).
      this.ids = [this.below, this.top, ids, id];
      this.names = [this.names as string, name];
    } else {
      ids.push(id);
      (this.names as string[]).push(name);
    }
  }

  stop(info?: object): void {
    const ids = this.ids;
    let id: string;
    let name: string;
    let parent: string;
    if (typeof ids === 'string') {
      id = ids;
      name = this.names as string;
      parent = this.top;
      this.ids = undefined;
      this.names = undefined;
    } else if (ids === undefined || ids.length <= 2) {
      // The two bottom entries belong to the creator (base/parent, or a scoped point).
      // Unmatched stop: ignored and counted, never thrown (Python OSProfiler 4.x behaviour).
      runtime.unmatchedStops++;
      return;
    } else {
      id = ids.pop() as string;
      name = (this.names as string[]).pop() as string;
      parent = ids[ids.length - 1];
    }
    // Its start was past the budget (it pushed its parent's id again). Such entries are the
    // topmost ones (the budget only shrinks): one comparison at a stop, where a count of them
    // was a field in every profiler (8 of its 88 bytes; a traced /nested request makes 6).
    if (id === parent) return;
    if (this.budget.dropped !== this.budget.marked) markDropped(this.baseId, this.budget);
    runtime.sink.point(1, name, this.baseId, id, parent, info);
  }
}

/** A root profiler, as Python's `profiler.init`: an empty or absent base id gets a fresh uuid4. */
export function newProfiler(hmacKey: string, baseId?: string | null, parentId?: string | null): Profiler {
  const base = baseId || uuid4();
  return new Profiler(hmacKey, base, base, parentId || base);
}
