/**
 * Profiler failures are contained here: counted per place, reported once per place and
 * process as a warning, and never thrown into user code.
 */
import { warnOnce } from './diagnostics';

const counts = new Map<string, number>();

export function recordFailure(where: string, err: unknown): void {
  const n = (counts.get(where) ?? 0) + 1;
  counts.set(where, n);
  if (n === 1) {
    const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    warnOnce(`failure:${where}`, `${where} failed (further failures here are only counted): ${msg}`, 'OSPROFILER_CONTAINED_FAILURE');
  }
}

/** Failure counts per place since start-up (or the last reset); per thread. */
export function failureCounts(): Record<string, number> {
  return Object.fromEntries(counts);
}

export function resetFailureCounts(): void {
  counts.clear();
}
