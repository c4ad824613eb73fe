/**
 * Failures inside the adapter never reach the application: they are counted per place and
 * reported once per place as a process warning (core's own counter is internal).
 */
const counts = new Map<string, number>();

export function contained(where: string, err: unknown): void {
  const n = (counts.get(where) ?? 0) + 1;
  counts.set(where, n);
  if (n !== 1) return;
  try {
    const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    process.emitWarning(`osprofiler: nestjs.${where} failed (further failures here are only counted): ${msg}`, {
      code: 'OSPROFILER_CONTAINED_FAILURE',
    });
  } catch {
    // emitWarning must not hurt the host either.
  }
}

/** Contained failures of this package per place, since start-up. */
export function nestFailureCounts(): Record<string, number> {
  return Object.fromEntries(counts);
}
