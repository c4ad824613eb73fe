/**
 * Debug output and one-time warnings, for core and every adapter.
 *
 * Debug: `NODE_DEBUG=osprofiler` (Node's `util.debuglog`) or `OSPROFILER_DEBUG=1` turns it
 * on; messages say why a trace header was rejected and what each adapter did at start-up.
 * They never carry secrets (no keys, no HMAC values, no header text). Off, a call costs one
 * boolean check; callers build costly messages only behind `debugEnabled()`.
 */
import { debuglog } from 'node:util';

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

// Shared by every copy of core in the process, so a warning is printed once per process.
const WARNED = Symbol.for('osprofiler.warned.v1');
const holder = globalThis as unknown as { [WARNED]?: Set<string> };

/** Emits a process warning once per process for `code`. Returns whether it was emitted now. */
export function warnOnce(code: string, message: string): boolean {
  const seen = (holder[WARNED] ??= new Set<string>());
  if (seen.has(code)) return false;
  seen.add(code);
  try {
    process.emitWarning(message, { code });
  } catch {
    // emitWarning itself must not hurt the host.
  }
  return true;
}
