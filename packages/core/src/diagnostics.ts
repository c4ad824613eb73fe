/**
 * Debug output and one-time warnings, for core and every adapter.
 *
 * Debug: `NODE_DEBUG=osprofiler` (Node's `util.debuglog`) or `OSPROFILER_DEBUG=1` turns it
 * on; messages say why a trace header was rejected and what each adapter did at start-up.
 * They never carry secrets (no keys, no HMAC values, no header text). Off, a call costs one
 * boolean check; callers build costly messages only behind `debugEnabled()`.
 */
import { debuglog } from 'node:util';
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';

const nodeDebug = debuglog('osprofiler');
let on: boolean | undefined;

/** True when debug output is on (read once per process). */
export function debugEnabled(): boolean {
  if (on === undefined) {
    const v = (process.env.OSPROFILER_DEBUG ?? '').trim().toLowerCase();
    on = nodeDebug.enabled || v === '1' || v === 'true' || v === 'yes' || v === 'on';
  }
  return on;
}

/** Writes one debug line (stderr) when debug output is on. */
export function debug(message: string): void {
  if (!debugEnabled()) return;
  try {
    if (nodeDebug.enabled) nodeDebug('%s', message);
    else process.stderr.write(`OSPROFILER ${process.pid}: ${message}\n`);
  } catch {
    // Writing a debug line must not hurt the host.
  }
}

/**
 * Which warnings were printed, shared by every thread and every copy of core in the process:
 * the first thread to load core puts a SharedArrayBuffer in its environment data, and workers
 * it starts later receive the same memory (environment data is cloned into each new worker,
 * and a clone of a SharedArrayBuffer shares it). Slots hold 32-bit hashes of the warning keys.
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
 * Prints `osprofiler: <message>` as a process warning (with `code`) once per process and
 * `key`, main thread and workers together. Returns whether it was printed now; never throws.
 */
export function warnOnce(key: string, message: string, code: string): boolean {
  try {
    if (!firstInProcess(key)) return false;
    process.emitWarning(`osprofiler: ${message}`, { code });
    return true;
  } catch {
    return false; // a warning must not hurt the host either
  }
}
