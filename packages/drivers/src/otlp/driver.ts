/**
 * `otlp://host:port` driver: finished points as spans to any OpenTelemetry backend over
 * OTLP/HTTP with protobuf, serialised by OpenTelemetry's own `@opentelemetry/otlp-transformer`.
 * base_id ⇒ 128-bit trace id and trace_id ⇒ span id as Python's OTLP driver; a point whose
 * parent is the base id is a root span. A span is sent when its stop arrives; starts wait
 * (bounded by max_open_spans). Write-only: getReport/listTraces refuse.
 */
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseTimestamp } from '@osprofiler/core/instrument';
import type { DriverOptions, Notification } from '@osprofiler/core';
import type { DriverFactory } from '@osprofiler/core/instrument';
import { connectError } from '../errors';
import { newCounters, type DriverCounters } from '../inflight';
import { WriteOnlyDriver } from '../write-only';
import { requirePeer } from '../optional';
import { otelSpanId, otelTraceId } from './ids';
import { otlpSettings, type OtlpSettings } from './options';
import { spanShape } from './points';

type Transformer = typeof import('@opentelemetry/otlp-transformer');
type Resources = typeof import('@opentelemetry/resources');
type SerializeRequest = Transformer['ProtobufTraceSerializer']['serializeRequest'];
type ReadableSpan = Parameters<SerializeRequest>[0][number];
type Resource = ReadableSpan['resource'];
type HrTime = [number, number];

export interface OtlpCounters extends DriverCounters {
  /** Spans sent (one per finished point). */
  spans: number;
  /** Starts dropped because max_open_spans was reached before their stop came. */
  droppedStarts: number;
}

const SCOPE = { name: '@osprofiler/drivers', version: '0.1.0' };

function hrTime(ts: string): HrTime | undefined {
  const us = parseTimestamp(ts);
  return us === undefined ? undefined : [Number(us / 1_000_000n), Number(us % 1_000_000n) * 1000];
}

function hrDiff(a: HrTime, b: HrTime): HrTime {
  let s = b[0] - a[0];
  let ns = b[1] - a[1];
  if (ns < 0) {
    ns += 1e9;
    s -= 1;
  }
  return s < 0 ? [0, 0] : [s, ns];
}

export class OtlpDriver extends WriteOnlyDriver {
  protected readonly readHint =
    'otlp:// is write-only: read the trace in your OpenTelemetry backend, or store it with another driver too';
  readonly scheme = 'otlp';
  readonly counters: OtlpCounters = { ...newCounters(), spans: 0, droppedStarts: 0 };
  /** Starts waiting for their stop, by trace_id, oldest first. */
  private readonly open = new Map<string, Notification>();
  private readonly resources = new Map<string, Resource>();

  constructor(
    readonly settings: Readonly<OtlpSettings>,
    private readonly serialize: SerializeRequest,
    private readonly makeResource: Resources['resourceFromAttributes'],
  ) {
    super();
  }

  notify(batch: readonly Notification[]): Promise<void> {
    if (this.closed) throw new Error(`otlp:// driver for ${this.settings.endpoint.host} is closed`);
    const spans: ReadableSpan[] = [];
    for (const n of batch) {
      const name = String(n.name);
      if (name.endsWith('-start')) {
        if (this.open.size >= this.settings.maxOpenSpans) {
          const oldest = this.open.keys().next().value as string;
          this.open.delete(oldest);
          this.counters.droppedStarts++;
        }
        this.open.set(String(n.trace_id), n);
      } else if (name.endsWith('-stop')) {
        const start = this.open.get(String(n.trace_id));
        this.open.delete(String(n.trace_id));
        const span = this.toSpan(start ?? n, n, name.slice(0, -'-stop'.length));
        if (span !== undefined) spans.push(span);
        else this.counters.failed++;
      }
    }
    if (spans.length === 0) return Promise.resolve();
    let body: Uint8Array | undefined;
    try {
      body = this.serialize(spans);
    } catch (err) {
      this.counters.failed += spans.length;
      throw err;
    }
    if (body === undefined) throw new Error('otlp:// could not serialise the spans');
    return this.inflight.track(this.post(body, spans.length));
  }

