// @osprofiler/auto: `node --require @osprofiler/auto app.js` (this file) or
// `node --import @osprofiler/auto app.mjs` (import-entry.mts). Loading it registers every
// installed adapter when OSPROFILER_ENABLED is true; nothing happens otherwise.
//
// Worker threads inherit the preload (execArgv): a worker that no trace started skips
// automatic mode without loading the adapters, so untraced workers stay cheap. Only
// node:worker_threads is loaded before that decision.
import { getEnvironmentData, isMainThread } from 'node:worker_threads';
import type { AutoStatus } from './register';

export type { AutoStatus } from './register';

/** Where @osprofiler/node's thread hook hands a traced worker its context (thread-hook.ts). */
const THREAD_CONTEXT_KEY = 'osprofiler.threadContext.v1';

const skipped: AutoStatus = {
  enabled: false,
  adapters: [],
  notes: ['worker thread not started inside a trace: automatic mode skipped'],
};

function untracedWorker(): boolean {
  return !isMainThread && getEnvironmentData(THREAD_CONTEXT_KEY) === undefined;
}

const skip = untracedWorker();

// Loaded on demand: a plain require keeps the adapters out of untraced workers.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const register = (): typeof import('./register') => require('./register') as typeof import('./register');

/** Registers every available adapter once per process (see register.ts); skipped in untraced workers. */
export function registerAll(env: NodeJS.ProcessEnv = process.env): AutoStatus {
  return skip ? skipped : register().registerAll(env);
}

/** What automatic mode did in this process or thread. */
export function autoStatus(): Readonly<AutoStatus> {
  return skip ? skipped : register().autoStatus();
}

registerAll();
