/**
 * OSProfiler ids → OpenTelemetry ids, as Python's OTLP driver (wire spec §8): the trace id
 * is the full 128-bit UUID of base_id, a span id the low 64 bits of the point's trace_id.
 * Ids that are not UUIDs (a header may carry any string) are hashed instead.
 */
import { createHash } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function hex128(id: string): string {
  return UUID.test(id) ? id.replace(/-/g, '').toLowerCase() : createHash('sha256').update(id).digest('hex').slice(0, 32);
}

/** 32 hex digits. */
export function otelTraceId(baseId: string): string {
  return hex128(baseId);
}

/** 16 hex digits: Python's shorten_id (the low 64 bits). */
export function otelSpanId(id: string): string {
  return hex128(id).slice(16);
}
