// The bound on points checked and not yet written over the partitions (src/gate.ts).
import { describe, expect, it } from 'vitest';
import { PointGate } from '../src/gate';

describe('PointGate', () => {
  it('admits up to the limit, then in order as points are released', async () => {
    const g = new PointGate(1000);
    expect(g.acquire(600)).toBeUndefined();
    expect(g.acquire(400)).toBeUndefined();
    const order: string[] = [];
    const a = g.acquire(300)?.then(() => order.push('a'));
    // Fits, but waits behind `a`: batches are admitted in the order they asked.
    const b = g.acquire(1)?.then(() => order.push('b'));
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    g.release(200);
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(g.held).toBe(800);
    g.release(400);
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
    expect(g.held).toBe(701);
  });

  it('lets a batch bigger than the limit through alone', async () => {
    const g = new PointGate(100);
    expect(g.acquire(5000)).toBeUndefined();
    let second = false;
    const p = g.acquire(50)?.then(() => (second = true));
    await Promise.resolve();
    expect(second).toBe(false);
    g.release(5000);
    await p;
    expect(second).toBe(true);
    expect(g.held).toBe(50);
  });
});
