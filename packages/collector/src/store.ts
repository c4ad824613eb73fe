/**
 * Writing through the drivers. Idempotent where the store allows it: a driver with
 * `notifyLinesOnce` (redis://) writes each message's points together with a duplicate
 * marker in one atomic step; SQL drivers upsert on (trace_id, name). Others get plain
 * writes (at least once).
 */
import type { Driver } from '@osprofiler/core';
import { withTimeout, type LineBatch } from '@osprofiler/core/instrument';
import { StoreBackend } from '@osprofiler/agent';
import { PointSet } from './points';

export interface WriteItem {
  /** Idempotency key (the message's Nats-Msg-Id, or `<stream>:<seq>`). */
  key: string;
  points: PointSet;
}

interface OnceDriver extends Driver {
  notifyLinesOnce(items: readonly { key: string; batch: LineBatch }[], markerTtlSeconds?: number): Promise<boolean[]>;
}

function hasOnce(d: Driver): d is OnceDriver {
  return typeof (d as Partial<OnceDriver>).notifyLinesOnce === 'function';
}

export class Store {
  private readonly backend: StoreBackend;

  constructor(
    readonly connectionString: string,
    driverOptions: Record<string, unknown>,
    private readonly timeoutMs: number,
    private readonly markerTtlSeconds: number,
  ) {
    this.backend = new StoreBackend(connectionString, driverOptions, timeoutMs);
  }

  open(): Promise<Driver> {
    return this.backend.open();
  }

  /** Whether a redelivered message is certainly not stored twice. */
  async idempotent(): Promise<boolean> {
    const d = await this.open();
    return hasOnce(d) || ['postgresql', 'postgres', 'mysql', 'mariadb'].includes(d.scheme);
  }

  /** Writes the items; resolves with points written and items skipped as already written. Throws on failure. */
  async write(items: readonly WriteItem[]): Promise<{ written: number; duplicates: number }> {
    const d = await this.open();
    const nonEmpty = items.filter((i) => i.points.count > 0);
    if (nonEmpty.length === 0) return { written: 0, duplicates: 0 };
    if (hasOnce(d)) {
      const done = await withTimeout(d.notifyLinesOnce(nonEmpty.map((i) => ({ key: i.key, batch: i.points })), this.markerTtlSeconds), this.timeoutMs, 'store write');
      let written = 0;
      let duplicates = 0;
      done.forEach((w, k) => {
        if (w) written += nonEmpty[k].points.count;
        else duplicates++;
      });
      return { written, duplicates };
    }
    const all = new PointSet();
    for (const i of nonEmpty) all.concat(i.points);
    const bad = await this.backend.write({ lines: all, objects: [], count: all.count });
    const total = all.count;
    return { written: total - bad, duplicates: 0 };
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}
