/** Building contract messages by hand (PROTOCOL.md §Upstream), as an agent would publish them — or not. */
import { randomUUID } from 'node:crypto';
import { UPSTREAM_SCHEMA_VERSION, UpstreamHeaders, notificationText, partitionOf, pointsSubject } from '@osprofiler/agent';
import type { Notification } from '@osprofiler/core';
import { headers } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';

export function point(baseId: string, name: string, extra: Omit<Partial<Notification>, 'info'> & { info?: Record<string, unknown> } = {}, ts = '2026-12-03T10:00:00.000000'): Notification {
  return {
    name,
    base_id: baseId,
    trace_id: randomUUID(),
    parent_id: baseId,
    timestamp: ts,
    project: 'shop',
    service: 'app',
    ...extra,
    info: { host: 'h', ...(extra.info ?? {}) },
  };
}

export function body(lines: string[], errors: number[] = []): Buffer {
  const text = lines.map((l) => l + '\n').join('');
  const b = Buffer.alloc(5 + 4 * errors.length + Buffer.byteLength(text));
  b[0] = 0x4c;
  b.writeUInt32BE(errors.length, 1);
  errors.forEach((e, i) => b.writeUInt32BE(e, 5 + 4 * i));
  b.write(text, 5 + 4 * errors.length, 'latin1');
  return b;
}

/** A base id that falls in `partition`. */
export function baseIn(partition: number, partitions: number): string {
  for (;;) {
    const id = randomUUID();
    if (partitionOf(id, partitions) === partition) return id;
  }
}

export async function publish(
  js: JetStreamClient,
  prefix: string,
  partition: number,
  data: Buffer,
  opts: { schema?: string; points?: number; msgId?: string; project?: string } = {},
): Promise<void> {
  const h = headers();
  h.set(UpstreamHeaders.SCHEMA, opts.schema ?? UPSTREAM_SCHEMA_VERSION);
  h.set(UpstreamHeaders.AGENT, 'test');
  if (opts.points !== undefined) h.set(UpstreamHeaders.POINTS, String(opts.points));
  await js.publish(pointsSubject(prefix, opts.project ?? 'shop', partition), data, { headers: h, msgID: opts.msgId ?? randomUUID() });
}

export function lines(ns: Notification[]): string[] {
  return ns.map((n) => notificationText(n));
}
