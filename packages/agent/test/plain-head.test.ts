// The head read without the RegExp (src/lines.ts plainHead: keys where the fields end, the
// fields' bytes checked four at a time through an Int32Array of the body's memory) against
// core's LINE_HEAD_TEST, the check it saves: every head plainHead takes is one the RegExp
// matches, ending at the same place, at every byte alignment of the text in its memory and
// with each byte the check looks at (control characters, the quote, space, `!`, the
// backslash, DEL, bytes past ASCII) at every place of every field; then the decode of such
// lines against core's parse.
import { describe, expect, it } from 'vitest';
import { LINE_HEAD, LINE_HEAD_TEST, linesOfNotifications } from '@osprofiler/core/instrument';
import { plainHead } from '../src/lines';
import { decode, expectAsParsed, line } from './support/decode-lines';
import { mutate, notifications, rng } from '../../../tools/testing/random-lines';

/** plainHead of the line at `pos` of `text`, the text placed at byte `pad` of fresh memory; -1 when it leaves the head to the RegExp. */
function plain(text: string, pos: number, pad: number): number {
  if (text.length - pos < 12) return -1; // the decode refuses such a line before its head is read
  const memory = new ArrayBuffer(pad + text.length + 8);
  const bytes = new Uint8Array(memory);
  bytes.fill(0x01); // control characters around the text: a mask that let one in would show
  Buffer.from(memory, pad, text.length).write(text, 'latin1');
  const dv = new DataView(memory, pad, text.length);
  const slash = text.indexOf('\\', pos);
  return plainHead(dv, new Int32Array(memory, 0, memory.byteLength >> 2), pad, text, 0, pos, text.length, slash < 0 ? text.length : slash);
}

/** The RegExp's verdict: where the head ends, or -1. */
function regexp(text: string, pos: number): number {
  LINE_HEAD_TEST.lastIndex = pos;
  return LINE_HEAD_TEST.test(text) ? LINE_HEAD_TEST.lastIndex : -1;
}

/** plainHead at every alignment takes only heads the RegExp matches, ending where it does; returns how many it took. */
function expectSubsetOfRegExp(text: string, pos = 0): number {
  const r = regexp(text, pos);
  let taken = 0;
  for (let pad = 0; pad < 8; pad++) {
    const p = plain(text, pos, pad);
    if (p < 0) continue;
    taken++;
    expect([text, pad, p]).toEqual([text, pad, r]);
  }
  return taken;
}

const FIELDS = ['name', 'base', 'trace', 'parent', 'ts'] as const;
/** Bytes at and around the edges of what plainBytes takes (0x23 and up, but the backslash). */
const PROBES = [0x00, 0x01, 0x0a, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x5b, 0x5c, 0x5d, 0x7e, 0x7f, 0x80, 0xa0, 0xff];

