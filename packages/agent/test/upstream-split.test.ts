// The upstream split of 'L' bodies by their lines' places (src/upstream/split.ts) makes the
// same parts as the split by decoding, byte for byte, and answers only for bodies the
// decoder takes; for anything else it steps aside (null) and the decoder decides.
import { describe, expect, it } from 'vitest';
import type { Notification } from '@osprofiler/core';
import { linesOfNotifications } from '@osprofiler/core/instrument';
import { encodeLineBatch, notificationText } from '../src/lines';
import { BATCH_BODY_OFFSET } from '../src/protocol';
import { splitBatch, splitByDecoding } from '../src/upstream/publisher';
import { splitLineRuns } from '../src/upstream/split';

const O = { subjectPrefix: 'osp', partitions: 5, agentId: 'node-1' };

/** A seeded PRNG, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

function lines(r: () => number, traces: number): string[] {
  const ns: Notification[] = [];
  for (let t = 0; t < traces; t++) {
    const base = `b${Math.floor(r() * 1e9).toString(36)}-${t}`;
    const project = r() < 0.3 ? null : r() < 0.5 ? 'shop' : 'a.b é';
    const points = 1 + Math.floor(r() * 6);
    for (let i = 0; i < points; i++) {
      const info: Notification['info'] & Record<string, unknown> = { host: 'h', n: i };
      if (r() < 0.2) info.db = { statement: 'SELECT "x" FROM t WHERE a = \'\\n\'' };
      ns.push({ name: `p-${i % 2 ? 'stop' : 'start'}`, base_id: base, trace_id: `t-${t}-${i}`, parent_id: base, timestamp: `2026-12-04T12:00:00.${String(i).padStart(6, '0')}`, info, project: r() < 0.1 ? 'other' : project, service: 's' });
    }
  }
  return linesOfNotifications(ns, notificationText).lines.slice();
}

function body(ls: string[], errors: number[] | null): Buffer {
  const { frame } = encodeLineBatch(Buffer.alloc(16), 1, [{ text: ls.join('\n') + '\n', count: ls.length, errors }]);
  return Buffer.from(frame.subarray(BATCH_BODY_OFFSET));
}

const view = (parts: { subject: string; body: Buffer; count: number; id: string; indexed: boolean }[] | undefined | null) =>
  parts == null ? parts : parts.map((m) => [m.subject, m.count, m.id, m.indexed, m.body.toString('latin1')]);

describe('upstream split by line runs', () => {
  it('makes the decoding split’s parts on well-formed bodies (errors, projects, escapes in info)', () => {
    const r = rng(7);
    for (let k = 0; k < 300; k++) {
      const ls = lines(r, 1 + Math.floor(r() * 12));
      const errors = r() < 0.5 ? null : ls.map((_, i) => i).filter(() => r() < 0.2);
      const b = body(ls, errors);
      const key = r() < 0.5 ? `k${k}` : undefined;
      const fast = splitLineRuns(b, ls.length, O, key);
      expect(fast).not.toBeNull();
      expect(view(fast)).toEqual(view(splitByDecoding(b, ls.length, O, key)));
      expect(view(splitBatch(b, ls.length, O, key))).toEqual(view(fast));
    }
  });

  it('on mutated bodies: the same parts where it answers, null where the decoder refuses or reads escapes', () => {
    const r = rng(11);
    const alphabet = ['"', '\\', ',', ' ', 'x', '}', '{', '\n', ':', 'a'];
    let answered = 0;
    let refused = 0;
    for (let k = 0; k < 4000; k++) {
      const ls = lines(r, 1 + Math.floor(r() * 4));
      const j = Math.floor(r() * ls.length);
      const s = ls[j];
      const at = Math.floor(r() * Math.min(s.length, r() < 0.7 ? 160 : s.length));
      const c = alphabet[Math.floor(r() * alphabet.length)];
      const op = r();
      ls[j] = op < 0.4 ? s.slice(0, at) + c + s.slice(at + 1) : op < 0.7 ? s.slice(0, at) + s.slice(at + 1) : s.slice(0, at) + c + s.slice(at);
      let count = ls.length;
      if (r() < 0.05) count += r() < 0.5 ? 1 : -1;
      const errors = r() < 0.3 ? [Math.floor(r() * (ls.length + 1)), 0] : null;
      const b = body(ls, errors);
      const slow = splitByDecoding(b, count, O, 'k');
      const fast = splitLineRuns(b, count, O, 'k');
      if (fast === null) {
        refused++;
      } else {
        answered++;
        expect(slow).toBeDefined();
        expect(view(fast)).toEqual(view(slow));
      }
      expect(view(splitBatch(b, count, O, 'k'))).toEqual(view(slow));
    }
    // Both sides of the test were exercised.
    expect(answered).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
  });

  it('reads big bodies in 64 KiB windows cut at line ends: the same parts, one line longer than a window too', () => {
    const r = rng(5);
    for (let k = 0; k < 6; k++) {
      const ls = lines(r, 300 + Math.floor(r() * 900));
      if (k % 2 === 1) {
        // One line of ~100 KB (longer than the 64 KiB window) in the middle of its trace.
        const j = Math.floor(ls.length / 2);
        ls[j] = ls[j].replace('"host": "h"', `"host": "${'x'.repeat(100_000 + k)}"`);
      }
      const errors = ls.map((_, i) => i).filter(() => r() < 0.05);
      const b = body(ls, errors);
      expect(b.length).toBeGreaterThan(3 * 64 * 1024);
      const fast = splitLineRuns(b, ls.length, O, 'k');
      expect(fast).not.toBeNull();
      expect(view(fast)).toEqual(view(splitByDecoding(b, ls.length, O, 'k')));
    }
  });

  it('steps aside for bodies that are not plain line bodies', () => {
    expect(splitLineRuns(Buffer.from('nope'), 1, O, 'k')).toBeNull();
    expect(splitBatch(Buffer.from('nope'), 1, O, 'k')).toBeUndefined();
    const ls = lines(rng(3), 3);
    const b = body(ls, null);
    expect(splitLineRuns(b, ls.length + 1, O, 'k')).toBeNull();
    expect(splitBatch(b, ls.length + 1, O, 'k')).toBeUndefined();
  });
});
