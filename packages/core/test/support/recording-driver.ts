import type { Driver, Notification, Report, TraceSummary } from '../../src/index';
import type { LineBatch } from '../../src/line';

/**
 * Keeps every notification the notifier hands over, in order, so tests can check the
 * exact payloads. It is a complete in-process driver (reports come from the real builder).
 */
export class RecordingDriver implements Driver {
  readonly scheme = 'recording';
  readonly events: Notification[] = [];
  batches = 0;
  failNext = 0;

  notify(batch: readonly Notification[]): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('backend down');
    }
    this.batches++;
    this.events.push(...batch);
  }
  byBase(baseId: string): Notification[] {
    return this.events.filter((e) => e.base_id === baseId);
  }
  async getReport(): Promise<Report> {
    throw new Error('not used');
  }
  async listTraces(): Promise<TraceSummary[]> {
    return [];
  }
  async listErrorTraces(): Promise<TraceSummary[]> {
    return [];
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** A driver on core's raw path only: hands each line batch to `onBatch` (nothing is stored). */
export function linesDriver(onBatch: (batch: LineBatch) => void): Driver {
  return {
    scheme: 'capture',
    notify: () => undefined,
    notifyLines: onBatch,
    getReport: async () => {
      throw new Error('not used');
    },
    listTraces: async () => [],
    listErrorTraces: async () => [],
    flush: async () => undefined,
    close: async () => undefined,
  };
}
