/**
 * A bound on the points the collector holds checked and not yet written, over all its
 * partitions. Each checked point is many short-lived objects (its line and head, the
 * search index's entries, the inflated body it points into) that live until its write
 * returns; with 16 partitions each checking up to `writeBatchPoints` before awaiting the
 * store, a backlog kept ~all of them alive at every scavenge, which copied them.
 * Batches are admitted in the order they asked; one batch is always admitted when
 * nothing is in flight, whatever its size.
 */
export class PointGate {
  private inFlight = 0;
  private readonly waiting: { n: number; go: () => void }[] = [];

  constructor(readonly limit: number) {}

  /** Resolves when `n` points may be checked and written; `release(n)` after. */
  acquire(n: number): Promise<void> | undefined {
    if (this.waiting.length === 0 && this.fits(n)) {
      this.inFlight += n;
      return undefined;
    }
    return new Promise<void>((go) => this.waiting.push({ n, go }));
  }

  release(n: number): void {
    this.inFlight -= n;
    while (this.waiting.length > 0 && this.fits(this.waiting[0].n)) {
      const w = this.waiting.shift() as { n: number; go: () => void };
      this.inFlight += w.n;
      w.go();
    }
  }

  get held(): number {
    return this.inFlight;
  }

  private fits(n: number): boolean {
    return this.inFlight === 0 || this.inFlight + n <= this.limit;
  }
}
