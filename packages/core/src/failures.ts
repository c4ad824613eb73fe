/**
 * Profiler failures are contained here: counted per place, reported once per place as a
 * process warning, and never thrown into user code.
 */
const counts = new Map<string, number>();

export function recordFailure(where: string, err: unknown): void {
  const n = (counts.get(where) ?? 0) + 1;
  counts.set(where, n);
  if (n === 1) {
    try {
      const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      process.emitWarning(`osprofiler: ${where} failed (further failures here are only counted): ${msg}`, {
        code: 'OSPROFILER_CONTAINED_FAILURE',
      });
    } catch {
      // emitWarning itself must not hurt the host either.
    }
  }
}

/** Failure counts per place since start-up (or the last reset). */
export function failureCounts(): Record<string, number> {
  return Object.fromEntries(counts);
}

export function resetFailureCounts(): void {
  counts.clear();
}
