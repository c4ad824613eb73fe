/**
 * The agent's store: a core driver opened from a connection string, with the writes made
 * verifiable. Core drivers contain their own failures (the file driver counts a failed
 * append and returns), so a write here is notify + flush, then a check that the driver's
 * failure counters did not move; any failure or timeout throws, and the caller spools.
 */
import { createDriver, parseStoredEvent } from '@osprofiler/core';
import type { Driver, DriverOptions, LineBatch, Notification } from '@osprofiler/core';

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

function failures(d: Driver): number {
  const c = (d as { counters?: { dropped?: unknown; failed?: unknown } }).counters;
  if (c === undefined) return 0;
  return (typeof c.dropped === 'number' ? c.dropped : 0) + (typeof c.failed === 'number' ? c.failed : 0);
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

  /** Stores the batch or throws; resolves to the number of lines that did not parse (dropped). */
  async write(batch: BackendBatch): Promise<number> {
    const d = await this.open();
    const before = failures(d);
    let bad = 0;
    await withTimeout(
      (async () => {
        const { lines, objects } = batch;
        if (lines.count > 0) {
          // Text-storing drivers take the lines as they came; the others get objects.
          if (typeof d.notifyLines === 'function') await d.notifyLines(lines);
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
    );
    if (failures(d) !== before) throw new Error(`backend ${d.scheme}:// failed to store ${failures(d) - before} of ${batch.count} points`);
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

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`backend write not done within ${ms} ms`)), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
