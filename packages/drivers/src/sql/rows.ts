/** Notifications as rows of `<prefix>osprofiler_points` and `<prefix>osprofiler_errors`. */
import { pyDumps } from '@osprofiler/core';
import type { Notification } from '@osprofiler/core';
import { timestampMicrosText } from '../timestamp';

export interface PointRow {
  baseId: string;
  traceId: string;
  name: string;
  /** The event's timestamp as microseconds since 1970 (UTC), in decimal. */
  ts: string;
  /** The stored notification: exactly the JSON text Python's Redis driver would store. */
  event: string;
  project: string | null;
  service: string | null;
}

export interface Rows {
  points: PointRow[];
  /** base_id → timestamp (µs, decimal) of its latest error in this batch (Python: the last SET wins). */
  errors: Map<string, string>;
  /** Notifications left out: a timestamp Python could not read either. */
  rejected: number;
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function toRows(batch: readonly Notification[], filterErrorTrace: boolean): Rows {
  const points: PointRow[] = [];
  const errors = new Map<string, string>();
  let rejected = 0;
  for (const n of batch) {
    const ts = timestampMicrosText(String(n.timestamp));
    if (ts === undefined) {
      rejected++;
      continue;
    }
    const baseId = String(n.base_id);
    points.push({
      baseId,
      traceId: String(n.trace_id),
      name: String(n.name),
      ts,
      event: pyDumps(n),
      project: str(n.project),
      service: str(n.service),
    });
    if (filterErrorTrace && n.info?.etype != null) errors.set(baseId, ts);
  }
  return { points, errors, rejected };
}
