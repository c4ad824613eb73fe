import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clean, configure, flush, get, init, run, start, stop, shutdown, unmatchedStopCount } from '../src/index';
import { RecordingDriver } from './support/recording-driver';

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;
let driver: RecordingDriver;

beforeEach(() => {
  driver = new RecordingDriver();
  configure({ driver, project: 'proj', service: 'svc', host: 'hostA', flushIntervalMs: 5 });
});
afterEach(async () => {
  await shutdown();
});

describe('profiler stack (Python semantics)', () => {
  it('emits start/stop pairs with parent ids forming a tree', async () => {
    const base = '11111111-2222-4333-8444-555555555555';
    run({ hmacKey: 'k', baseId: base }, () => {
      start('level1', { request: { path: '/demo' } });
      start('level2');
      stop();
      stop({ extra: 1 });
    });
    await flush();
    const ev = driver.byBase(base);
    expect(ev.map((e) => e.name)).toEqual(['level1-start', 'level2-start', 'level2-stop', 'level1-stop']);
    const [l1s, l2s, l2e, l1e] = ev;
    expect(l1s.parent_id).toBe(base);
    expect(l2s.parent_id).toBe(l1s.trace_id);
    expect(l2e.trace_id).toBe(l2s.trace_id);
    expect(l2e.parent_id).toBe(l2s.parent_id);
    expect(l1e.trace_id).toBe(l1s.trace_id);
    expect(Object.keys(l1s)).toEqual(['name', 'base_id', 'trace_id', 'parent_id', 'timestamp', 'info', 'project', 'service']);
    expect(l1s.info).toEqual({ request: { path: '/demo' }, host: 'hostA' });
    expect(Object.keys(l1e.info)).toEqual(['extra', 'host']);
    expect(l1s.project).toBe('proj');
    expect(l1s.service).toBe('svc');
    for (const e of ev) expect(e.timestamp).toMatch(TS);
    expect(ev.map((e) => e.timestamp)).toEqual([...ev.map((e) => e.timestamp)].sort());
  });

  it('keeps ids and parents through one-deep, deeper and emptied stacks, reused (the stack as one entry, then arrays)', async () => {
    const base = '21111111-2222-4333-8444-555555555555';
    const seen: [string, string][] = []; // currentId, parentId after each step
    const look = (): void => {
      const p = get()!;
      seen.push([p.currentId, p.parentId]);
    };
    run({ hmacKey: 'k', baseId: base, parentId: 'p-0' }, () => {
      look();
      start('a'); // one deep
      look();
      stop();
      look();
      start('b'); // one deep again, then three deep
      start('c');
      look();
      start('d');
      look();
      stop();
      stop();
      look();
      stop(); // emptied from the arrays
      look();
      stop(); // unmatched
      start('e'); // after the arrays
      look();
      stop();
      look();
    });
    await flush();
    const ev = driver.byBase(base);
    expect(ev.map((e) => e.name)).toEqual(['a-start', 'a-stop', 'b-start', 'c-start', 'd-start', 'd-stop', 'c-stop', 'b-stop', 'e-start', 'e-stop']);
    const id = (n: string): string => ev.find((e) => e.name === `${n}-start`)!.trace_id;
    const parent = (n: string): string => ev.find((e) => e.name === `${n}-start`)!.parent_id;
    expect([parent('a'), parent('b'), parent('c'), parent('d'), parent('e')]).toEqual(['p-0', 'p-0', id('b'), id('c'), 'p-0']);
    for (const n of ['a', 'b', 'c', 'd', 'e']) {
      const stopEvent = ev.find((e) => e.name === `${n}-stop`)!;
      expect([stopEvent.trace_id, stopEvent.parent_id]).toEqual([id(n), parent(n)]);
    }
    expect(seen).toEqual([
      ['p-0', base],
      [id('a'), 'p-0'],
      ['p-0', base],
      [id('c'), id('b')],
      [id('d'), id('c')],
      [id('b'), 'p-0'],
      ['p-0', base],
      [id('e'), 'p-0'],
      ['p-0', base],
    ]);
    expect(new Set(['a', 'b', 'c', 'd', 'e'].map(id)).size).toBe(5);
  });

  it('uses the given parent id for the first point and a fresh uuid4 for an empty base id', async () => {
    let base = '';
    run({ hmacKey: 'k', baseId: '', parentId: 'parent-from-header' }, () => {
      base = get()!.baseId;
      start('x');
      stop();
    });
    expect(base).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await flush();
    expect(driver.byBase(base)[0].parent_id).toBe('parent-from-header');
  });

  it('ignores and counts an unmatched stop, never throws', () => {
    const before = unmatchedStopCount();
    run({ hmacKey: 'k' }, () => {
      expect(() => stop()).not.toThrow();
      start('a');
      stop();
      stop();
    });
    expect(unmatchedStopCount()).toBe(before + 2);
  });

  it('is a no-op outside a trace', async () => {
    expect(get()).toBeUndefined();
    start('nothing');
    stop();
    await flush();
    expect(driver.events).toHaveLength(0);
  });

  it('init returns the existing profiler and ignores new arguments; clean removes it', async () => {
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        const p = init({ hmacKey: 'k1', baseId: 'b1' });
        const again = init({ hmacKey: 'k2', baseId: 'b2' });
        expect(again).toBe(p);
        expect(get()?.baseId).toBe('b1');
        expect(p.currentId).toBe('b1');
        clean();
        expect(get()).toBeUndefined();
        resolve();
      }),
    );
  });
});
