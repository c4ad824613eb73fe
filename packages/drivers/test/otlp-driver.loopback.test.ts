/**
 * otlp:// to an OTLP/HTTP receiver on loopback: the export decodes with the official
 * opentelemetry-proto definitions (protobufjs), Debian's `protoc --decode` agrees, and
 * trace/span ids and parent links form the same tree as the stored report.
 */
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configure, createDriver, flush, MemoryDriver, shutdown } from '@osprofiler/core';
import type { Driver, Notification, ReportNode } from '@osprofiler/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import '../src/register'; // registers otlp:// with core
import { exportTrace, OtlpDriver, otelSpanId, otelTraceId } from '../src/index';
import { decodeWithProtobufjs, protocDecode, spansFromProtoc, startReceiver, type DecodedSpan } from './support/otlp';
import { everyKind, inTrace } from './support/trace';

let rx: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  rx = await startReceiver();
});
afterAll(async () => {
  await shutdown();
  await new Promise((r) => rx.server.close(r));
});

describe('otlp:// export', () => {
  afterEach(() => shutdown());

  it('sends every finished point as a span; ids and parent links form the report tree', async () => {
    const memory = new MemoryDriver();
    const otlp = (await createDriver(`otlp://127.0.0.1:${rx.port}`, { project: 'shop', service: 'orders' })) as OtlpDriver;
    const tee: Driver = {
      scheme: 'tee',
      async notify(batch) {
        memory.notify(batch);
        await otlp.notify(batch);
      },
      getReport: (id) => memory.getReport(id),
      listTraces: () => memory.listTraces(),
      listErrorTraces: () => memory.listErrorTraces(),
      flush: (t) => otlp.flush(t),
      close: () => otlp.close(),
    };
    configure({ driver: tee, project: 'shop', service: 'orders', flushIntervalMs: 5 });
    rx.bodies.length = 0;
    const baseId = await inTrace(everyKind);
    await flush();
    expect(rx.paths.every((p) => p === '/v1/traces')).toBe(true);
    expect(rx.types.every((t) => t === 'application/x-protobuf')).toBe(true);

    const spans = rx.bodies.flatMap((b) => decodeWithProtobufjs(b));
    const report = await memory.getReport(baseId);
    const nodes: ReportNode[] = [];
    const walk = (ns: ReportNode[]) => ns.forEach((n) => (nodes.push(n), walk(n.children)));
    walk(report.children);
    expect(spans).toHaveLength(nodes.length);
    const bySpan = new Map(spans.map((s) => [s.spanId, s]));
    for (const n of nodes) {
      const s = bySpan.get(otelSpanId(n.trace_id))!;
      expect(s, n.info.name).toBeDefined();
      expect(s.traceId).toBe(baseId.replace(/-/g, ''));
      expect(s.spanId).toBe(n.trace_id.replace(/-/g, '').slice(16));
      // A root point (parent = base id) is a root span; every other parent is the parent point's span.
      expect(s.parentSpanId).toBe(n.parent_id === baseId ? '' : otelSpanId(n.parent_id));
      expect(s.attributes['osprofiler.point']).toBe(n.info.name);
      expect(s.resource).toEqual({ 'service.name': 'orders', 'service.namespace': 'shop', 'host.name': n.info.host });
      expect(BigInt(s.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(s.startTimeUnixNano));
    }

    const one = (point: string, pred: (s: DecodedSpan) => boolean = () => true) =>
      spans.find((s) => s.attributes['osprofiler.point'] === point && pred(s))!;
    expect(one('wsgi')).toMatchObject({
      name: 'GET /orders/:id',
      kind: 2, // SPAN_KIND_SERVER
      attributes: { 'http.request.method': 'GET', 'url.path': '/orders/42', 'url.query': 'full=1', 'url.scheme': 'http', 'http.route': '/orders/:id', 'http.response.status_code': 200 },
    });
    expect(one('rpc')).toMatchObject({ kind: 3, attributes: { 'url.full': 'http://inventory:8080/items/7', 'server.address': 'inventory', 'server.port': 8080, 'http.response.status_code': 200 } });
    expect(one('db')).toMatchObject({ name: 'select orders', kind: 3, attributes: { 'db.system.name': 'postgresql', 'db.collection.name': 'orders', 'db.namespace': 'shop', 'db.response.returned_rows': 1 } });
    expect(one('sql')).toMatchObject({ name: 'SELECT', attributes: { 'db.query.text': 'select * from "orders" where "id" = ?' } });
    expect(one('exec')).toMatchObject({ name: 'git', attributes: { 'process.executable.name': 'git', 'process.pid': 4242, 'process.exit.code': 0 } });
    expect(one('thread')).toMatchObject({ attributes: { 'thread.id': 1, 'code.file.path': '/srv/resize.js', 'process.exit.code': 0 } });
    const failed = one('driver', (s) => s.status.code === 2);
    expect(failed).toMatchObject({
      name: 'payments.PaymentService.charge',
      status: { code: 2, message: 'TypeError: card declined' },
      attributes: { 'error.type': 'TypeError', 'code.function.name': 'payments.PaymentService.charge' },
      events: [{ name: 'exception', attributes: { 'exception.type': 'TypeError', 'exception.message': 'card declined' } }],
    });

    // A second, independent decoder reads the same spans from the same bytes.
    const fromProtoc = rx.bodies.flatMap((b) => spansFromProtoc(protocDecode(b)));
    const key = (s: { traceId: string; spanId: string; parentSpanId: string; name: string }) => `${s.traceId}/${s.spanId}/${s.parentSpanId}/${s.name}`;
    expect(fromProtoc.map(key).sort()).toEqual(spans.map(key).sort());
    expect(new Set(fromProtoc.map((s) => s.kind))).toEqual(new Set(['SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_INTERNAL']));
  });

  it('waits for the stop: a start alone sends nothing; ids that are not UUIDs are hashed', async () => {
    const otlp = (await createDriver(`otlp://127.0.0.1:${rx.port}`)) as OtlpDriver;
    rx.bodies.length = 0;
    const n: Notification = { name: 'x-start', base_id: 'not-a-uuid', trace_id: randomUUID(), parent_id: 'p?', timestamp: '2026-11-23T05:00:00.000001', info: { host: 'h' }, project: null, service: null };
    await otlp.notify([n]);
    expect(rx.bodies).toHaveLength(0);
    expect(otlp.openSpans).toBe(1);
    await otlp.notify([{ ...n, name: 'x-stop', timestamp: '2026-11-23T05:00:00.250001' }]);
    const [s] = decodeWithProtobufjs(rx.bodies[0]);
    expect(s.traceId).toBe(otelTraceId('not-a-uuid'));
    expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(s.parentSpanId).toBe(otelSpanId('p?'));
    expect(s.resource).toEqual({ 'service.name': 'unknown_service', 'host.name': 'h' });
    expect(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)).toBe(250_000_000n);
    await otlp.close();
  });
});

