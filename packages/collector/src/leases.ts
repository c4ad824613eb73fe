/**
 * Partition leases in a JetStream KV bucket. Each collector writes a heartbeat
 * (`c.<id>`) and holds partitions (`p.<n>` = {"holder","until"}) by renewing them with
 * compare-and-set on the entry's revision. A partition is free when its key is absent or
 * deleted or its `until` has passed; each collector takes free partitions up to its share
 * (partitions ÷ living collectors, rounded up) and gives back what is above it. A dead
 * collector stops renewing, so its partitions are free after `leaseTtlMs` and taken at
 * the next tick of the others (~ ttl + renew interval).
 *
 * `until` is compared with the local clock: collectors' clocks must agree to well under
 * the TTL (NTP). A collector that cannot renew in time stops writing (see `valid`).
 */
import type { KV, KvEntry } from '@nats-io/kv';
import type { CollectorMetrics } from './metrics';

interface LeaseValue {
  holder: string;
  until: number;
}

export interface LeaseEvents {
  acquire(partition: number): void;
  /** Give up a partition: resolves once its worker has stopped (its writes acknowledged). */
  release(partition: number): Promise<void>;
  /** The lease was taken by someone else: stop at once. */
  lost(partition: number): void;
}

function valueOf(e: KvEntry | null): LeaseValue | undefined {
  if (e === null || e.operation !== 'PUT') return undefined;
  try {
    const v = e.json<LeaseValue>();
    return typeof v?.holder === 'string' && typeof v.until === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

function untilOf(e: KvEntry | null): number {
  if (e === null || e.operation !== 'PUT') return 0;
  try {
    const v = e.json<{ until?: unknown }>();
    return typeof v?.until === 'number' ? v.until : 0;
  } catch {
    return 0;
  }
}

export class Leases {
  /** partition → { revision, until } of our current lease. */
  private readonly held = new Map<number, { revision: number; until: number }>();
  private closed = false;

  constructor(
    private readonly kv: KV,
    readonly id: string,
    private readonly partitions: number,
    private readonly ttlMs: number,
    private readonly events: LeaseEvents,
    private readonly metrics: CollectorMetrics,
  ) {}

  /** Partitions held now. */
  get partitionsHeld(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Whether we may still write for this partition (our lease has not run out, with a margin). */
  valid(partition: number): boolean {
    const h = this.held.get(partition);
    return h !== undefined && h.until - this.ttlMs / 4 > Date.now();
  }

  private drop(p: number): void {
    if (this.held.delete(p)) {
      this.metrics.leaseLost++;
      this.events.lost(p);
    }
  }

  /** One round: heartbeat, renew, take free partitions up to our share, give back extras. */
  async tick(): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    await this.kv.put(`c.${this.id}`, JSON.stringify({ until: now + this.ttlMs }));
    let alive = 0;
    for await (const k of await this.kv.keys('c.*')) {
      const until = untilOf(await this.kv.get(k));
      if (until > now) alive++;
      else if (until < now - 60_000) await this.kv.delete(k).catch(() => undefined); // long gone
    }
    const share = Math.ceil(this.partitions / Math.max(1, alive));
    // Start at a different partition per collector, so collectors starting together spread out.
    const offset = Number.parseInt(this.id.replace(/[^0-9a-f]/gi, '').slice(-6) || '0', 16) % this.partitions;
    for (let i = 0; i < this.partitions; i++) {
      if (this.closed) return;
      const p = (i + offset) % this.partitions;
      const key = `p.${p}`;
      const mine = this.held.get(p);
      const value = JSON.stringify({ holder: this.id, until: Date.now() + this.ttlMs });
      if (mine !== undefined) {
        // Compare-and-set on the revision we wrote: it fails when anyone else wrote or deleted
        // the key since (taken over), so no read first. Reading each partition first cost an
        // idle collector ~18 ms of CPU a second (and nats-server ~9) with 16 partitions.
        try {
          const revision = await this.kv.update(key, value, mine.revision);
          this.held.set(p, { revision, until: Date.now() + this.ttlMs });
        } catch {
          this.drop(p);
        }
        continue;
      }
      if (this.held.size >= share) continue;
      const e = await this.kv.get(key);
      const v = valueOf(e);
      if (v !== undefined && v.until > Date.now()) continue;
      try {
        const until = Date.now() + this.ttlMs;
        const revision = e === null ? await this.kv.create(key, value) : await this.kv.update(key, value, e.revision);
        this.held.set(p, { revision, until });
        this.metrics.leaseAcquired++;
        this.events.acquire(p);
      } catch {
        // Someone else was faster.
      }
    }
    // Above our share (another collector joined): give back the extras, worker first.
    const extra = this.held.size - share;
    if (extra > 0) for (const p of this.partitionsHeld.slice(-extra)) await this.release(p);
  }

  private async release(p: number): Promise<void> {
    const mine = this.held.get(p);
    if (mine === undefined) return;
    await this.events.release(p);
    this.held.delete(p);
    this.metrics.leaseReleased++;
    await this.kv.delete(`p.${p}`, { previousSeq: mine.revision }).catch(() => undefined);
  }

  /** Gives every partition back (stop / SIGTERM): others take them at their next tick. */
  async releaseAll(): Promise<void> {
    this.closed = true;
    for (const p of this.partitionsHeld) await this.release(p);
    await this.kv.delete(`c.${this.id}`).catch(() => undefined);
  }
}
