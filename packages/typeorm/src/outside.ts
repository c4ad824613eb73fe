import { AsyncResource } from 'node:async_hooks';
import { get } from '@osprofiler/core';

/**
 * Work that outlives the request (pool connections and their sockets, pool timers) must
 * not be created inside a trace, or every callback it ever fires runs in that request's
 * context. Core has no "exit" API, so we keep an AsyncResource captured at a moment with
 * no trace in context (module load, or the first untraced call) and run such work in it.
 */
let root: AsyncResource | undefined = get() === undefined ? new AsyncResource('osprofiler.db.root') : undefined;

/** Runs `fn` outside any trace when possible (best effort: as is until an untraced moment was seen). */
export function outsideTrace<R>(fn: () => R): R {
  if (get() === undefined) {
    if (root === undefined) root = new AsyncResource('osprofiler.db.root');
    return fn();
  }
  return root === undefined ? fn() : root.runInAsyncScope(fn);
}
