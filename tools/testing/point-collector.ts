/** Shared by the database adapters' tests (knex, typeorm). Collects the points a test records: core's memory:// driver, one private store per test file. */
import { randomUUID } from 'node:crypto';
import { configure, createDriver, flush, run, type MemoryDriver } from '@osprofiler/core';

export interface Event {
  name: string;
  base_id: string;
  trace_id: string;
  parent_id: string;
  info: Record<string, any>;
}

export interface Collector {
  /** Runs `fn` in a fresh trace; returns its base id and result. */
  trace<R>(fn: () => Promise<R>): Promise<{ baseId: string; result: R }>;
  /** The stored events of one trace, oldest first. */
  events(baseId: string): Promise<Event[]>;
}

export async function collector(options: { traceDb?: boolean } = {}): Promise<Collector> {
  const store = `db-test-${process.pid}-${randomUUID()}`;
  configure({ connectionString: `memory://${store}`, flushIntervalMs: 5, traceDb: options.traceDb ?? false });
  const driver = (await createDriver(`memory://${store}`)) as MemoryDriver;
  return {
    async trace(fn) {
      const baseId = randomUUID();
      // The await happens inside the trace, as in an app (a builder is a thenable run on `then`).
      const result = await run({ hmacKey: 'k', baseId }, async () => await fn());
      return { baseId, result };
    },
    async events(baseId) {
      await flush();
      return driver.rawEvents(baseId).map((l) => JSON.parse(l) as Event);
    },
  };
}

/** Start events by point name. */
export function starts(events: Event[], name: string): Event[] {
  return events.filter((e) => e.name === `${name}-start`);
}

/** The stop event of the point started by `start`. */
export function stopOf(events: Event[], start: Event): Event | undefined {
  return events.find((e) => e.trace_id === start.trace_id && e.name.endsWith('-stop'));
}

/** Every started point stopped exactly once, and nothing stopped that did not start. */
export function assertBalanced(events: Event[]): void {
  const open = new Map<string, number>();
  for (const e of events) {
    const k = e.trace_id;
    if (e.name.endsWith('-start')) open.set(k, (open.get(k) ?? 0) + 1);
    else open.set(k, (open.get(k) ?? 0) - 1);
  }
  for (const [id, n] of open) if (n !== 0) throw new Error(`point ${id} unbalanced: ${n}`);
}
