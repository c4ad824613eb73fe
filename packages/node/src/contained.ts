/**
 * Failures inside the instrumentation never reach the application: they go to core's
 * `recordFailure` (counted per place, warned once per place; read with core's
 * `failureCounts()`), under `node.<place>`.
 */
import { recordFailure } from '@osprofiler/core';

export function contained(where: string, err: unknown): void {
  try {
    recordFailure(`node.${where}`, err);
  } catch {
    // Counting must not hurt the host either.
  }
}
