/**
 * contextIdleMs: once no point is open or recorded for that long, the trace context's
 * AsyncLocalStorage is disabled (on Node 20 that turns its promise hooks off for every
 * later promise), and the next trace enables it again with its context intact.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, expect, it } from 'vitest';
import { configure, get, notifierStats, run, shutdown, start, stop } from '../src/index.js';
import { runtime, storage } from '../src/runtime.js';
import { ContextIdle } from '../src/context-idle.js';
import { RecordingDriver } from './support/recording-driver.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// A finished run()'s profiler counts as live until collected: the test collects it.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const enabled = (): unknown => (storage as unknown as { enabled?: unknown }).enabled;
/** Whether Node's AsyncLocalStorage here keeps its store with async hooks (Node 20). */
const hooked = typeof (new AsyncLocalStorage() as unknown as { kResourceStore?: unknown }).kResourceStore === 'symbol';

afterEach(async () => {
  await shutdown();
});

/** A trace with a point on each side of an await and of a timer; resolves to the base ids each point saw. */
async function tracedWork(): Promise<{ base: string; seen: (string | undefined)[] }> {
  const seen: (string | undefined)[] = [];
  let base = '';
  await run({ hmacKey: 'k' }, async () => {
    base = get()?.baseId ?? '';
    start('outer', {});
    await Promise.resolve();
    seen.push(get()?.baseId);
    await new Promise((r) => setTimeout(r, 2));
    seen.push(get()?.baseId);
    start('inner', {});
    stop();
    stop();
  });
  return { base, seen };
}

it.runIf(hooked)('disables the storage after a quiet spell, and the next trace keeps its context through awaits and timers', async () => {
  const driver = new RecordingDriver();
  configure({ driver, host: 'h', service: 's', flushIntervalMs: 5, contextIdleMs: 30 });
  const first = await tracedWork();
  expect(first.seen).toEqual([first.base, first.base]);
  expect(enabled()).toBe(true);
  // One interval to see the last batch, one whole quiet interval after it, the run's profiler collected.
  for (let i = 0; i < 50 && notifierStats()?.contextOff === 0; i++) {
    gc();
    await sleep(10);
  }
  expect(notifierStats()?.contextOff).toBe(1);
  expect(enabled()).toBe(false);
  expect(get()).toBeUndefined();

  const second = await tracedWork();
  expect(second.base).not.toBe(first.base);
  expect(second.seen).toEqual([second.base, second.base]);
  await sleep(20);
  // Both traces stored whole: 2 starts and 2 stops each.
  expect(driver.byBase(first.base).length).toBe(4);
  expect(driver.byBase(second.base).length).toBe(4);
});

it.runIf(hooked)('keeps the storage while a run() is still at work, however quiet', async () => {
  configure({ driver: new RecordingDriver(), host: 'h', service: 's', flushIntervalMs: 5, contextIdleMs: 20 });
  let resume!: () => void;
  const gate = new Promise<void>((r) => (resume = r));
  let after: string | undefined;
  const traced = run({ hmacKey: 'k' }, async () => {
    start('long request', {});
    await gate;
    after = get()?.baseId;
    stop();
    return get()?.baseId;
  });
  for (let i = 0; i < 15; i++) {
    gc();
    await sleep(10);
  }
  expect(enabled()).toBe(true);
  expect(notifierStats()?.contextOff).toBe(0);
  resume();
  const base = await traced;
  expect(after).toBe(base);
});

it.runIf(hooked)('an open point, a point waiting in the buffer or any dropped point keeps the storage', async () => {
  const probe = { pending: 0, stats: { dropped: 0, contextOff: 0 } };
  const idle = new ContextIdle(3_600_000, probe); // its own timer never fires here: checked by hand
  storage.run(undefined as never, () => {});
  for (let i = 0; i < 50 && (runtime.liveRuns ?? 0) > 0; i++) {
    gc();
    await sleep(10);
  }
  expect(runtime.liveRuns ?? 0).toBe(0);
  expect(enabled()).toBe(true);
  idle.batch(3, 1); // two starts, one stop: a point open
  idle.check();
  idle.check();
  expect(probe.stats.contextOff).toBe(0);
  idle.batch(1, 1); // its stop
  probe.pending = 1;
  idle.check(); // a batch this interval
  idle.check(); // a point in the buffer
  expect(probe.stats.contextOff).toBe(0);
  probe.pending = 0;
  probe.stats.dropped = 1;
  idle.check();
  expect(probe.stats.contextOff).toBe(0);
  probe.stats.dropped = 0;
  idle.check();
  expect(probe.stats.contextOff).toBe(1);
  expect(enabled()).toBe(false);
  idle.stop();
});

it.runIf(hooked)('never disables a context entered for good (init)', async () => {
  const { init, clean } = await import('../src/index.js');
  configure({ driver: new RecordingDriver(), host: 'h', service: 's', flushIntervalMs: 5, contextIdleMs: 20 });
  await run({ hmacKey: 'k' }, async () => {
    const p = init({ hmacKey: 'k' });
    start('x', {});
    stop();
    for (let i = 0; i < 12; i++) {
      gc();
      await sleep(10);
    }
    expect(get()).toBe(p);
    clean();
  });
  expect(enabled()).toBe(true);
  expect(notifierStats()?.contextOff).toBe(0);
});

it('contextIdleMs 0 never disables; a bad value names the field and its variable', async () => {
  configure({ driver: new RecordingDriver(), host: 'h', service: 's', flushIntervalMs: 5, contextIdleMs: 0 });
  await tracedWork();
  await sleep(60);
  expect(notifierStats()?.contextOff).toBe(0);
  expect(() => configure({ driver: new RecordingDriver(), contextIdleMs: -1 })).toThrow(/contextIdleMs \(OSPROFILER_CONTEXT_IDLE_MS\)/);
});

it('the set-up a trace\'s first point makes from the environment does not keep that trace', async () => {
  await shutdown(); // the next point sets core up from the environment, inside its trace
  process.env.OSPROFILER_CONNECTION_STRING = 'memory://';
  try {
    for (let i = 0; i < 50 && (runtime.liveRuns ?? 0) > 0; i++) {
      gc();
      await sleep(10);
    }
    expect(runtime.liveRuns ?? 0).toBe(0);
    run({ hmacKey: 'k' }, () => {
      start('first', {});
      stop();
    });
    expect(notifierStats()).toBeDefined();
    expect(runtime.liveRuns).toBe(1);
    // Collected once nothing long-lived (the driver's promise, the notifier's chain) holds it.
    for (let i = 0; i < 50 && (runtime.liveRuns ?? 0) > 0; i++) {
      gc();
      await sleep(10);
    }
    expect(runtime.liveRuns).toBe(0);
  } finally {
    delete process.env.OSPROFILER_CONNECTION_STRING;
  }
});
