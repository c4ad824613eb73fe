/**
 * How signed trace info travels with a message, per transport.
 *
 * - NATS: message headers (`NatsRecord`), read back from `NatsContext.getHeaders()`.
 * - RabbitMQ: AMQP message headers (`RmqRecord` options), read back from
 *   `RmqContext.getMessage().properties.headers`.
 * - TCP has no headers: `ProfilerTcpSerializer` (client) adds an `osprofiler` field to the
 *   packet next to `pattern`/`data`/`id`; `ProfilerTcpDeserializer` (server) removes it and
 *   continues the trace. A server without the deserializer ignores the extra field.
 * Records the user built (`NatsRecordBuilder`, `RmqRecordBuilder`) keep their own headers.
 */
import type { TraceHeaders } from '@osprofiler/core';
import { optionalRequire } from '@osprofiler/core/instrument';
import { contained } from './contained';

type Ms = {
  NatsRecord: new (data: unknown, headers?: unknown) => { data: unknown; headers?: { set(k: string, v: string): void } };
  RmqRecord: new (data: unknown, options?: Record<string, unknown>) => { data: unknown; options?: Record<string, unknown> };
};

let ms: Ms | null | undefined;
export function microservices(): Ms | null {
  if (ms === undefined) {
    ms = optionalRequire<Ms>(require, '@nestjs/microservices', 'nestjs') ?? null;
  }
  return ms;
}

let natsHeaders: (() => { set(k: string, v: string): void }) | null | undefined;
function newNatsHeaders(): { set(k: string, v: string): void } | undefined {
  if (natsHeaders === undefined) {
    natsHeaders = null;
    // Nest 11 uses nats.js 2 (`nats`), Nest 12 nats.js 3 (`@nats-io/transport-node`).
    for (const name of ['nats', '@nats-io/transport-node']) {
      const h = optionalRequire<{ headers?: () => { set(k: string, v: string): void } }>(require, name, 'nestjs')?.headers;
      if (typeof h === 'function') {
        natsHeaders = h;
        break;
      }
    }
  }
  return natsHeaders === null ? undefined : natsHeaders();
}

/** The message data to send instead of `data`, carrying `h` (same data when the transport has no headers). */
export function withTraceInfo(transport: string, data: unknown, h: TraceHeaders): unknown {
  const m = microservices();
  if (m === null) return data;
  try {
    if (transport === 'nats') {
      if (data instanceof m.NatsRecord) {
        if (data.headers === undefined) return new m.NatsRecord(data.data, withHeaders(newNatsHeaders(), h));
        withHeaders(data.headers, h);
        return data;
      }
      const headers = withHeaders(newNatsHeaders(), h);
      return headers === undefined ? data : new m.NatsRecord(data, headers);
    }
    if (transport === 'rmq') {
      if (data instanceof m.RmqRecord) {
        const options = { ...(data.options ?? {}) };
        options.headers = { ...((options.headers as object | undefined) ?? {}), ...h };
        return new m.RmqRecord(data.data, options);
      }
      return new m.RmqRecord(data, { headers: { ...h } });
    }
  } catch (err) {
    contained('carry', err);
  }
  return data;
}

function withHeaders<T extends { set(k: string, v: string): void } | undefined>(headers: T, h: TraceHeaders): T {
  if (headers === undefined) return headers;
  headers.set('X-Trace-Info', h['X-Trace-Info']);
  headers.set('X-Trace-HMAC', h['X-Trace-HMAC']);
  return headers;
}

/** The incoming trace headers of a handler's context, as a plain carrier for core's `extract`. */
export function incomingCarrier(transport: string, ctx: unknown): Record<string, unknown> | undefined {
  try {
    if (transport === 'nats') {
      const h = (ctx as { getHeaders(): { get(k: string): string } | undefined }).getHeaders();
      if (h === undefined || h === null) return undefined;
      // nats' MsgHdrs.get returns '' for a missing key.
      return { 'X-Trace-Info': h.get('X-Trace-Info') || undefined, 'X-Trace-HMAC': h.get('X-Trace-HMAC') || undefined };
    }
    if (transport === 'rmq') {
      const msg = (ctx as { getMessage(): { properties?: { headers?: Record<string, unknown> } } }).getMessage();
      return msg?.properties?.headers;
    }
  } catch (err) {
    contained('carrier', err);
  }
  return undefined;
}
