// Lines through a BATCH frame and the agent's decode, and lines laid out field by field: shared by
// the decode's tests (line-heads, line-fields, plain-head).
import { expect } from 'vitest';
import { parseStoredEvent, searchIndex, timeKey } from '@osprofiler/core/instrument';
import { DecodedLines, encodeLineBatch } from '../../src/lines';
import { FrameReader } from '../../src/protocol';

/** `lines` framed as one batch ('I' with the parse's index when `indexed`, else 'L') and decoded, in windows of `windowBytes`; undefined when refused. */
export function decode(lines: readonly string[], indexed = false, windowBytes?: number): DecodedLines | undefined {
  const index = indexed ? searchIndex.indexOfEvents(lines.map((l) => parseStoredEvent(l))) : undefined;
  const { frame, count } = encodeLineBatch(Buffer.alloc(16, 7), 1, [{ text: lines.join('\n'), count: lines.length, errors: null, index }], indexed);
  const [f] = new FrameReader(1 << 24).push(frame);
  expect(f.payload[24]).toBe(indexed ? 0x49 : 0x4c);
  const d = new DecodedLines(windowBytes);
  return d.append(f.payload.subarray(24), count) ? d : undefined;
}

/** A line in the wire's key order, each field's text as given (escapes and all). */
export const line = (f: Partial<Record<'name' | 'base' | 'trace' | 'parent' | 'ts' | 'info' | 'tail', string>>): string =>
  `{"name": "${f.name ?? 'db-start'}", "base_id": "${f.base ?? 'b'}", "trace_id": "${f.trace ?? 't'}", "parent_id": "${f.parent ?? 'b'}", "timestamp": "${f.ts ?? '2026-12-05T06:00:00.000001'}", "info": ${f.info ?? '{"db": {"statement": "S"}, "host": "h"}'}${f.tail ?? ', "project": "p", "service": "s"}'}`;

const parsed = (lines: readonly string[]) => searchIndex.indexOfEvents(lines.map((l) => parseStoredEvent(l)));

/** Decoded as one body (and in small windows): the parse's index, and base_ids/timestamps as the parse reads them. */
export function expectAsParsed(lines: readonly string[]): void {
  for (const w of [undefined, 300]) {
    const d = decode(lines, false, w);
    expect(d).toBeDefined();
    expect(d!.index).toEqual(parsed(lines));
    expect(d!.lines).toEqual(lines);
    lines.forEach((l, i) => {
      const e = parseStoredEvent(l);
      if (e !== undefined && typeof e.base_id === 'string') expect([l, d!.baseIds[i]]).toEqual([l, e.base_id]);
      if (e !== undefined && typeof e.timestamp === 'string' && !l.slice(0, l.indexOf('"info"')).includes('\\')) expect([l, d!.timestamps[i]]).toEqual([l, e.timestamp]);
    });
    // Timestamp keys (time-keys.test.ts): each core's timeKey of the timestamp, or none for
    // the body when one has none.
    const keys = d!.timeKeys;
    if (keys !== undefined) lines.forEach((l, i) => expect([l, keys[i]]).toEqual([l, timeKey(d!.timestamps[i])]));
    else expect(d!.timestamps.some((t) => Number.isNaN(timeKey(t)))).toBe(true);
  }
}
