import { describe, expect, it } from 'vitest';
import { uuid4 } from '../src/uuid';

describe('uuid4', () => {
  it('makes RFC 4122 version-4 ids, distinct across batches', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = uuid4();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(2000);
  });

  it("writes each of an id's 8 byte pairs from its own random bytes (no group a copy of another)", () => {
    // The 4-digit groups of the 32 digits; a pair written from the wrong offset repeats another.
    const same = new Array<number>(64).fill(0);
    for (let i = 0; i < 1000; i++) {
      const h = uuid4().replace(/-/g, '');
      const groups = Array.from({ length: 8 }, (_, g) => h.slice(4 * g, 4 * g + 4));
      for (let a = 0; a < 8; a++) for (let b = a + 1; b < 8; b++) if (groups[a] === groups[b]) same[a * 8 + b]++;
    }
    // By chance a pair of groups matches at most 1 in 4,096 ids (version and variant bits fixed).
    expect(Math.max(...same)).toBeLessThan(5);
  });

  it('draws every hex digit in the random positions (not a constant pattern)', () => {
    const digits = new Set<string>();
    for (let i = 0; i < 300; i++) for (const c of uuid4().replace(/-/g, '')) digits.add(c);
    expect(digits.size).toBe(16);
  });
});
