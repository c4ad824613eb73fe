import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { configure, flush, get, openPoint, run, shutdown, start, stop, trace, traced } from '../src/index';
import { runIn, storage } from '../src/runtime';
import { RecordingDriver } from './support/recording-driver';

let driver: RecordingDriver;
beforeEach(() => {
  driver = new RecordingDriver();
  configure({ driver, host: 'h', flushIntervalMs: 5 });
});
afterEach(() => shutdown());

/** Checks that the points of one trace form a proper tree: every stop matches a start, every parent is known. */
function checkTree(baseId: string, events: ReturnType<RecordingDriver['byBase']>) {
  const starts = new Map(events.filter((e) => e.name.endsWith('-start')).map((e) => [e.trace_id, e]));
  const stops = events.filter((e) => e.name.endsWith('-stop'));
  expect(stops.length).toBe(starts.size);
  for (const s of stops) {
    const st = starts.get(s.trace_id)!;
    expect(st).toBeDefined();
    expect(s.parent_id).toBe(st.parent_id);
    expect(s.name.replace('-stop', '')).toBe(st.name.replace('-start', ''));
  }
  for (const st of starts.values()) {
    expect(st.parent_id === baseId || starts.has(st.parent_id)).toBe(true);
  }
  return starts;
}

describe('concurrent requests never mix their points', () => {
  it('200 interleaved async requests each hold exactly their own points', async () => {
    const fetchLike = trace('rpc', { hideArgs: false })(async function fetchLike(ms: number) {
      await sleep(ms);
      return ms;
    });
    const bases: string[] = [];
    const requests = Array.from({ length: 200 }, (_, i) =>
      run({ hmacKey: 'k', baseId: `base-${i}` }, async () => {
        bases.push(get()!.baseId);
        return traced('wsgi', { request: { path: `/r/${i}` } }, async () => {
          // Concurrent siblings inside one request, plus sequential manual points.
          await Promise.all([fetchLike(i % 7), fetchLike((i * 3) % 5), traced('db', async () => sleep(i % 3))]);
          start('manual');
          await sleep(1);
          stop();
          return i;
        });
      }),
    );
    const results = await Promise.all(requests);
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i));
    await flush();
    expect(new Set(bases).size).toBe(200);
    for (let i = 0; i < 200; i++) {
      const ev = driver.byBase(`base-${i}`);
      expect(ev).toHaveLength(10); // wsgi, rpc ×2, db, manual: start + stop each
      const starts = checkTree(`base-${i}`, ev);
      const wsgi = [...starts.values()].find((e) => e.name === 'wsgi-start')!;
      expect((wsgi.info.request as { path: string }).path).toBe(`/r/${i}`);
      for (const st of starts.values()) if (st !== wsgi) expect(st.parent_id).toBe(wsgi.trace_id);
    }
    expect(driver.events).toHaveLength(200 * 10);
  });

  it('a point can be stopped from another callback, exactly once', async () => {
    await run({ hmacKey: 'k', baseId: 'b-once' }, async () => {
      const p = openPoint('wsgi', { request: { method: 'GET' } })!;
      await p.run(async () => {
        await sleep(1);
        traced('inner', () => 1);
      });
      setImmediate(() => p.stop({ response: { status_code: 200 } }));
      await sleep(5);
      p.stop({ response: { status_code: 500 } });
    });
    await flush();
    const ev = driver.byBase('b-once');
    expect(ev.map((e) => e.name)).toEqual(['wsgi-start', 'inner-start', 'inner-stop', 'wsgi-stop']);
    expect(ev[3].info.response).toEqual({ status_code: 200 });
    expect(ev[1].parent_id).toBe(ev[0].trace_id);
  });
});

describe('runIn: a point’s work in its context without storage.run', () => {
  it('continuations made inside see the inner store; the outer one is back after a return and a throw', async () => {
    const outer = run({ hmacKey: 'k' }, () => get())!;
    await run({ hmacKey: 'k' }, async () => {
      const a = get();
      const inner = openPoint('p')!.profiler;
      const later = runIn(inner, () => {
        expect(get()).toBe(inner);
        return Promise.resolve().then(() => get());
      });
      expect(get()).toBe(a);
      expect(() => runIn(inner, () => { throw new Error('boom'); })).toThrow('boom');
      expect(get()).toBe(a);
      expect(await later).toBe(inner);
      // the same store again: no change, the result passes through
      expect(runIn(a, () => get())).toBe(a);
      expect(runIn(undefined, () => get())).toBe(undefined);
      expect(get()).toBe(a);
    });
    expect(storage.getStore()).toBe(undefined);
    expect(outer).not.toBe(undefined);
  });
});
