// A big body's text is decoded in windows cut after a LF (src/lines.ts, `DecodedLines`):
// the result — every line, its base_id, timestamp, bytes and place in the body, error
// points, the carried index, what is refused — is exactly the one-string decode's. The
// decoder's window is a constructor argument: small windows put edges everywhere in small
// bodies, Infinity is the one-string reference.
import { describe, expect, it } from 'vitest';
import { linesOfNotifications, type LineBatch } from '@osprofiler/core/instrument';
import { DecodedLines, encodeLineBatch, notificationText } from '../src/lines';
import { BATCH_BODY_OFFSET } from '../src/protocol';
import { windowEnd } from '../src/layout';
import { mutate, notifications, rng } from '../../../tools/testing/random-lines';

const ONE_STRING = Infinity;

/** Everything a decode leaves (and what the agent and collector derive from it). */
function view(d: DecodedLines, ok: boolean[]) {
  return {
    ok,
    count: d.count,
    baseIds: d.baseIds.slice(),
    timestamps: d.timestamps.slice(),
    timeKeys: d.timeKeys === undefined ? undefined : [...d.timeKeys],
    places: d.buffers.map((b) => [b.byteOffset, b.length]),
    lines: d.lines.slice(),
    errors: d.errors === null ? null : [...d.errors],
    index: d.index,
    badIndexes: d.badIndexes,
  };
}

function decodeAll(bodies: readonly { body: Buffer; count: number }[], windowBytes: number): { d: DecodedLines; v: ReturnType<typeof view> } {
  const d = new DecodedLines(windowBytes);
  const ok = bodies.map((b) => d.append(b.body, b.count));
  return { d, v: view(d, ok) };
}

/** The latin1 strings the decoder made (one per window). */
function texts(d: DecodedLines): string[] {
  return (d as unknown as { texts: { text: string }[] }).texts.map((t) => t.text);
}

/** A raw multi-byte UTF-8 character (bytes > 0x7f) put in a line at `at`: no ensure_ascii client sends one, the decode must still cut around it. */
const WIDE = ['é', '😀', '中', '\u00a0'].map((c) => Buffer.from(c, 'utf8'));

/** An 'L' body of `lines` (Buffers, each without LF), errors up front. */
function lBody(lines: readonly Buffer[], errors: readonly number[]): Buffer {
  const head = Buffer.alloc(5 + 4 * errors.length);
  head[0] = 0x4c;
  head.writeUInt32BE(errors.length, 1);
  errors.forEach((e, k) => head.writeUInt32BE(e, 5 + 4 * k));
  const parts: Buffer[] = [head];
  for (const l of lines) parts.push(l, Buffer.from('\n'));
  return Buffer.concat(parts);
}

/** Lines of random notifications: some mutated, some with raw UTF-8, grouped in traces (same base_id) now and then. */
function randomLines(r: () => number, n: number, mutateShare: number, wideShare = 0.3, lfShare = 0.005, wideAnywhere = 0.2): Buffer[] {
  const ns = notifications(n, r);
  for (let i = 1; i < ns.length; i++) if (r() < 0.4) ns[i] = { ...ns[i], base_id: ns[i - 1].base_id };
  return ns.map((x) => {
    let s = notificationText(x);
    if (r() < mutateShare) s = mutate(s, r);
    let b = Buffer.from(s, 'latin1');
    if (r() < wideShare) {
      // Mostly just before the line's closing brace (in a value the decoder does not read), sometimes anywhere.
      const at = r() >= wideAnywhere ? b.length - 1 : Math.floor(r() * (b.length + 1));
      b = Buffer.concat([b.subarray(0, at), WIDE[Math.floor(r() * WIDE.length)], b.subarray(at)]);
    }
    if (r() < lfShare) {
      const at = Math.floor(r() * b.length);
      b = Buffer.concat([b.subarray(0, at), Buffer.from('\n'), b.subarray(at)]); // an extra line: count mismatch
    }
    return b;
  });
}

