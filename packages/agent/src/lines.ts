/**
 * The raw body of a BATCH frame: the points exactly as the store will hold them, so the
 * agent forwards them to a text-storing driver without parsing or re-serialising.
 *
 *   record = <flags> <base_id> TAB <timestamp> TAB <line> LF
 *
 * `line` is Python's `json.dumps` of the notification (core's raw path), which is ASCII
 * and has no raw TAB or LF. flags is one digit '0'–'7', a bit set: 1 = the point is an
 * error point (`info.etype` not null; the error index needs it), 2 = base_id and 4 =
 * timestamp are percent-encoded (they held TAB, LF, '%' or non-ASCII; never for the
 * UUIDs and timestamps core writes). PROTOCOL.md describes it for other clients.
 */
import type { LineBatch } from '@osprofiler/core';

const FLAG_ERROR = 1;
const FLAG_BASE_ENCODED = 2;
const FLAG_TS_ENCODED = 4;
const DIGIT_0 = 0x30;
const TAB = 0x09;
const LF = 0x0a;

// Anything that would break the record or the latin1 decoding on the agent.
const NEEDS_ENCODING = /[\t\n%\u0080-\uffff]/;

/** One record (with its LF). */
export function lineRecord(baseId: string, timestamp: string, line: string, isError: boolean): string {
  let flags = isError ? FLAG_ERROR : 0;
  if (NEEDS_ENCODING.test(baseId)) {
    flags |= FLAG_BASE_ENCODED;
    baseId = encodeURIComponent(baseId);
  }
  if (NEEDS_ENCODING.test(timestamp)) {
    flags |= FLAG_TS_ENCODED;
    timestamp = encodeURIComponent(timestamp);
  }
  return String.fromCharCode(DIGIT_0 + flags) + baseId + '\t' + timestamp + '\t' + line + '\n';
}

/** Whether a body is in this format (a JSON-array body, the older format, starts with `[`). */
export function isLinesBody(body: Buffer): boolean {
  return body.length > 0 && body[0] >= DIGIT_0 && body[0] <= DIGIT_0 + 7 && body[body.length - 1] === LF;
}

/**
 * The points of a raw body, or undefined when it is not exactly `count` well-formed
 * records (the whole batch is then dropped and counted: its bytes cannot be trusted).
 */
export function decodeLines(body: Buffer, count: number): LineBatch | undefined {
  const baseIds: string[] = new Array<string>(count);
  const timestamps: string[] = new Array<string>(count);
  const lines: string[] = new Array<string>(count);
  let errors: Uint8Array | null = null;
  let pos = 0;
  let n = 0;
  try {
    while (pos < body.length) {
      if (n === count) return undefined;
      const flags = body[pos] - DIGIT_0;
      if (flags < 0 || flags > 7) return undefined;
      const tab1 = body.indexOf(TAB, pos + 1);
      const tab2 = tab1 < 0 ? -1 : body.indexOf(TAB, tab1 + 1);
      const lf = tab2 < 0 ? -1 : body.indexOf(LF, tab2 + 1);
      // A line is one JSON object: `{` … `}` with no TAB or LF inside.
      if (lf < 0 || body[tab2 + 1] !== 0x7b || body[lf - 1] !== 0x7d) return undefined;
      let baseId = body.toString('latin1', pos + 1, tab1);
      let timestamp = body.toString('latin1', tab1 + 1, tab2);
      if ((flags & FLAG_BASE_ENCODED) !== 0) baseId = decodeURIComponent(baseId);
      if ((flags & FLAG_TS_ENCODED) !== 0) timestamp = decodeURIComponent(timestamp);
      if (baseId === '') return undefined;
      baseIds[n] = baseId;
      timestamps[n] = timestamp;
      lines[n] = body.toString('latin1', tab2 + 1, lf);
      if ((flags & FLAG_ERROR) !== 0) (errors ??= new Uint8Array(count))[n] = 1;
      n++;
      pos = lf + 1;
    }
  } catch {
    return undefined; // a percent-encoding that does not decode
  }
  return n === count ? { baseIds, timestamps, lines, errors } : undefined;
}
