/** Routes every trace point of this test process into an array (a complete in-process driver). */
import { configure, flush } from '@osprofiler/core';
import type { Driver, Notification, Report } from '@osprofiler/core';

export interface Recorder {
  events: Notification[];
  /** Flushes the notifier and returns every event so far. */
  settle(): Promise<Notification[]>;
  /** The events of one point kind (`rpc-start`, `rpc-stop`, …) of one trace. */
  named(name: string, baseId?: string): Notification[];
}

export function recordPoints(hmacKeys: string[] = ['SECRET_KEY'], extra: Record<string, unknown> = {}): Recorder {
  const events: Notification[] = [];
  const driver: Driver = {
    scheme: 'recording',
    notify: (batch) => void events.push(...batch),
    getReport: async () => ({ info: { name: 'total', started: 0, finished: null, last_trace_started: null }, children: [], stats: {} }) as Report,
    listTraces: async () => [],
    listErrorTraces: async () => [],
    flush: async () => undefined,
    close: async () => undefined,
  };
  configure({ driver, hmacKeys, flushIntervalMs: 5, ...extra });
  return {
    events,
    async settle() {
      await flush();
      return events;
    },
    named(name, baseId) {
      return events.filter((e) => e.name === name && (baseId === undefined || e.base_id === baseId));
    },
  };
}