/** An 'I' body (the client's index carried) of `b`'s lines, its text bytes then edited at random when `edit`. */
function iBody(b: LineBatch, r: () => number, edit: boolean): Buffer {
  const errors: number[] = [];
  for (let i = 0; i < b.lines.length; i++) if (b.errors?.[i] === 1) errors.push(i);
  const { frame } = encodeLineBatch(Buffer.alloc(16), 1, [{ text: b.lines.join('\n') + '\n', count: b.lines.length, errors: errors.length ? errors : null, index: b.index, from: 0 }], true);
  const body = Buffer.from(frame.subarray(BATCH_BODY_OFFSET));
  if (edit) {
    const n = 1 + Math.floor(r() * 3);
    for (let k = 0; k < n; k++) body[body.length - 2 - Math.floor(r() * Math.min(body.length - 2, 4000))] = r() < 0.5 ? 0xc3 : '"\\{},'.charCodeAt(Math.floor(r() * 5));
  }
  return body;
}

/** A window size: tiny (each line longer than the window), around a line's length, or several lines. */
function windowOf(r: () => number): number {
  const k = r();
  return k < 0.1 ? 1 + Math.floor(r() * 40) : k < 0.6 ? 100 + Math.floor(r() * 600) : 600 + Math.floor(r() * 4000);
}

