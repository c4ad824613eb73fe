import type { ResolvedHttpClientOptions } from './options';
import { DEFAULT_OPTIONS } from './options';

/**
 * Process-wide state of the client instrumentation, shared by every copy of this package
 * that gets loaded (so `register` from one copy and `instrumentHttpClient` from another
 * still install one set of wrappers).
 */
export interface ClientState {
  /** Wrappers and subscribers do nothing while false (a wrapper someone else wrapped again cannot be removed). */
  active: boolean;
  options: ResolvedHttpClientOptions;
  /** > 0 while one of our wrappers runs the original: nested calls are not traced again. */
  depth: number;
  httpInstalled: boolean;
  fetchInstalled: boolean;
}

const KEY = Symbol.for('osprofiler.node.httpClient.v1');
const holder = globalThis as unknown as { [KEY]?: ClientState };

export const state: ClientState = (holder[KEY] ??= {
  active: false,
  options: { ...DEFAULT_OPTIONS },
  depth: 0,
  httpInstalled: false,
  fetchInstalled: false,
});
