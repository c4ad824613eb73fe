/**
 * The agent's store: a core driver opened from a connection string. By the driver failure
 * contract (core's `Driver`), a write is stored when notify + flush resolve: notify rejects
 * a batch it did not store, flush rejects with `DriverWriteError` for buffered writes that
 * were lost. Any rejection or timeout throws, and the caller spools.
 */
import { createDriver } from '@osprofiler/core';
import { parseStoredEvent, withTimeout } from '@osprofiler/core/instrument';
import type { Driver, DriverOptions, Notification } from '@osprofiler/core';
import type { LineBatch } from '@osprofiler/core/instrument';

/** One write: points in line form (the raw path) and, from older clients, as objects. */
export interface BackendBatch {
  lines: LineBatch & { readonly count: number };
  objects: Notification[];
  count: number;
}

/** Where the writer puts batches: a store (Backend) or, with --upstream, NATS (Upstream). */
export interface Sink {
  /** A store takes decoded points; resolves with the number of lines that did not parse. */
  write?(batch: BackendBatch): Promise<number>;
  /** An upstream takes the batch bodies as they came (and counts undecodable ones as bad). */
  writeRecords?(records: readonly { count: number; body: Buffer }[]): Promise<number>;
  open(): Promise<unknown>;
  close(): Promise<void>;
}

export class Backend implements Sink {
  private driver: Driver | undefined;
  private opening: Promise<Driver> | undefined;

  constructor(
    readonly connectionString: string,
    private readonly driverOptions: Partial<DriverOptions>,
    private readonly timeoutMs: number,
  ) {
  }

  /** The driver, opened on first use (and again after an open failed). */
  open(): Promise<Driver> {
    if (this.driver !== undefined) return Promise.resolve(this.driver);
    this.opening ??= createDriver(this.connectionString, this.driverOptions).then(
      (d) => {
        this.driver = d;
        this.opening = undefined;
        return d;
      },
      (err: unknown) => {
        this.opening = undefined;
        throw err;
      },
    );
    return this.opening;
  }

  /** Whether lines should come with their search index: the driver indexes lines (`notifyLines`), or is not open yet. */
  wantsIndex(): boolean {
    return this.driver === undefined || typeof this.driver.notifyLines === 'function';
  }

  /** Stores the batch or throws; resolves to the number of lines that did not parse (dropped). */
  async write(batch: BackendBatch): Promise<number> {
    const d = await this.open();
    let bad = 0;
    await withTimeout(
      (async () => {
        const { lines, objects } = batch;
        if (lines.count > 0) {
          // Text-storing drivers take the lines as they came; the others get objects.
          if (typeof d.notifyLines === 'function') {
            await d.notifyLines(lines);
          }
          else {
            const objects = toObjects(lines);
            bad = lines.count - objects.length;
            await d.notify(objects);
          }
        }
        if (objects.length > 0) await d.notify(objects);
        await d.flush(this.timeoutMs);
      })(),
      this.timeoutMs,
      'backend write',
    );
    return bad;
  }

  async close(): Promise<void> {
    const d = this.driver;
    this.driver = undefined;
    if (d !== undefined) await withTimeout(d.close(), this.timeoutMs).catch(() => undefined);
  }
}

/** Lines parsed back into notifications (drivers that store columns: pg, mysql, amqp, otlp); lines that do not parse are left out. */
function toObjects(b: LineBatch): Notification[] {
  const out: Notification[] = [];
  for (const line of b.lines) {
    const n = parseStoredEvent(line);
    if (n !== undefined) out.push(n as unknown as Notification);
  }
  return out;
}
