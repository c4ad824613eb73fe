/**
 * The notifier's flush timer must hand batches to the driver outside any trace, also once
 * it has fired and is re-armed from inside a request: refresh() of a fired Timeout runs the
 * async init hooks again, which would give it that request's context (a driver on an
 * instrumented client would then record its own writes in the app's trace).
 */
import { afterAll, expect, it } from 'vitest';
import { configure, get, run, shutdown, start, stop } from '../src/index.js';
import { linesDriver } from './support/recording-driver.js';

afterAll(async () => {
  await shutdown();
});

it('every timed flush runs untraced, the first and the re-armed ones', async () => {
  const seen: (string | undefined)[] = [];
  const driver = linesDriver(() => {
    seen.push(get()?.baseId);
  });
  configure({ driver, host: 'h', service: 's', flushIntervalMs: 5 });
  for (let k = 0; k < 4; k++) {
    // The point is pushed (and the timer armed) inside a trace that is still open when it fires.
    await run({ hmacKey: 'k' }, async () => {
      start('step', {});
      stop();
      await new Promise((r) => setTimeout(r, 40));
    });
  }
  expect(seen.length).toBeGreaterThanOrEqual(4);
  expect(seen).toEqual(seen.map(() => undefined));
});
