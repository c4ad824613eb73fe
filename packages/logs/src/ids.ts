import { get } from '@osprofiler/core';

/** What a log line carries inside a trace: the trace (`base_id`) and the innermost open point. */
export interface LogIds {
  /** The trace: `osprofiler trace show <base_id>`. */
  base_id: string;
  /** The innermost open point (its `trace_id` in the stored trace; the `parent_id` of calls made now). */
  point_id: string;
}

/**
 * The ids of the current trace, or undefined outside one (the cost then: one
 * AsyncLocalStorage lookup). For your own mixin or format.
 */
export function logIds(): LogIds | undefined {
  const p = get();
  return p === undefined ? undefined : { base_id: p.baseId, point_id: p.currentId };
}