  private resourceFor(n: Notification): Resource {
    const service = n.service ?? this.settings.service;
    const project = n.project ?? this.settings.project;
    const host = typeof n.info?.host === 'string' ? n.info.host : '';
    const key = JSON.stringify([service, project, host]);
    let r = this.resources.get(key);
    if (r === undefined) {
      const attrs: Record<string, string> = { 'service.name': this.settings.serviceNamePrefix + (service ?? 'unknown_service') };
      if (project !== null && project !== undefined) attrs['service.namespace'] = String(project);
      if (host !== '') attrs['host.name'] = host;
      r = this.makeResource(attrs);
      this.resources.set(key, r);
    }
    return r;
  }

  private toSpan(start: Notification, stop: Notification, point: string): ReadableSpan | undefined {
    const startTime = hrTime(String(start.timestamp));
    const endTime = hrTime(String(stop.timestamp));
    if (startTime === undefined || endTime === undefined) return undefined;
    const baseId = String(stop.base_id);
    const traceId = otelTraceId(baseId);
    const spanId = otelSpanId(String(stop.trace_id));
    const parentId = String(stop.parent_id);
    const shape = spanShape(point, start === stop ? {} : (start.info as Record<string, unknown>), stop.info as Record<string, unknown>);
    shape.attributes['osprofiler.base_id'] = baseId;
    shape.attributes['osprofiler.trace_id'] = String(stop.trace_id);
    shape.attributes['osprofiler.parent_id'] = parentId;
    return {
      name: shape.name,
      kind: shape.kind,
      spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
      parentSpanContext: parentId === baseId ? undefined : { traceId, spanId: otelSpanId(parentId), traceFlags: 1, isRemote: false },
      startTime,
      endTime,
      status: shape.error ? { code: 2, message: `${shape.error.type}: ${shape.error.message}` } : { code: 0 },
      attributes: shape.attributes,
      links: [],
      events: shape.error
        ? [{ name: 'exception', time: endTime, attributes: { 'exception.type': shape.error.type, 'exception.message': shape.error.message } }]
        : [],
      duration: hrDiff(startTime, endTime),
      ended: true,
      resource: this.resourceFor(stop),
      instrumentationScope: SCOPE,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    } as ReadableSpan;
  }

  private async post(body: Uint8Array, spans: number): Promise<void> {
    try {
      await postProtobuf(this.settings.endpoint, body, this.settings.timeoutMs);
    } catch (err) {
      this.counters.failed += spans;
      throw err;
    }
    this.counters.spans += spans;
    this.counters.written += spans;
    this.counters.batches++;
  }

  /** Starts still waiting for their stop. */
  get openSpans(): number {
    return this.open.size;
  }


  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    await this.flush(timeoutMs);
    this.closed = true;
  }
}

function postProtobuf(url: URL, body: Uint8Array, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.byteLength }, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300
            ? resolve()
            : reject(new Error(`OTLP receiver ${url.host} answered HTTP ${res.statusCode}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`OTLP receiver ${url.host} did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Checks the receiver accepts TCP connections, so a wrong host or port fails at start-up. */
function probe(url: URL, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const s = connect({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, timeout: timeoutMs });
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('timeout', () => s.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    s.once('error', reject);
  });
}

export async function createOtlpDriver(url: URL, options: Partial<DriverOptions> = {}): Promise<OtlpDriver> {
  const settings = otlpSettings(url, options);
  const scheme = url.protocol.slice(0, -1);
  const { ProtobufTraceSerializer } = requirePeer<Transformer>('@opentelemetry/otlp-transformer', scheme);
  const { resourceFromAttributes } = requirePeer<Resources>('@opentelemetry/resources', scheme);
  try {
    await probe(settings.endpoint, Math.min(settings.timeoutMs, 5000));
  } catch (err) {
    throw connectError(scheme, settings.endpoint.host, err);
  }
  return new OtlpDriver(settings, (spans) => ProtobufTraceSerializer.serializeRequest(spans), resourceFromAttributes);
}

export const otlpDriverFactory: DriverFactory = (url, options) => createOtlpDriver(url, options);
