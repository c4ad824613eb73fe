/**
 * Honest traces: points dropped before storage are accounted per trace and written as one
 * extra notification per trace, `dropped-stop`, with `info.dropped` = N.
 *
 * The name has no `-` before the suffix (Python's report keeps what precedes the first
 * `-`), its parent is the trace's base id, so Python and `osprofiler trace show` show it
 * as a top-level point named `dropped`; its own trace_id is fresh. Its timestamp is the
 * latest dropped point's, so it does not stretch the trace.
 */
import { randomUUID } from 'node:crypto';
import type { Notification } from '@osprofiler/core';
import { DROPPED_POINT } from '@osprofiler/core/instrument';

/** The same marker core writes for points past a trace's `maxTracePoints`. */
export const DROPPED_POINT_NAME = `${DROPPED_POINT}-stop`;
/** Traces remembered at most; drops of further traces are counted but cannot be marked. */
const MAX_TRACES = 10_000;

/** Where points come from (one notifier: one project, service and host). */
export interface PointOrigin {
  project: string | null;
  service: string | null;
  host: string;
}

interface Entry extends PointOrigin {
  dropped: number;
  timestamp: string;
}

export class DropLedger {
  private byTrace = new Map<string, Entry>();
  /** Drops that could not be attributed to a remembered trace. */
  unmarked = 0;

  /** One dropped point of trace `baseId`; `from` says what its marker is stamped with. */
  add(baseId: string, timestamp: string, from: PointOrigin): void {
    const e = this.byTrace.get(baseId);
    if (e !== undefined) {
      e.dropped++;
      if (timestamp > e.timestamp) e.timestamp = timestamp;
      return;
    }
    if (this.byTrace.size >= MAX_TRACES) {
      this.unmarked++;
      return;
    }
    this.byTrace.set(baseId, { dropped: 1, timestamp, project: from.project, service: from.service, host: from.host });
  }

  get size(): number {
    return this.byTrace.size;
  }

  /** The marker notifications for everything accounted so far; forgets them. */
  take(reason: string): Notification[] {
    const out: Notification[] = [];
    for (const [baseId, e] of this.byTrace) out.push(droppedNotification(baseId, e.dropped, reason, e));
    this.byTrace.clear();
    return out;
  }
}

export function droppedNotification(
  baseId: string,
  dropped: number,
  reason: string,
  from: { timestamp: string; project: string | null; service: string | null; host: string },
): Notification {
  return {
    name: DROPPED_POINT_NAME,
    base_id: baseId,
    trace_id: randomUUID(),
    parent_id: baseId,
    timestamp: from.timestamp,
    info: { dropped, reason, host: from.host },
    project: from.project,
    service: from.service,
  };
}
