/** Python OSProfiler's Redis key layout (wire spec §4). */

/** One list per trace, LPUSHed, newest first. */
export const NAMESPACE_OPT = 'osprofiler_opt:';
/** `{"base_id", "timestamp"}` of a trace's latest error (only with filter_error_trace). */
export const NAMESPACE_ERROR = 'osprofiler_error:';
/** Legacy (before 2.8.0): one event per key, `osprofiler:<base_id>_<trace_id>_<timestamp>`. Read only. */
export const NAMESPACE_LEGACY = 'osprofiler:';

/** Escapes Redis glob characters, so a base id is matched literally by SCAN MATCH. */
export function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
