import { AsyncLocalStorage } from 'node:async_hooks';
import type { Profiler } from './profiler';

/**
 * Process-wide state, shared by every copy of @osprofiler/core that gets loaded (two
 * versions in one node_modules tree must still see one context and one sink).
 */
export interface PointSink {
  /** Hot path: record one event; `phase` 0 = start, 1 = stop. Must not throw. */
  point(phase: 0 | 1, name: string, baseId: string, traceId: string, parentId: string, info: object | undefined): void;
}

export interface Runtime {
  readonly version: 1;
  readonly storage: AsyncLocalStorage<Profiler>;
  sink: PointSink;
  /** Unmatched `stop()` calls (ignored, as Python OSProfiler 4.x does). */
  unmatchedStops: number;
  /** Points one trace may record in this process (`maxTracePoints`); set by `configure()`. */
  maxTracePoints?: number;
}

const KEY = Symbol.for('osprofiler.runtime.v1');
const holder = globalThis as unknown as { [KEY]?: Runtime };

// Replaced by setup.ts on load; marked so a second copy of core does not replace it again.
const noopSink: PointSink & { isDefault: true } = { point() {}, isDefault: true };

export const runtime: Runtime = (holder[KEY] ??= {
  version: 1,
  storage: new AsyncLocalStorage<Profiler>(),
  sink: noopSink,
  unmatchedStops: 0,
});

export const storage = runtime.storage;