describe('the head read without the RegExp', () => {
  it("takes core's lines, at every alignment, where the RegExp ends them", () => {
    const { lines } = linesOfNotifications(notifications(400, rng(21)));
    const fieldsOf = (l: string) => {
      LINE_HEAD.lastIndex = 0;
      const m = LINE_HEAD.exec(l);
      return m === null ? ' ' : m.slice(1).join('') + /"timestamp": "([^"]*)", "info": $/.exec(m[0])![1];
    };
    // Heads the RegExp takes whose fields hold no space or `!` (core's lines mostly).
    const plainLines = lines.filter((l) => !/[ !]/.test(fieldsOf(l)));
    expect(plainLines.length).toBeGreaterThan(100);
    // Twice each (the field lengths guessed from the line before: right, then wrong).
    for (const l of [...plainLines, ...plainLines.slice().reverse()]) expect([l, expectSubsetOfRegExp(l)]).toEqual([l, 8]);
    // Several lines in one text, each at its place.
    const text = plainLines.slice(0, 50).join('\n');
    let pos = 0;
    for (const l of plainLines.slice(0, 50)) {
      expect(expectSubsetOfRegExp(text, pos)).toBe(8);
      pos += l.length + 1;
    }
  });

  it('leaves a head to the RegExp when any byte of a field is one it does not take, at every place', () => {
    const lengths = { name: 'db-start', base: 'b'.repeat(36), trace: 't'.repeat(13), parent: 'p'.repeat(7), ts: '2026-12-05T06:00:00.000001' };
    for (const f of FIELDS) {
      const v = lengths[f];
      for (let i = 0; i < v.length; i++) {
        for (const c of PROBES) {
          const l = line({ ...lengths, [f]: v.slice(0, i) + String.fromCharCode(c) + v.slice(i + 1) });
          const ok = c >= 0x23 && c !== 0x5c;
          // Right after a line of the same lengths (guessed right) and after one of others.
          expectSubsetOfRegExp(line(lengths));
          expect([l, expectSubsetOfRegExp(l)]).toEqual([l, ok ? 8 : 0]);
          expectSubsetOfRegExp(line({ name: 'x' }));
          expect([l, expectSubsetOfRegExp(l)]).toEqual([l, ok ? 8 : 0]);
        }
      }
    }
  });

  it('is the RegExp at the edges of the layout', () => {
    const odd = [
      line({ name: '' }),
      line({ base: '' }), // an empty base_id: left to the RegExp (and refused there)
      line({ trace: '', parent: '', ts: '' }),
      line({ name: 'a", "base_id": "x' }), // a key inside a field
      line({ base: 'b", "trace_id": "t' }),
      line({ ts: '1", "info": 2' }),
      line({ name: 'a\\"b' }),
      line({ name: 'fn stop' }),
      line({ info: '{"a": "\\\\"}' }), // a backslash after the head only
      '{"name": "x", "base_id": "b", "trace_id": "t", "parent_id": "p", "timestamp": "1", "info":{}}',
      '{"name": "x", "base_id": "b", "trace_id": "t", "parent_id": "p", "timestamp": "1", "info": ',
      '{"name": "x", "base_id": "b", "trace_id": "t", "parent_id": "p", "timestamp": "1"',
      '{"name": "x", "base_id": "b", "trace_id": "t", "parent_id": "p", "timestamp": "1", "info',
      '{"name": "x", "base_id": "b", "parent_id": "p", "trace_id": "t", "timestamp": "1", "info": {}}',
      '{"name":  "x", "base_id": "b", "trace_id": "t", "parent_id": "p", "timestamp": "1", "info": {}}',
      '{"name": "x", "base_id": "b", "trace_id": "t", "parent_id": "p", "timestamp": "1",  "info": {}}',
    ];
    for (const l of odd) expectSubsetOfRegExp(l);
    expect(expectSubsetOfRegExp(line({ name: '' }))).toBe(8);
    expect(expectSubsetOfRegExp(line({ base: '' }))).toBe(0);
    expect(expectSubsetOfRegExp(line({ trace: '', parent: '', ts: '' }))).toBe(8);
  });

  it('takes a subset of what the RegExp takes for lines mutated at random, and the decode of them is the parse', () => {
    const r = rng(22);
    const { lines } = linesOfNotifications(notifications(2000, r));
    let taken = 0;
    const kept: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      let l = lines[i];
      const k = Math.floor(r() * 3);
      for (let j = 0; j < k; j++) l = mutate(l, r);
      // A byte changed in the head too (mutate's edits land anywhere in the line).
      const at = Math.floor(r() * Math.min(l.length, 230));
      if (r() < 0.5) l = l.slice(0, at) + String.fromCharCode(PROBES[Math.floor(r() * PROBES.length)]) + l.slice(at + 1);
      taken += expectSubsetOfRegExp(l) > 0 ? 1 : 0;
      if (!l.includes('\n') && decode([l]) !== undefined) kept.push(l);
    }
    expect(taken).toBeGreaterThan(300);
    for (let i = 0; i + 3 <= kept.length; i += 3) expectAsParsed(kept.slice(i, i + 3));
  });

  it('is the parse when field lengths change from line to line (the guesses wrong by any amount)', () => {
    const r = rng(23);
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const n = () => Math.floor(r() * 50);
      const q = r() < 0.1 ? '"' : 'q'; // now and then a quote inside, at a length another line had
      lines.push(line({ name: 'n'.repeat(n()) + q + 'n'.repeat(n()), base: 'b'.repeat(1 + n()), trace: 'x", "parent_id": "'.repeat(1 + (i % 2)).slice(0, n()), parent: 'p'.repeat(n()), ts: '2026-12-05T06:00:00.000001'.slice(0, n()) }));
    }
    for (const l of lines) expectSubsetOfRegExp(l);
    expectAsParsed(lines);
  });
});
