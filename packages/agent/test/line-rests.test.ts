// The last lines' rests (INFO and the tail) kept and compared as bytes when the decode hands
// core's eventAfterHead the body's bytes (src/lines.ts events): a rest that differs from a
// kept one in any single byte, at any place of its 8-byte chunks or in the last, overlapping
// one, must not be taken for it; bytes past ASCII (8 of 0xff read as a NaN) and rests kept
// by a text-only caller (core's eventOfLine) in between give the parse's index too.
import { describe, expect, it } from 'vitest';
import { LINE_HEAD, eventAfterHead, parseStoredEvent, searchIndex } from '@osprofiler/core/instrument';
import { DecodedLines, encodeLineBatch } from '../src/lines';
import { FrameReader } from '../src/protocol';

function decode(lines: readonly string[], windowBytes?: number): DecodedLines {
  const { frame, count } = encodeLineBatch(Buffer.alloc(16, 7), 1, [{ text: lines.join('\n'), count: lines.length, errors: null }]);
  const [f] = new FrameReader(1 << 24).push(frame);
  const d = new DecodedLines(windowBytes);
  expect(d.append(f.payload.subarray(24), count)).toBe(true);
  return d;
}

/** What the index reads of a line (eventOfLine's fields) as the parse gives them. */
const fields = (e: Record<string, unknown> | undefined) => (e === undefined ? e : { name: e.name, parent_id: e.parent_id, info: e.info, project: e.project, service: e.service });

/** A text-only caller of eventAfterHead (no bytes: its rests kept as texts), as core's eventOfLine calls it. */
function eventOfLine(l: string): Record<string, unknown> | undefined {
  LINE_HEAD.lastIndex = 0;
  const m = LINE_HEAD.exec(l);
  return m === null ? undefined : (eventAfterHead(l, l.length, m[1], m[4], m[0].length) as unknown as Record<string, unknown> | undefined);
}

const parsed = (lines: readonly string[]) => searchIndex.indexOfEvents(lines.map((l) => parseStoredEvent(l)));

function expectAsParsed(lines: readonly string[]): void {
  for (const w of [undefined, 400]) expect(decode(lines, w).index).toEqual(parsed(lines));
}

const line = (i: number, rest: string): string =>
  `{"name": "f-${i % 2 ? 'stop' : 'start'}", "base_id": "b${i >> 2}", "trace_id": "t${i}", "parent_id": "b${i >> 2}", "timestamp": "2026-12-06T06:00:00.${String(i).padStart(6, '0')}", "info": ${rest}`;

const REST = '{"function": {"name": "f"}, "host": "h1"}, "project": "p", "service": "svc"}';

describe("the rests compared as bytes", () => {
  it('tells a rest from a kept one that differs in any one byte', () => {
    // Each variant: one character of a value changed (same length), after the original.
    const lines: string[] = [];
    let i = 0;
    for (let k = 0; k < REST.length; k++) {
      const c = REST[k];
      if (!/[a-z0-9]/.test(c)) continue;
      const v = REST.slice(0, k) + (c === 'z' ? 'y' : c === '9' ? '8' : String.fromCharCode(c.charCodeAt(0) + 1)) + REST.slice(k + 1);
      lines.push(line(i++, REST), line(i++, v), line(i++, v), line(i++, REST));
    }
    expectAsParsed(lines);
  });

  it('is the parse for rests of every length around the 8-byte chunks', () => {
    const lines: string[] = [];
    let i = 0;
    for (let n = 0; n < 20; n++) {
      const a = `{"host": "${'h'.repeat(n)}"}, "project": null, "service": "s"}`;
      const b = `{"host": "${'h'.repeat(Math.max(0, n - 1))}x"}, "project": null, "service": "s"}`;
      lines.push(line(i++, a), line(i++, b), line(i++, a), line(i++, `{"host": "${'h'.repeat(n)}"}, "project": null, "service": "t"}`), line(i++, b));
    }
    expectAsParsed(lines);
  });

  it('is the parse with bytes past ASCII (NaN chunks) and with a text-only caller in between', () => {
    const odd = ['{"host": "\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff"}, "project": "p", "service": "s"}', '{"host": "\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00fe\u00ff"}, "project": "p", "service": "s"}', REST];
    const lines: string[] = [];
    for (let i = 0; i < 30; i++) lines.push(line(i, odd[i % odd.length]), line(i + 1, odd[(i * 7) % odd.length]));
    expectAsParsed(lines);
    // core's text-only reader keeps its own slots (texts); the decode then still reads as the parse.
    for (const l of lines) expect(fields(eventOfLine(l))).toEqual(fields(parseStoredEvent(l)));
    expectAsParsed(lines.slice().reverse());
    for (const l of lines.slice(0, 9)) expect(fields(eventOfLine(l))).toEqual(fields(parseStoredEvent(l)));
  });

  it('is the parse with 5 to 40 rests of one length cycling, fewer and more than it keeps', () => {
    // 5 to 40 functions (f10 … f49: one length), started and stopped in turn, as traces of
    // nested calls name them: rests kept and moved up on a hit, or (past the slots) evicted
    // and read again.
    for (const k of [5, 8, 15, 16, 17, 40]) {
      const rests = Array.from({ length: k }, (_, j) => `{"function": {"name": "f${10 + j}"}, "host": "h1"}, "project": "p", "service": "svc"}`);
      const lines: string[] = [];
      let i = 0;
      for (let round = 0; round < 3; round++) for (const r of rests) lines.push(line(i++, r), line(i++, REST));
      expectAsParsed(lines);
    }
  });
});
