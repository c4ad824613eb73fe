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

  it('draws every hex digit in the random positions (not a constant pattern)', () => {
    const digits = new Set<string>();
    for (let i = 0; i < 300; i++) for (const c of uuid4().replace(/-/g, '')) digits.add(c);
    expect(digits.size).toBe(16);
  });
});
