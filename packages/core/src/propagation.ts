import type { TraceOptions } from './api';
import { currentTrace } from './runtime';
import type { Profiler } from './profiler';
import { signedPack, signedUnpack } from './signing';

export const TRACE_INFO_HEADER = 'X-Trace-Info';
export const TRACE_HMAC_HEADER = 'X-Trace-HMAC';

/** The two signed headers, named exactly as Python sends them. */
export interface TraceHeaders {
  'X-Trace-Info': string;
  'X-Trace-HMAC': string;
}

/**
 * Anything headers-like: a plain object (Node's `req.headers`, an outgoing headers
 * object, message properties), or an object with `get`/`set` (fetch `Headers`, `Map`).
 */
export type Carrier = Record<string, unknown> | { get(name: string): unknown; set?(name: string, value: string): unknown };

// One signature per (profiler, current id): a point that makes several calls signs once.
const signed = new WeakMap<Profiler, { id: string; headers: TraceHeaders }>();

/**
 * The signed headers that continue the current trace under its current point, or
 * undefined when not traced (no work then). Signed with the key that matched on the way in.
 */
export function traceHeaders(profiler: Profiler | undefined = currentTrace()): TraceHeaders | undefined {
  if (profiler === undefined || !profiler.hmacKey) return undefined;
  const id = profiler.currentId;
  const cached = signed.get(profiler);
  if (cached !== undefined && cached.id === id) return cached.headers;
  const { info, hmac } = signedPack({ base_id: profiler.baseId, parent_id: id }, profiler.hmacKey);
  const headers: TraceHeaders = { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac };
  signed.set(profiler, { id, headers });
  return headers;
}

/** Writes the signed trace headers into `carrier`; returns false (and writes nothing) when not traced. */
export function inject(carrier: Carrier, profiler?: Profiler): boolean {
  const h = traceHeaders(profiler ?? currentTrace());
  if (h === undefined) return false;
  const c = carrier as { set?: unknown };
  if (typeof c.set === 'function') {
    (carrier as { set(n: string, v: string): unknown }).set(TRACE_INFO_HEADER, h['X-Trace-Info']);
    (carrier as { set(n: string, v: string): unknown }).set(TRACE_HMAC_HEADER, h['X-Trace-HMAC']);
  } else {
    (carrier as Record<string, unknown>)[TRACE_INFO_HEADER] = h['X-Trace-Info'];
    (carrier as Record<string, unknown>)[TRACE_HMAC_HEADER] = h['X-Trace-HMAC'];
  }
  return true;
}

function read(carrier: Carrier, canonical: string, lower: string): string | undefined {
  const c = carrier as { get?: unknown };
  let v: unknown;
  if (typeof c.get === 'function') {
    const g = carrier as { get(n: string): unknown };
    v = g.get(lower) ?? g.get(canonical);
  } else {
    const o = carrier as Record<string, unknown>;
    v = o[lower] ?? o[canonical];
  }
  if (typeof v === 'string') return v;
  // A repeated header is ambiguous: ignore it rather than guess.
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  return undefined;
}

/**
 * Verifies the signed trace headers in `carrier` against `hmacKeys`. Returns the options
 * to continue the trace (with the key that matched), or undefined when the headers are
 * absent, malformed, forged or oversized. Never throws.
 */
export function extract(carrier: Carrier | null | undefined, hmacKeys: readonly string[]): TraceOptions | undefined {
  if (carrier === null || carrier === undefined || hmacKeys.length === 0) return undefined;
  try {
    const hmac = read(carrier, TRACE_HMAC_HEADER, 'x-trace-hmac');
    if (hmac === undefined) return undefined;
    const info = read(carrier, TRACE_INFO_HEADER, 'x-trace-info');
    if (info === undefined) return undefined;
    const data = signedUnpack(info, hmac, hmacKeys);
    if (data === null) return undefined;
    return { hmacKey: data.hmac_key, baseId: data.base_id, parentId: data.parent_id };
  } catch {
    return undefined;
  }
}