describe('otlp:// failures', () => {
  it('start-up failure names the scheme and host', async () => {
    const closed = await startReceiver();
    const port = closed.port;
    await new Promise((r) => closed.server.close(r));
    const err = (await createDriver(`otlp://127.0.0.1:${port}`).catch((e: Error) => e)) as Error & { code?: string };
    expect(err.code).toBe('OSP_DRIVER_CONNECT');
    expect(err.message).toContain(`otlp:// storage at 127.0.0.1:${port} is not usable`);
  });

  it('a receiver answering an error: the write fails and is counted', async () => {
    const bad = await startReceiver(503);
    try {
      const otlp = (await createDriver(`otlp://127.0.0.1:${bad.port}`)) as OtlpDriver;
      const n: Notification = { name: 'x-start', base_id: randomUUID(), trace_id: randomUUID(), parent_id: 'p', timestamp: '2026-11-23T05:00:00.000001', info: { host: 'h' }, project: null, service: null };
      await otlp.notify([n]);
      await expect(otlp.notify([{ ...n, name: 'x-stop' }])).rejects.toThrow(/HTTP 503/);
      expect(otlp.counters.failed).toBe(1);
      await expect(otlp.getReport(n.base_id)).rejects.toThrow(/write-only/);
      await otlp.close();
    } finally {
      await new Promise((r) => bad.server.close(r));
    }
  });
});

describe('exportTrace (for `osprofiler trace export <base_id> --to otlp://…`)', () => {
  afterEach(() => shutdown());

  it('copies a stored trace to the OTLP receiver: one span per point, the same tree', async () => {
    const memory = new MemoryDriver();
    configure({ driver: memory, service: 'orders', flushIntervalMs: 5 });
    const baseId = await inTrace(everyKind);
    await flush();
    rx.bodies.length = 0;
    const otlp = await createDriver(`otlp://127.0.0.1:${rx.port}`);
    expect(await exportTrace(memory, baseId, otlp)).toBe(16); // 8 points
    await otlp.close();
    const spans = rx.bodies.flatMap((b) => decodeWithProtobufjs(b));
    expect(spans).toHaveLength(8);
    const report = await memory.getReport(baseId);
    const wsgi = report.children[0];
    const root = spans.find((s) => s.spanId === otelSpanId(wsgi.trace_id))!;
    expect(root.parentSpanId).toBe('');
    expect(spans.filter((s) => s.parentSpanId === root.spanId).map((s) => s.attributes['osprofiler.point']).sort()).toEqual(
      wsgi.children.map((c) => c.info.name).sort(),
    );
  });
  it('`osprofiler trace export <id> --to otlp://…` (the real CLI, from a file:// store)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'osp-export-'));
    try {
      configure({ connectionString: `file://${dir}`, service: 'orders', flushIntervalMs: 5 });
      const baseId = await inTrace(everyKind);
      await flush();
      rx.bodies.length = 0;
      const bin = path.resolve(__dirname, '../../cli/dist/bin.js');
      // Async: the receiver runs in this process and must keep answering.
      const r = await promisify(execFile)(process.execPath, [bin, 'trace', 'export', baseId, '--connection-string', `file://${dir}`, '--to', `otlp://127.0.0.1:${rx.port}`], {
        encoding: 'utf8',
        timeout: 30000,
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`exported 16 notifications of trace ${baseId}\n`);
      const spans = rx.bodies.flatMap((b) => decodeWithProtobufjs(b));
      expect(spans).toHaveLength(8);
      expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([otelTraceId(baseId)]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
