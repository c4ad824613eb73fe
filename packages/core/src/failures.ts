/**
 * Profiler failures are contained here: counted per place, reported once per place and
 * process as a warning, and never thrown into user code.
 */
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';

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

/**
 * Which warnings were printed, shared by every thread of the process: the first thread to
 * load core puts a SharedArrayBuffer in its environment data, and workers it starts later
 * receive the same memory (environment data is cloned into each new worker, and a clone
 * of a SharedArrayBuffer shares it). Slots hold 32-bit hashes of the warning keys.
 */
const SEEN_KEY = 'osprofiler.warned.v1';
const SLOTS = 1024;
const seen: Int32Array = (() => {
  try {
    let buf = getEnvironmentData(SEEN_KEY) as SharedArrayBuffer | undefined;
    if (!(buf instanceof SharedArrayBuffer)) {
      buf = new SharedArrayBuffer(SLOTS * 4);
      setEnvironmentData(SEEN_KEY, buf as never);
    }
    return new Int32Array(buf);
  } catch {
    return new Int32Array(SLOTS); // this thread alone
  }
})();

function hash(s: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 1; // never 0, the empty slot
}

/** True the first time `key` is claimed in this process (any thread). */
function firstInProcess(key: string): boolean {
  const h = hash(key);
  for (let i = 0, slot = h >>> 22; i < SLOTS; i++, slot = (slot + 1) % SLOTS) {
    const was = Atomics.compareExchange(seen, slot, 0, h);
    if (was === 0) return true;
    if (was === h) return false;
  }
  return true; // table full: better twice than never
}

/**
 * Prints `osprofiler: <message>` as a process warning once per process and `key` (main
 * thread and workers together). Never throws.
 */
export function warnOnce(key: string, message: string, code: string): void {
  try {
    if (firstInProcess(key)) process.emitWarning(`osprofiler: ${message}`, { code });
  } catch {
    // A warning must not hurt the host either.
  }
}
