/**
 * Copies a stored trace to another driver (e.g. `osprofiler trace export <base_id> --to
 * otlp://…`): the notifications are taken from the report's raw payloads, so any readable
 * driver can be the source.
 */
import type { Driver } from './driver';
import type { Notification } from './notification';
import type { ReportNode } from './report-types';

/** The stored notifications of a trace, oldest first (as they were written). */
export async function traceNotifications(source: Driver, baseId: string): Promise<Notification[]> {
  const report = await source.getReport(baseId);
  const out: Notification[] = [];
  const walk = (nodes: readonly ReportNode[]): void => {
    for (const n of nodes) {
      for (const [key, value] of Object.entries(n.info)) {
        if (key.startsWith('meta.raw_payload.') && value !== null && typeof value === 'object') out.push(value as Notification);
      }
      walk(n.children);
    }
  };
  walk(report.children);
  // Starts before stops at equal times, so a span always opens before it closes.
  const rank = (n: Notification): number => (String(n.name).endsWith('-stop') ? 1 : 0);
  return out.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : rank(a) - rank(b)));
}

/** Writes every stored notification of `baseId` to `target` and waits until it is stored; returns how many. */
export async function exportTrace(source: Driver, baseId: string, target: Driver, timeoutMs = 30_000): Promise<number> {
  const events = await traceNotifications(source, baseId);
  if (events.length === 0) return 0;
  await target.notify(events);
  await target.flush(timeoutMs);
  return events.length;
}
