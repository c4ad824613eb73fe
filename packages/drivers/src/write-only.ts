/**
 * Base of the drivers that only send (amqp://, otlp://): reading is refused with a message
 * saying where to read instead, and flush waits for the sends in flight.
 */
import type { Driver, Notification, Report, TraceSummary } from '@osprofiler/core';
import { InFlight } from './inflight';

export abstract class WriteOnlyDriver implements Driver {
  abstract readonly scheme: string;
  protected readonly inflight = new InFlight();
  protected closed = false;

  /** Why reading is refused, and where to read instead. */
  protected abstract readonly readHint: string;

  abstract notify(batch: readonly Notification[]): Promise<void> | void;
  abstract close(timeoutMs?: number): Promise<void>;

  private writeOnly(): Promise<never> {
    return Promise.reject(new Error(this.readHint));
  }

  getReport(_baseId: string): Promise<Report> {
    return this.writeOnly();
  }

  listTraces(): Promise<TraceSummary[]> {
    return this.writeOnly();
  }

  listErrorTraces(): Promise<TraceSummary[]> {
    return this.writeOnly();
  }

  flush(timeoutMs = 5000): Promise<void> {
    return this.inflight.settle(timeoutMs);
  }
}
