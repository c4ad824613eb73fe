/**
 * Automatic mode's set-up step, the same for every adapter: once per process (every copy of
 * the adapter shares the mark on globalThis), and only when OSPROFILER_ENABLED is true. A
 * bad OSPROFILER_* value is counted by the adapter's `contain`, never thrown into the app.
 */
import { resolveConfig } from '../config';
import type { Contain } from './contained';

/** Runs `install` once per process for `mark` when tracing is enabled; returns whether it is installed. */
export function registerOnce(mark: symbol, env: NodeJS.ProcessEnv, contain: Contain, install: () => void): boolean {
  const g = globalThis as unknown as Record<symbol, unknown>;
  if (g[mark] === true) return true;
  try {
    if (!resolveConfig({}, env).enabled) return false;
  } catch (err) {
    contain('register.config', err);
    return false;
  }
  g[mark] = true;
  install();
  return true;
}
