/**
 * The trace an incoming request or message runs in, for adapters: core's `incomingTrace`,
 * plus (with debug output on) one line saying why a trace header was rejected. The reason
 * never contains a key, an HMAC value or the header text.
 */
import { createHmac } from 'node:crypto';
import type { TraceOptions } from '../api';
import type { ProfilerConfig } from '../config';
import { debug, debugEnabled } from '../diagnostics';
import type { Carrier } from '../propagation';
import type { Sampler } from '../sampling';
import { getConfig, incomingTrace } from '../setup';

function read(carrier: Carrier, lower: string, canonical: string): unknown {
  const c = carrier as { get?: unknown };
  if (typeof c.get === 'function') {
    const g = carrier as { get(n: string): unknown };
    return g.get(lower) ?? g.get(canonical);
  }
  const o = carrier as Record<string, unknown>;
  return o[lower] ?? o[canonical];
}

/**
 * Why `extract` would refuse the trace headers in `carrier` (undefined when there are none,
 * or they verify). For debug output only: it recomputes what verification did.
 */
export function rejectionReason(carrier: Carrier | null | undefined, hmacKeys: readonly string[], maxHeaderBytes = 8192): string | undefined {
  if (carrier === null || carrier === undefined) return undefined;
  const hmac = read(carrier, 'x-trace-hmac', 'X-Trace-HMAC');
  const info = read(carrier, 'x-trace-info', 'X-Trace-Info');
  if (hmac === undefined && info === undefined) return undefined;
  if (hmac === undefined) return 'X-Trace-Info without X-Trace-HMAC';
  if (info === undefined) return 'X-Trace-HMAC without X-Trace-Info';
  if (Array.isArray(hmac) || Array.isArray(info)) return 'a trace header is repeated';
  if (typeof hmac !== 'string' || typeof info !== 'string') return 'a trace header is not text';
  if (hmac.length > maxHeaderBytes || info.length > maxHeaderBytes) return `a trace header is longer than ${maxHeaderBytes} characters`;
  if (hmacKeys.length === 0) return 'no HMAC keys are configured (hmacKeys / OSPROFILER_HMAC_KEYS)';
  const given = hmac.trim();
  if (!/^[0-9a-f]{40}$/.test(given)) return 'X-Trace-HMAC is not a 40-character lowercase hex HMAC-SHA1';
  const matched = hmacKeys.some((k) => typeof k === 'string' && k !== '' && createHmac('sha1', Buffer.from(k, 'utf8')).update(info, 'utf8').digest('hex') === given);
  if (!matched) return `X-Trace-HMAC does not match any of the ${hmacKeys.length} configured key(s)`;
  return 'X-Trace-Info is signed but does not hold a valid {base_id, parent_id}';
}

/**
 * The trace `carrier` continues (verified headers), a new sampled one, or undefined to stay
 * untraced. `who` labels the debug line written when headers were present but rejected.
 */
export function incomingTraceFor(
  who: string,
  carrier: Carrier | null | undefined,
  config: Readonly<ProfilerConfig> = getConfig(),
  sampler?: Sampler,
  maxHeaderBytes?: number,
): TraceOptions | undefined {
  const t = incomingTrace(carrier, config, sampler);
  if (t === undefined && debugEnabled()) {
    const why = rejectionReason(carrier, config.hmacKeys, maxHeaderBytes);
    if (why !== undefined) debug(`${who}: trace header rejected, served untraced: ${why}`);
  }
  return t;
}