describe('windowed decode', () => {
  it('equals the one-string decode on thousands of random and mutated L bodies, edges anywhere', () => {
    const r = rng(1405);
    let bodiesSeen = 0;
    let windowsMade = 0;
    let refused = 0;
    for (let round = 0; round < 400; round++) {
      const bodies: { body: Buffer; count: number }[] = [];
      for (let j = 0, m = 1 + Math.floor(r() * 5); j < m; j++) {
        const lines = randomLines(r, 1 + Math.floor(r() * 30), r() < 0.5 ? 0 : 0.1);
        const errors = lines.map((_, i) => i).filter(() => r() < 0.1);
        // The count: the lines' own mostly, now and then one off.
        const count = lines.length + (r() < 0.05 ? (r() < 0.5 ? 1 : -1) : 0);
        bodies.push({ body: lBody(lines, errors), count });
      }
      const ref = decodeAll(bodies, ONE_STRING);
      for (let k = 0; k < 4; k++) {
        const win = decodeAll(bodies, windowOf(r));
        expect(win.v).toEqual(ref.v);
        windowsMade += texts(win.d).length;
      }
      bodiesSeen += bodies.length;
      refused += ref.v.ok.filter((x) => !x).length;
    }
    // The run covered what it is meant to: many bodies, many windows, bodies refused and taken.
    expect(bodiesSeen).toBeGreaterThan(1000);
    expect(windowsMade).toBeGreaterThan(bodiesSeen * 4 * 3);
    expect(refused).toBeGreaterThan(50);
    expect(refused).toBeLessThan(bodiesSeen - 300);
  });

  it('puts raw multi-byte UTF-8 right at window edges (last bytes before the LF, first of the next line)', () => {
    const r = rng(17);
    for (let round = 0; round < 300; round++) {
      const ns = notifications(20, r);
      const lines = ns.map((x) => {
        const s = Buffer.from(notificationText(x), 'latin1');
        const w = WIDE[Math.floor(r() * WIDE.length)];
        // Inside the info (before the closing braces) or just after the opening one.
        return r() < 0.5 ? Buffer.concat([s.subarray(0, s.length - 2), w, s.subarray(s.length - 2)]) : Buffer.concat([s.subarray(0, 1), w, s.subarray(1)]);
      });
      const body = lBody(lines, [0]);
      const ref = decodeAll([{ body, count: lines.length }], ONE_STRING);
      // Windows ending exactly at a line's LF, one byte before or after it.
      let at = 5 + 4;
      const cut = Math.floor(r() * lines.length);
      for (let i = 0; i < cut; i++) at += lines[i].length + 1;
      for (const win of [at - 9, at - 8, at - 10, lines[0].length, lines[0].length + 1, lines[0].length - 1]) {
        if (win < 1) continue;
        expect(decodeAll([{ body, count: lines.length }], win).v).toEqual(ref.v);
      }
    }
  });

  it('equals it on I bodies (the carried index kept, or dropped when bad) with edited texts', () => {
    const r = rng(99);
    let indexed = 0;
    for (let round = 0; round < 300; round++) {
      const b = linesOfNotifications(notifications(1 + Math.floor(r() * 40), r), notificationText);
      const body = iBody(b, r, r() < 0.5);
      const bodies = [{ body, count: b.lines.length }];
      if (r() < 0.3) bodies.push({ body: iBody(b, r, false), count: b.lines.length });
      const ref = decodeAll(bodies, ONE_STRING);
      if (ref.v.ok.every((x) => x) && ref.v.index !== undefined) indexed++;
      for (let k = 0; k < 3; k++) expect(decodeAll(bodies, windowOf(r)).v).toEqual(ref.v);
    }
    expect(indexed).toBeGreaterThan(100);
  });

  it('reads big bodies (600 KiB, 1 MiB) in strings under 128 KiB with the default window, same result', () => {
    const r = rng(3);
    for (const target of [600 * 1024, 1024 * 1024]) {
      const lines: Buffer[] = [];
      let bytes = 0;
      while (bytes < target) {
        const ls = randomLines(r, 200, 0, 0.3, 0, 0);
        for (const l of ls) lines.push(l);
        bytes += ls.reduce((a, l) => a + l.length + 1, 0);
      }
      const good = { body: lBody(lines, [1, 7]), count: lines.length };
      // One bad line past the first window: the whole body is refused and nothing kept.
      const badLines = lines.slice();
      badLines[Math.floor(lines.length * 0.7)] = Buffer.from('{"name": "x"}');
      const bad = { body: lBody(badLines, []), count: lines.length };
      const bodies = [good, bad, good];
      const ref = decodeAll(bodies, ONE_STRING);
      expect(ref.v.ok).toEqual([true, false, true]);
      const win = decodeAll(bodies, new DecodedLines()['windowBytes']);
      expect(win.v).toEqual(ref.v);
      const t = texts(win.d);
      expect(t.length).toBeGreaterThan((2 * target) / (128 * 1024));
      for (const s of t) expect(s.length).toBeLessThan(128 * 1024 - 64);
      expect(texts(ref.d).length).toBe(2);
    }
  });

  it('keeps a body up to the window as one string (the path small bodies took before)', () => {
    const r = rng(5);
    const lines = randomLines(r, 300, 0, 0.3, 0, 0);
    const body = lBody(lines, []);
    const d = new DecodedLines();
    expect(d.append(body, lines.length)).toBe(true);
    expect(texts(d)).toEqual([body.toString('latin1', 5)]);
  });

  it('cuts windows after a LF, takes a longer line whole, and a tail without LF as one window', () => {
    const b = Buffer.from('aaaa\nbbbbbbbbbbbb\ncc', 'latin1');
    expect(windowEnd(b, 0, b.length, 8)).toBe(5); // after the first LF
    expect(windowEnd(b, 5, b.length, 8)).toBe(18); // a line longer than the window, whole
    expect(windowEnd(b, 18, b.length, 2)).toBe(b.length); // the tail reaches the end
    const noLf = Buffer.from('x'.repeat(40), 'latin1');
    expect(windowEnd(noLf, 0, noLf.length, 8)).toBe(noLf.length);
    // A body without its last LF is refused, not looped over.
    const d = new DecodedLines(8);
    expect(d.append(Buffer.concat([Buffer.from([0x4c, 0, 0, 0, 0]), noLf]), 1)).toBe(false);
  });
});
