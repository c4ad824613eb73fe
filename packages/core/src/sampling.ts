import type { Sampling } from './config';

/** A decision function for requests that carry no trace header. */
export type Sampler = () => boolean;

const never: Sampler = () => false;

/** Every N-th call returns true, or each call with probability `rate`. */
export function createSampler(sampling: Sampling | null): Sampler {
  if (sampling === null) return never;
  if ('everyNth' in sampling) {
    const n = sampling.everyNth;
    let i = 0;
    return () => {
      i = i + 1 === n ? 0 : i + 1;
      return i === 0;
    };
  }
  const rate = sampling.rate;
  return () => Math.random() < rate;
}
