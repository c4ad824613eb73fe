import type { Sampling } from './config';

/** A decision function for requests that carry no trace header. */
export type Sampler = () => boolean;

const never: Sampler = () => false;
const always: Sampler = () => true;

/**
 * Every N-th call returns true, or each call with probability `rate`; with `maxPerSecond`,
 * a true is also capped by a token bucket. `now` (milliseconds) is for tests.
 */
export function createSampler(sampling: Sampling | null, now: () => number = () => performance.now()): Sampler {
  if (sampling === null) return never;
  const pick = baseSampler(sampling);
  const cap = sampling.maxPerSecond;
  if (cap === undefined) return pick;
  const take = tokenBucket(cap, now);
  // The cap counts sampled traces, so it is asked only after the N-th/rate choice said yes.
  return () => pick() && take();
}

function baseSampler(sampling: Sampling): Sampler {
  if ('everyNth' in sampling) {
    const n = sampling.everyNth;
    let i = 0;
    return () => {
      i = i + 1 === n ? 0 : i + 1;
      return i === 0;
    };
  }
  if ('rate' in sampling) {
    const rate = sampling.rate;
    return () => Math.random() < rate;
  }
  return always;
}

/**
 * At most `perSecond` a second on average and `max(1, perSecond)` at once: over any
 * stretch of `t` seconds it says yes at most `perSecond * t + max(1, perSecond)` times.
 */
function tokenBucket(perSecond: number, now: () => number): Sampler {
  const burst = Math.max(1, perSecond);
  const perMs = perSecond / 1000;
  let tokens = burst;
  let last = now();
  return () => {
    const t = now();
    if (t > last) {
      tokens = Math.min(burst, tokens + (t - last) * perMs);
      last = t;
    }
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}
