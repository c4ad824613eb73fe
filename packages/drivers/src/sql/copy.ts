/**
 * PostgreSQL's COPY text format for a batch of points.
 *
 * Counted under callgrind (all threads, 1,000 rows of tools/bench/drivers.cjs' points, half
 * with a quoted SQL statement): a regex test per field, a callback per escaped backslash
 * 14.0k instructions a row; fields checked with `indexOf` (memchr) and escaped with
 * `replaceAll` 11.1k; the same text written field by field into one Buffer (7 `write`
 * calls a row) 18.5k; no escaping at all 3.7k.
 *
 * Lines that come as bytes (LineBatch.buffers, the collector's) stay text here: writing the
 * COPY payload from the bytes was tried (issue 17) and cost more. Callgrind, 360 batches of
 * 1,000 tools/bench rows (312-byte lines, 1 in 10 with backslashes): this text path and its
 * one Buffer.from 7.4k instructions a row (+1.1k for the batch's latin1 string of the line),
 * bytes 11.2k with the checks per run of consecutive lines (isAscii, indexOf) and one
 * `write` of the short fields a row, 17.6k with a JS loop over each line's bytes (~25
 * instructions a byte). Each Buffer call costs ~0.3-1.3k (`write` ~1k, `subarray` + `set`
 * ~1.3k, `set` of a whole view ~0.3k); rope concatenation and one UTF-8 encode cost less.
 */
import type { PointRow } from './rows';

const CONTROL = /[\n\r\t]/g;
const CONTROL_ONE = /[\n\r\t]/;

/** Backslash, newline, carriage return and tab escaped as COPY reads them. */
export function copyEscape(v: string): string {
  const s = v.includes('\\') ? v.replaceAll('\\', '\\\\') : v;
  return CONTROL_ONE.test(s) ? s.replace(CONTROL, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t')) : s;
}

/** A field as COPY reads it: NULL is \N; rewritten only when it holds something to escape. */
function field(v: string | null): string {
  if (v === null) return '\\N';
  return v.indexOf('\\') === -1 && v.indexOf('\n') === -1 && v.indexOf('\r') === -1 && v.indexOf('\t') === -1 ? v : copyEscape(v);
}

/** The rows as COPY text, columns in the order of `COPY_COLUMNS`. */
export function copyText(rows: readonly PointRow[]): string {
  let out = '';
  for (const r of rows) {
    out +=
      field(r.baseId) + '\t' + field(r.traceId) + '\t' + field(r.name) + '\t' + r.ts + '\t' +
      field(r.event) + '\t' + field(r.project) + '\t' + field(r.service) + '\n';
  }
  return out;
}

export const COPY_COLUMNS = 'base_id, trace_id, name, ts, event, project, service';
