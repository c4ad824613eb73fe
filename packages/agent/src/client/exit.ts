/**
 * Flush on exit. `beforeExit`: each live driver flushes once (bounded by its
 * `exitFlushMs`). SIGTERM: core's buffer and every driver are flushed (bounded), then, if
 * no one else listens for SIGTERM, the signal is raised again so the process still ends
 * the way it would have without us.
 */
import { flush as coreFlush } from '@osprofiler/core';

interface Flushable {
  pending: number;
  options: { exitFlushMs: number };
  flush(timeoutMs: number): Promise<void>;
}

const live = new Set<Flushable>();
const flushedAtExit = new WeakSet<Flushable>();
let installed = false;

export function trackDriver(d: Flushable): void {
  live.add(d);
  if (!installed) install();
}

export function untrackDriver(d: Flushable): void {
  live.delete(d);
}

function maxExitMs(): number {
  let ms = 0;
  for (const d of live) ms = Math.max(ms, d.options.exitFlushMs);
  return ms;
}

function install(): void {
  installed = true;
  process.on('beforeExit', () => {
    for (const d of live) {
      // Once: with the agent gone, flushing again would keep the process alive forever.
      if (d.pending > 0 && !flushedAtExit.has(d)) {
        flushedAtExit.add(d);
        void d.flush(d.options.exitFlushMs);
      }
    }
  });
  const onSigterm = (): void => {
    const ms = maxExitMs();
    const all = (async () => {
      await coreFlush(ms);
      await Promise.all([...live].map((d) => d.flush(ms)));
    })();
    const bound = new Promise<void>((resolve) => setTimeout(resolve, ms + 100).unref());
    void Promise.race([all, bound]).finally(() => {
      process.removeListener('SIGTERM', onSigterm);
      if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
    });
  };
  process.on('SIGTERM', onSigterm);
}
