/**
 * Containment for adapters and drivers: a failure of ours is counted by core under
 * `<package>.<place>` (what `failureCounts()` reports), warned about once per place, and
 * never thrown into user code. The repo's lint rule (tools/eslint/osprofiler-rules.mjs)
 * makes every `catch` in an adapter or driver call a `contained` function or rethrow.
 */
import { failureCounts, recordFailure } from '../failures';

export interface Contain {
  /** Counts `err` as a contained failure at `where` (shown as `<package>.<where>`). */
  (where: string, err: unknown): void;
  readonly pkg: string;
  /** This package's contained failures per place (keys without the package prefix). */
  counts(): Record<string, number>;
}

/** The containment function of package `pkg` ('express', 'knex', 'drivers', …). */
export function contained(pkg: string): Contain {
  const prefix = pkg + '.';
  const fn = ((where: string, err: unknown) => recordFailure(prefix + where, err)) as Contain & { pkg: string };
  Object.defineProperty(fn, 'pkg', { value: pkg });
  fn.counts = () => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(failureCounts())) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
    return out;
  };
  return fn;
}
