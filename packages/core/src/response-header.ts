import type { ProfilerConfig } from './config';
import type { Profiler } from './profiler';
import { currentTrace } from './runtime';

const SAFE_VALUE = /^[\x21-\x7e]{1,256}$/;

/** A response header to set: `name: value`. */
export interface ResponseHeader {
  readonly name: string;
  readonly value: string;
}

/**
 * For HTTP server adapters, when a traced request begins: the header that tells the caller
 * which trace its request made (`responseTraceHeader: <name>` and the base_id), or
 * undefined when that option is off (the default) or the request is not traced.
 * Python OSProfiler sends no such header; only the base_id goes out, never a key or signature.
 */
export function responseTraceHeader(
  config: Pick<ProfilerConfig, 'responseTraceHeader'>,
  profiler: Profiler | undefined = currentTrace(),
): ResponseHeader | undefined {
  const name = config.responseTraceHeader;
  if (name === null || name === undefined || profiler === undefined) return undefined;
  // A continued trace's base_id comes from the caller: sent back only when it is a safe header value.
  const value = profiler.baseId;
  return SAFE_VALUE.test(value) ? { name, value } : undefined;
}
