/**
 * contextIdleMs: once no point is open or recorded for that long, the trace context's
 * AsyncLocalStorage is disabled (on Node 20 that turns its promise hooks off for every
 * later promise), and the next trace enables it again with its context intact.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, expect, it } from 'vitest';
import { configure, failureCounts, get, init, clean, notifierStats, run, shutdown, start, stop } from '../src/index.js';
import { runtime, storage } from '../src/runtime.js';
import { ContextIdle } from '../src/context-idle.js';
import { RecordingDriver } from './support/recording-driver.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const enabled = (): unknown => (storage as unknown as { enabled?: unknown }).enabled;
/** Whether Node's AsyncLocalStorage here keeps its store with async hooks (Node 20). */
const hooked = typeof (new AsyncLocalStorage() as unknown as { kResourceStore?: unknown }).kResourceStore === 'symbol';
const off = (): number | undefined => notifierStats()?.contextOff;

afterEach(async () => {
  await shutdown();
  runtime.pinned = undefined; // each test starts as a process that pinned nothing
});

/** Polls (bounded) until `pred()` holds. */
async function until(pred: () => boolean, ms = 1000): Promise<void> {
  for (const end = Date.now() + ms; !pred() && Date.now() < end; ) await sleep(5);
}

/** A trace with a point on each side of an await and of a timer; resolves to the base ids each point saw. */
async function asyncWork(): Promise<{ base: string; seen: (string | undefined)[] }> {
  const seen: (string | undefined)[] = [];
  let base = '';
  await run({ hmacKey: 'k' }, async () => {
    base = get()?.baseId ?? '';
    start('outer', {});
    await Promise.resolve();
    seen.push(get()?.baseId);
    await sleep(2);
    seen.push(get()?.baseId);
    start('inner', {});
    stop();
    stop();
  });
  return { base, seen };
}

it.runIf(hooked)('disables the storage after a quiet spell; the next trace keeps its context through awaits and timers', async () => {
  const driver = new RecordingDriver();
  configure({ driver, host: 'h', service: 's', flushIntervalMs: 5, contextIdleMs: 30 });
  let first = '';
  run({ hmacKey: 'k' }, () => {
    first = get()?.baseId ?? '';
    start('sync', {});
    stop();
  });
  expect(enabled()).toBe(true);
  // One interval sees the batch, the next one is quiet.
  await until(() => off() === 1);
  expect(off()).toBe(1);
  expect(enabled()).toBe(false);
  expect(get()).toBeUndefined();

  const second = await asyncWork();
  expect(second.base).not.toBe(first);
  expect(second.seen).toEqual([second.base, second.base]);
  expect(enabled()).toBe(true);
  await sleep(20);
  expect(driver.byBase(first).length).toBe(2);
  expect(driver.byBase(second.base).length).toBe(4);
  // An async run() may still be at work with no point open: never disabled after it.
  await sleep(120);
  expect(off()).toBe(1);
  expect(enabled()).toBe(true);
});

it.runIf(hooked)('keeps the storage while an async run() waits with no point open', async () => {
  configure({ driver: new RecordingDriver(), host: 'h', service: 's', flushIntervalMs: 5, contextIdleMs: 20 });
  let resume!: () => void;
  const gate = new Promise<void>((r) => (resume = r));
  let after: string | undefined;
  const traced = run({ hmacKey: 'k' }, async () => {
    start('first', {});
    stop();
    await gate;
    after = get()?.baseId;
    return get()?.baseId;
  });
  await sleep(150);
  expect(enabled()).toBe(true);
  expect(off()).toBe(0);
  resume();
  const base = await traced;
  expect(after).toBe(base);
});

it.runIf(hooked)('an open point, a point waiting in the buffer or any dropped point keeps the storage', async () => {
  const probe = { pending: 0, stats: { dropped: 0, contextOff: 0 } };
  const idle = new ContextIdle(3_600_000, probe); // its own timer never fires here: checked by hand
  storage.run({} as never, () => {}); // enables it (run(undefined) outside a store would not)
  expect(enabled()).toBe(true);
  expect(runtime.openPoints ?? 0).toBe(0);
  idle.batch(3, 1); // two starts, one stop: a point open
  idle.check();
  idle.check();
  expect(probe.stats.contextOff).toBe(0);
  runtime.openPoints = (runtime.openPoints ?? 0) + 1; // what markDropped counts for its marker
  idle.batch(1, 1); // the marker alone: a stop without a start, nothing closed
  idle.check();
  idle.check();
  expect(probe.stats.contextOff).toBe(0);
  idle.batch(1, 1); // the open point's stop
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

it.runIf(hooked)('a failing disable is contained and counted, never thrown from the timer', () => {
  const probe = { pending: 0, stats: { dropped: 0, contextOff: 0 } };
  const idle = new ContextIdle(3_600_000, probe);
  storage.run({} as never, () => {}); // enables it (run(undefined) outside a store would not)
  const s = storage as unknown as { disable: () => void };
  const disable = s.disable;
  s.disable = () => {
    throw new Error('disable failed');
  };
  try {
    const before = failureCounts()['context.idle'] ?? 0;
    expect(() => idle.check()).not.toThrow();
    expect(failureCounts()['context.idle']).toBe(before + 1);
    expect(probe.stats.contextOff).toBe(0);
  } finally {
    s.disable = disable;
    idle.stop();
  }
});

it.runIf(hooked)('never disables a context entered for good (init)', async () => {
  configure({ driver: new RecordingDriver(), host: 'h', service: 's', flushIntervalMs: 5, contextIdleMs: 20 });
  storage.run({} as never, () => {}); // enables it (run(undefined) outside a store would not)
  const p = init({ hmacKey: 'k' });
  start('x', {});
  stop();
  await sleep(120);
  expect(get()).toBe(p);
  expect(enabled()).toBe(true);
  expect(off()).toBe(0);
  clean();
});

it('contextIdleMs 0 never disables; a bad value names the field and its variable', async () => {
  configure({ driver: new RecordingDriver(), host: 'h', service: 's', flushIntervalMs: 5, contextIdleMs: 0 });
  run({ hmacKey: 'k' }, () => {
    start('x', {});
    stop();
  });
  await sleep(60);
  expect(off()).toBe(0);
  expect(() => configure({ driver: new RecordingDriver(), contextIdleMs: -1 })).toThrow(/contextIdleMs \(OSPROFILER_CONTEXT_IDLE_MS\)/);
});

it('the set-up a trace\'s first point makes from the environment does not keep that trace', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  process.env.OSPROFILER_CONNECTION_STRING = 'memory://';
  try {
    let ref: WeakRef<object> | undefined;
    run({ hmacKey: 'k' }, () => {
      ref = new WeakRef(get() as object);
      start('first', {}); // configures core from the environment, inside this trace
      stop();
    });
    expect(notifierStats()).toBeDefined();
    // Collected once nothing long-lived (the driver's promise, the notifier's chain) holds it.
    // deref() keeps its target to the end of the job it runs in: gc() in a later one.
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      await sleep(0);
      gc();
      await sleep(10);
      gone = ref?.deref() === undefined;
    }
    expect(gone).toBe(true);
  } finally {
    delete process.env.OSPROFILER_CONNECTION_STRING;
  }
});
