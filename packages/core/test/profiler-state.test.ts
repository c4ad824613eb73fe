import { afterEach, describe, expect, it } from 'vitest';
import { configure, flush, Profiler, run, shutdown, start, stop, traced, get } from '../src/index';
import { RecordingDriver } from './support/recording-driver';

afterEach(() => shutdown());

// profiler.ts: one budget a trace, shared by its profilers (a budget object given to a profiler
// included); an entry started past it is known at its stop by its id, its parent's pushed again.
describe("a profiler's budget", () => {
  it("forks share the root profiler's key, base id and one budget", async () => {
    const driver = new RecordingDriver();
    configure({ driver, host: 'h', flushIntervalMs: 5, maxTracePoints: 4 });
    const seen: [string, string][] = [];
    run({ hmacKey: 'key-1', baseId: 'B1' }, () =>
      traced('a', () =>
        traced('b', () => {
          const p = get()!;
          seen.push([p.hmacKey, p.baseId]);
          traced('c', () => traced('d', () => traced('e', () => 0)));
        }),
      ),
    );
    await flush();
    expect(seen).toEqual([['key-1', 'B1']]);
    // 4 recorded (a, b, c, d), e dropped: the budget is the trace's, whichever fork spends it.
    expect(driver.byBase('B1').map((e) => e.name)).toEqual(['a-start', 'b-start', 'c-start', 'd-start', 'dropped-stop', 'd-stop', 'c-stop', 'b-stop', 'a-stop']);
  });

  it('a profiler given another budget object keeps its own key and base id and spends that budget', async () => {
    const driver = new RecordingDriver();
    configure({ driver, host: 'h', flushIntervalMs: 5 });
    const shared = { left: 3, dropped: 0, marked: 0 };
    const p1 = new Profiler('k1', 'B1', 'B1', 'B1', shared);
    const p2 = new Profiler('k2', 'B2', 'B2', 'P2', shared);
    expect([p1.hmacKey, p1.baseId, p2.hmacKey, p2.baseId, p2.parentId, p2.currentId]).toEqual(['k1', 'B1', 'k2', 'B2', 'B2', 'P2']);
    expect(p1.budget).toBe(shared);
    p1.start('x');
    p2.start('y');
    p2.start('z');
    p1.start('muted'); // past the shared budget
    expect(shared).toMatchObject({ left: 0, dropped: 1 });
    expect(p1.currentId).toBe(p1.parentId); // its parent's id pushed again
    p1.stop(); // muted
    p1.stop();
    p2.stop();
    p2.stop();
    await flush();
    expect(driver.byBase('B1').map((e) => e.name)).toEqual(['x-start', 'dropped-stop', 'x-stop']);
    expect(driver.byBase('B2').map((e) => e.name)).toEqual(['y-start', 'z-start', 'z-stop', 'y-stop']);
    expect(driver.byBase('B2')[0].parent_id).toBe('P2');
  });

  it('start/stop past the budget, nested several deep, record nothing and unwind to the recorded point', async () => {
    const driver = new RecordingDriver();
    configure({ driver, host: 'h', flushIntervalMs: 5, maxTracePoints: 1 });
    run({ hmacKey: 'k', baseId: 'B3' }, () => {
      start('rec');
      const recorded = get()!.currentId;
      start('m1');
      start('m2');
      expect(get()!.currentId).toBe(recorded);
      stop();
      stop();
      expect(get()!.currentId).toBe(recorded);
      stop();
    });
    await flush();
    expect(driver.byBase('B3').map((e) => e.name)).toEqual(['rec-start', 'dropped-stop', 'rec-stop']);
  });
});
