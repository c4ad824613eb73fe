/** `otlp://host:port[/path]` (OTLP/HTTP, protobuf; path default /v1/traces) */
import type { DriverOptions } from '@osprofiler/core';
import { parseDurationMs } from '../duration';
import { optionError } from '../errors';

export interface OtlpSettings {
  /** Where spans are POSTed. */
  endpoint: URL;
  /** Request timeout. */
  timeoutMs: number;
  /** Starts still waiting for their stop, at most; past it the oldest are dropped (counted). */
  maxOpenSpans: number;
  /** Prepended to service.name, as Python's `[profiler_otlp] service_name_prefix`. */
  serviceNamePrefix: string;
  project: string | null;
  service: string | null;
}

export const DEFAULT_OTLP_SETTINGS = {
  path: '/v1/traces',
  timeoutMs: 10_000,
  maxOpenSpans: 100_000,
  serviceNamePrefix: '',
} as const;

const KNOWN = ['tls', 'timeout', 'max_open_spans', 'service_name_prefix'];

export function otlpSettings(url: URL, options: Partial<DriverOptions> = {}): OtlpSettings {
  const scheme = url.protocol.slice(0, -1);
  const q = url.searchParams;
  for (const key of q.keys()) if (!KNOWN.includes(key)) throw optionError(scheme, `unknown option "${key}" (known: ${KNOWN.join(', ')})`);
  if (url.hostname === '') throw optionError(scheme, 'name the receiver: otlp://host:port');
  const tls = /^(1|true|yes|on)$/i.test(q.get('tls') ?? '');
  const endpoint = new URL(`${tls ? 'https' : 'http'}://${url.host}${url.pathname === '' || url.pathname === '/' ? DEFAULT_OTLP_SETTINGS.path : url.pathname}`);
  if (url.port === '') endpoint.port = '4318';
  const t = q.get('timeout');
  const timeoutMs = t === null ? DEFAULT_OTLP_SETTINGS.timeoutMs : parseDurationMs(t);
  if (timeoutMs === undefined) throw optionError(scheme, `timeout="${t}" is not a duration`);
  const maxOpenSpans = Number(q.get('max_open_spans') ?? DEFAULT_OTLP_SETTINGS.maxOpenSpans);
  if (!Number.isInteger(maxOpenSpans) || maxOpenSpans < 1) throw optionError(scheme, 'max_open_spans must be a positive integer');
  return {
    endpoint,
    timeoutMs,
    maxOpenSpans,
    serviceNamePrefix: q.get('service_name_prefix') ?? DEFAULT_OTLP_SETTINGS.serviceNamePrefix,
    project: options.project ?? null,
    service: options.service ?? null,
  };
}
