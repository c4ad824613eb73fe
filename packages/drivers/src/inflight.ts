/** Writes still running, so `flush()` can wait for them (bounded by a timeout). */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  /** Tracks `p` until it settles and returns it unchanged. */
  track<T>(p: Promise<T>): Promise<T> {
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return p;
  }

  get size(): number {
    return this.running.size;
  }

  /** Resolves when every write tracked so far (and any started meanwhile) settled, or after `timeoutMs`. */
  async settle(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, left);
        timer.unref();
      });
      await Promise.race([Promise.all([...this.running]), timeout]);
      clearTimeout(timer);
    }
  }
}

/** What a driver instance did. Failures are also thrown to the caller (core's notifier counts them). */
export interface DriverCounters {
  /** Notifications stored. */
  written: number;
  /** Notifications lost to a failed write. */
  failed: number;
  /** Write batches that succeeded. */
  batches: number;
  /** Connection errors the client reported after start-up (it reconnects by itself). */
  connectionErrors: number;
}

export function newCounters(): DriverCounters {
  return { written: 0, failed: 0, batches: 0, connectionErrors: 0 };
}
