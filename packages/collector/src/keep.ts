/**
 * Whole-trace decisions (rules `keep`): points are held per trace until `waitMs` after the
 * trace's last point arrived, then the trace is written if it holds an error point
 * (`errors`) or spans at least `slowerThanMs`, and dropped (counted) otherwise. A message
 * is acknowledged once every trace it carried is decided (and, if kept, written). Memory
 * is bounded: above `maxPoints` held, the traces idle longest are decided at once
 * (counted as forced). Works per partition, and a trace lives in one partition, so one
 * collector sees all of it.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { recordFailure } from '@osprofiler/core/instrument';
import type { CollectorMetrics } from './metrics';
import { PointSet } from './points';
import type { KeepRules } from './rules';
import type { Store, WriteItem } from './store';

interface MsgRef {
  msg: JsMsg;
  pending: number;
}

interface Trace {
  baseId: string;
  partition: number;
  parts: WriteItem[];
  refs: MsgRef[];
  points: number;
  error: boolean;
  first: number;
  last: number;
  arrived: number;
}

function tsMs(ts: string): number {
  const t = Date.parse(ts.endsWith('Z') ? ts : ts + 'Z');
  return Number.isNaN(t) ? 0 : t;
}

export class Keeper {
  /** Insertion order = order of last arrival (a trace is moved to the end when it grows). */
  private traces = new Map<string, Trace>();
  held = 0;
  private timer: NodeJS.Timeout;
  private deciding = false;

  constructor(
    private readonly rules: Required<KeepRules>,
    private readonly store: Store,
    private readonly metrics: CollectorMetrics,
  ) {
    this.timer = setInterval(() => void this.tick(false), Math.max(50, Math.min(1000, this.rules.waitMs / 4)));
    this.timer.unref();
  }

  hold(partition: number, entries: { msg: JsMsg; item: WriteItem }[]): void {
    const now = Date.now();
    for (const { msg, item } of entries) {
      const byTrace = new Map<string, PointSet>();
      const p = item.points;
      for (let i = 0; i < p.count; i++) {
        let s = byTrace.get(p.baseIds[i]);
        if (s === undefined) byTrace.set(p.baseIds[i], (s = new PointSet()));
        s.pushFrom(p, i);
      }
      if (byTrace.size === 0) {
        msg.ack();
        this.metrics.acks++;
        continue;
      }
      const ref: MsgRef = { msg, pending: byTrace.size };
      for (const [baseId, s] of byTrace) {
        let t = this.traces.get(baseId);
        if (t === undefined) t = { baseId, partition, parts: [], refs: [], points: 0, error: false, first: Infinity, last: -Infinity, arrived: now };
        else this.traces.delete(baseId); // re-inserted at the end: most recent arrival
        this.traces.set(baseId, t);
        // Idempotency key per (message, trace): a redelivery writes nothing twice.
        t.parts.push({ key: `${item.key}/${baseId}`, points: s });
        t.refs.push(ref);
        t.points += s.count;
        this.held += s.count;
        t.arrived = now;
        for (let i = 0; i < s.count; i++) {
          if (s.isError(i)) t.error = true;
          const ms = tsMs(s.timestamps[i]);
          if (ms < t.first) t.first = ms;
          if (ms > t.last) t.last = ms;
        }
      }
    }
    if (this.held > this.rules.maxPoints) void this.tick(false);
  }

  private async tick(all: boolean): Promise<void> {
    if (this.deciding) return;
    this.deciding = true;
    try {
      const now = Date.now();
      const due: Trace[] = [];
      let over = this.held - this.rules.maxPoints;
      for (const t of this.traces.values()) {
        if (all || t.arrived + this.rules.waitMs <= now) due.push(t);
        else if (over > 0) {
          due.push(t);
          over -= t.points;
          this.metrics.keepForced++;
        } else break; // later ones arrived later still
      }
      for (const t of due) this.traces.delete(t.baseId);
      const keep = due.filter((t) => (this.rules.errors && t.error) || t.last - t.first >= this.rules.slowerThanMs);
      if (keep.length > 0) {
        try {
          const r = await this.store.write(keep.flatMap((t) => t.parts));
          this.metrics.written += r.written;
          this.metrics.duplicates += r.duplicates;
        } catch (err) {
          // Not written: give the traces back to wait for the next round (messages stay unacknowledged).
          recordFailure('collector.keep.write', err);
          this.metrics.writeErrors++;
          for (const t of keep) this.traces.set(t.baseId, t);
          const kept = new Set(keep);
          for (const t of due) if (!kept.has(t)) this.settle(t, false);
          for (const t of keep) for (const r of t.refs) r.msg.working();
          return;
        }
      }
      const kept = new Set(keep);
      for (const t of due) this.settle(t, kept.has(t));
      // Held messages must not time out while their traces wait.
      for (const t of this.traces.values()) for (const r of t.refs) if (t.arrived + 5000 < now) r.msg.working();
    } finally {
      this.deciding = false;
    }
  }

  private settle(t: Trace, kept: boolean): void {
    this.held -= t.points;
    if (kept) this.metrics.tracesKept++;
    else {
      this.metrics.tracesDropped++;
      this.metrics.keepDroppedPoints += t.points;
    }
    for (const r of t.refs) {
      if (--r.pending === 0) {
        r.msg.ack();
        this.metrics.acks++;
      }
    }
  }

  /** The partition went to another collector: forget its traces (their messages come again there). */
  forget(partition: number): void {
    for (const [id, t] of this.traces) {
      if (t.partition !== partition) continue;
      this.traces.delete(id);
      this.held -= t.points;
      for (const r of t.refs) if (r.pending > 0) {
        r.pending = 0;
        r.msg.nak();
      }
    }
  }

  /** Decides everything held now (stop / SIGTERM). */
  async flush(): Promise<void> {
    while (this.deciding) await new Promise((r) => setTimeout(r, 20));
    await this.tick(true);
    clearInterval(this.timer);
  }
}
