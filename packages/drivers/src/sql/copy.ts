/**
 * PostgreSQL's COPY text format for a batch of points.
 *
 * Counted under callgrind (all threads, 1,000 rows of tools/bench/drivers.cjs' points, half
 * with a quoted SQL statement): a regex test per field, a callback per escaped backslash
 * 14.0k instructions a row; fields checked with `indexOf` (memchr) and escaped with
 * `replaceAll` 11.1k; the same text written field by field into one Buffer (7 `write`
 * calls a row) 18.5k; no escaping at all 3.7k.
 */
import { eventText, type PointRow } from './rows';

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

/** The rows as COPY text, columns in the order of `COPY_COLUMNS` (rows of text lines: see copyBytes for lines as bytes). */
export function copyText(rows: readonly PointRow[]): string {
  let out = '';
  for (const r of rows) {
    out +=
      field(r.baseId) + '\t' + field(r.traceId) + '\t' + field(r.name) + '\t' + r.ts + '\t' +
      field(eventText(r.event)) + '\t' + field(r.project) + '\t' + field(r.service) + '\n';
  }
  return out;
}

export const COPY_COLUMNS = 'base_id, trace_id, name, ts, event, project, service';

// COPY bytes of rows whose event is the line's bytes: written straight into one Buffer, the
// line copied in runs between the bytes COPY needs escaped, the short fields by a char loop
// (a `write` binding call per field cost more, above). No string per line, no re-encoding.

/** 1 for the bytes a line's copy must rewrite: backslash, \n, \r, \t, and >= 0x80. */
const SPECIAL = new Uint8Array(256);
for (const c of [0x5c, 0x0a, 0x0d, 0x09]) SPECIAL[c] = 1;
SPECIAL.fill(1, 0x80);

// The Buffer being written and the next offset (module state: no object per row).
let out: Buffer = Buffer.alloc(0);
let off = 0;

function ensure(n: number): void {
  if (off + n <= out.length) return;
  const grown = Buffer.allocUnsafe(Math.max(out.length * 2, off + n));
  out.copy(grown, 0, 0, off);
  out = grown;
}

/**
 * A line's bytes as COPY reads them, identical to today's text path: that path read the
 * bytes as latin1 and encoded the text as UTF-8, so a byte >= 0x80 becomes two bytes.
 */
function putBytes(src: Buffer): void {
  const end = src.length;
  ensure(2 * end);
  let run = 0;
  for (let j = 0; j < end; j++) {
    const b = src[j];
    if (SPECIAL[b] === 0) continue;
    if (j > run) {
      out.set(src.subarray(run, j), off);
      off += j - run;
    }
    if (b >= 0x80) {
      out[off++] = 0xc0 | (b >> 6);
      out[off++] = 0x80 | (b & 0x3f);
    } else {
      out[off++] = 0x5c;
      out[off++] = b === 0x5c ? 0x5c : b === 0x0a ? 0x6e : b === 0x0d ? 0x72 : 0x74;
    }
    run = j + 1;
  }
  if (run === 0) out.set(src, off);
  else if (end > run) out.set(src.subarray(run, end), off);
  off += end - run;
}

/** A field as COPY reads it, as UTF-8: ASCII by a char loop; a string with anything else escaped as text and encoded. */
function putText(v: string | null): void {
  if (v === null) {
    ensure(2);
    out[off++] = 0x5c;
    out[off++] = 0x4e; // \N
    return;
  }
  const n = v.length;
  ensure(n);
  const at = off;
  for (let j = 0; j < n; j++) {
    const c = v.charCodeAt(j);
    if (c >= 0x80 || SPECIAL[c] === 1) {
      off = at;
      const s = copyEscape(v);
      ensure(3 * s.length);
      off += out.write(s, off, 'utf8');
      return;
    }
    out[off++] = c;
  }
}

function putByte(c: number): void {
  ensure(1);
  out[off++] = c;
}

/** The rows as COPY bytes, columns in the order of `COPY_COLUMNS`; byte-identical to `Buffer.from(copyText(rows))`. */
export function copyBytes(rows: readonly PointRow[]): Buffer {
  // Sized for the lines and 200 bytes of other fields a row; grown when a row needs more.
  let size = 0;
  for (const r of rows) size += r.event.length + 200;
  out = Buffer.allocUnsafe(size);
  off = 0;
  for (const r of rows) {
    putText(r.baseId);
    putByte(0x09);
    putText(r.traceId);
    putByte(0x09);
    putText(r.name);
    putByte(0x09);
    putText(r.ts);
    putByte(0x09);
    if (typeof r.event === 'string') putText(r.event);
    else putBytes(r.event);
    putByte(0x09);
    putText(r.project);
    putByte(0x09);
    putText(r.service);
    putByte(0x0a);
  }
  const done = out.subarray(0, off);
  out = Buffer.alloc(0); // the next batch's rows do not keep this one alive
  return done;
}
