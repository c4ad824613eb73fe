/**
 * One trace across Debian's python3-osprofiler and a Node Express service, both writing to
 * a real redis-server of this file's own (tools/testing/redis-server): Python's wsgi app
 * (the peer's `serve`, its own Redis driver) forwards to Express, and Express (fetch,
 * @osprofiler/node) calls Python. Each way, one report holds both sides, and Python's
 * driver, Debian's `osprofiler trace show --json`, our driver and our CLI print the same
 * bytes. Fails (never skips) without Python OSProfiler.
 */
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { configure, createDriver, flush, formatReportJson, shutdown } from '@osprofiler/core';
import type { Driver, Report, ReportNode } from '@osprofiler/core';
import '@osprofiler/drivers/register'; // redis:// for core
import { instrumentHttpClient, uninstrumentHttpClient } from '@osprofiler/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profiler } from '../src/index';
import { requirePythonOsprofiler, runPeer } from '../../core/test/support/python-peer';
import { startPythonServer, type PythonServer } from './python-peer-server';
import { RedisServer } from '../../../tools/testing/redis-server';
import { listen, loadExpress, request, signed, type Running } from './support';

const server = new RedisServer();
let CS: string;
const KEY = 'express-py-redis-key';
const OSPROFILER_CLI = '/usr/bin/osprofiler';
const NODE_CLI = path.resolve(__dirname, '../../cli/dist/bin.js');

let driver: Driver;

beforeAll(async () => {
  requirePythonOsprofiler();
  await server.start();
  CS = server.url();
  configure({ enabled: true, connectionString: CS, hmacKeys: [KEY], service: 'node-svc', project: 'shop', flushIntervalMs: 5 });
  instrumentHttpClient();
  driver = await createDriver(CS);
});
afterAll(async () => {
  uninstrumentHttpClient();
  await shutdown();
  await driver?.close();
  await server.close();
});

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? `\n[spawn: ${r.error.message}]` : '') };
}

/** What `osprofiler trace show --json` prints, from our Redis driver (print() adds the newline). */
async function ourJson(baseId: string): Promise<string> {
  return formatReportJson(await driver.getReport(baseId)) + '\n';
}

/** The same from Python's own Redis driver (the peer's `report`). */
function pythonJson(baseId: string): string {
  const r = runPeer(['report', '--base-id', baseId, '--connection', CS]);
  if (r.status !== 0) throw new Error(`peer report failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** All four readers agree byte for byte; returns the report. */
async function sameFromEveryReader(baseId: string): Promise<Report> {
  const ours = await ourJson(baseId);
  expect(pythonJson(baseId)).toBe(ours);
  const debian = run(OSPROFILER_CLI, ['trace', 'show', '--json', baseId, '--connection-string', CS]);
  expect(debian.stderr).toBe('');
  expect(debian.status).toBe(0);
  expect(debian.stdout).toBe(ours);
  const node = run(process.execPath, [NODE_CLI, 'trace', 'show', baseId, '--json', '--connection-string', CS]);
  expect(node.stderr).toBe('');
  expect(node.status).toBe(0);
  expect(node.stdout).toBe(ours);
  return JSON.parse(ours) as Report;
}

/** The tree as "service:name" (children in report order). */
function shape(nodes: readonly ReportNode[]): unknown[] {
  return nodes.map((n) => {
    const label = `${n.info.service}:${n.info.name}`;
    return n.children.length === 0 ? label : { [label]: shape(n.children) };
  });
}

function only(report: Report, service: string, name: string): ReportNode {
  const found: ReportNode[] = [];
  const stack = [...report.children];
  while (stack.length > 0) {
    const n = stack.shift()!;
    if (n.info.name === name && n.info.service === service) found.push(n);
    stack.push(...n.children);
  }
  expect(found).toHaveLength(1);
  return found[0];
}

/** The `info` a start/stop notification carried (the report keeps it under meta.raw_payload.*). */
function payload(node: ReportNode, event: string): any {
  return (node.info[`meta.raw_payload.${event}`] as { info?: unknown } | undefined)?.info;
}

interface ServeAnswer {
  traced: boolean;
  base_id: string | null;
  wsgi_trace_id: string | null;
  wsgi_parent_id: string | null;
  result: string;
  forwarded?: { status: number; body: string };
}

describe('begun in Python (its Redis driver), continued by an Express service', () => {
  let app: Running;
  let py: PythonServer;
  let seen: { info?: string; hmac?: string } = {};
  beforeAll(async () => {
    const express = loadExpress('express');
    const a = express();
    a.use(profiler({ hmacKeys: [KEY] }));
    a.get('/node/orders/:id', (req: any, res: any) => {
      seen = { info: req.get('x-trace-info'), hmac: req.get('x-trace-hmac') };
      res.json({ id: req.params.id, from: 'node' });
    });
    app = await listen(a);
    py = await startPythonServer(['--key', KEY, '--connection', CS, '--service', 'py-svc', '--forward', `${app.url}/node/orders/42?x=1`]);
  });
  afterAll(async () => {
    await py?.stop();
    await app?.close();
  });

  it('one report: Python wsgi > Express wsgi, the same bytes from both drivers and both CLIs', async () => {
    // Headers as Python's profiler.init + get_trace_id_headers make them: a new trace.
    const h = runPeer(['headers', '--key', KEY]);
    expect(h.status, h.stderr).toBe(0);
    const headers = JSON.parse(h.stdout) as Record<string, string>;
    const r = await request(`${py.url}/v1/start`, { headers });
    expect(r.status).toBe(200);
    const answer = JSON.parse(r.body) as ServeAnswer;
    expect(answer.traced).toBe(true);
    const baseId = answer.base_id!;
    expect(answer.forwarded).toEqual({ status: 200, body: JSON.stringify({ id: '42', from: 'node' }) });
    // Express received Python's own headers (signed with the key, parent = Python's wsgi point).
    expect(seen.info).toBeTruthy();
    expect(seen.hmac).toBeTruthy();
    await flush();

    const report = await sameFromEveryReader(baseId);
    expect(shape(report.children)).toEqual([{ 'py-svc:wsgi': ['node-svc:wsgi'] }]);
    const pyWsgi = only(report, 'py-svc', 'wsgi');
    const nodeWsgi = only(report, 'node-svc', 'wsgi');
    expect(pyWsgi.trace_id).toBe(answer.wsgi_trace_id);
    expect(nodeWsgi.parent_id).toBe(answer.wsgi_trace_id);
    expect(payload(nodeWsgi, 'wsgi-start').request).toEqual({ path: '/node/orders/42', query: 'x=1', method: 'GET', scheme: 'http' });
    expect(payload(nodeWsgi, 'wsgi-stop')).toMatchObject({ response: { status_code: 200 }, request: { route: '/node/orders/:id' } });
    expect(payload(pyWsgi, 'wsgi-start').request).toMatchObject({ path: '/v1/start', method: 'GET' });
    // Express's point starts inside Python's. (Not compared: the ends. Express stamps
    // wsgi-stop when the response has been handed to the socket, which can be a ms after
    // Python has read the Content-Length bytes and closed its own point.)
    expect(nodeWsgi.info.started).toBeGreaterThanOrEqual(pyWsgi.info.started);
  });
});

describe('begun in Express, continued by Python (its Redis driver)', () => {
  let app: Running;
  let py: PythonServer;
  beforeAll(async () => {
    py = await startPythonServer(['--key', KEY, '--connection', CS, '--service', 'py-svc']);
    const express = loadExpress('express');
    const a = express();
    a.use(profiler({ hmacKeys: [KEY] }));
    a.get('/node/checkout', async (_req: any, res: any, next: any) => {
      try {
        const r = await fetch(`${py.url}/v1/charge?amount=3`);
        res.json({ status: r.status, python: (await r.json()) as ServeAnswer });
      } catch (e) {
        next(e);
      }
    });
    app = await listen(a);
  });
  afterAll(async () => {
    await app?.close();
    await py?.stop();
  });

  it("one report: Express wsgi > rpc > Python wsgi, the same bytes from both drivers and both CLIs", async () => {
    const baseId = randomUUID();
    const r = await request(`${app.url}/node/checkout`, { headers: signed(KEY, baseId, baseId) });
    expect(r.status).toBe(200);
    const { status, python } = JSON.parse(r.body) as { status: number; python: ServeAnswer };
    expect(status).toBe(200);
    expect(python).toMatchObject({ traced: true, base_id: baseId, result: 'ok' });
    await flush();

    const report = await sameFromEveryReader(baseId);
    expect(shape(report.children)).toEqual([{ 'node-svc:wsgi': [{ 'node-svc:rpc': ['py-svc:wsgi'] }] }]);
    const nodeWsgi = only(report, 'node-svc', 'wsgi');
    const rpc = only(report, 'node-svc', 'rpc');
    const pyWsgi = only(report, 'py-svc', 'wsgi');
    expect(nodeWsgi.parent_id).toBe(baseId);
    expect(rpc.parent_id).toBe(nodeWsgi.trace_id);
    // Python's wsgi point continues under our rpc point, with the parent it unpacked.
    expect(python.wsgi_parent_id).toBe(rpc.trace_id);
    expect(pyWsgi.parent_id).toBe(rpc.trace_id);
    expect(pyWsgi.trace_id).toBe(python.wsgi_trace_id);
    expect(payload(pyWsgi, 'wsgi-start').request).toMatchObject({ path: '/v1/charge', query: 'amount=3', method: 'GET' });
    expect(pyWsgi.info.started).toBeGreaterThanOrEqual(rpc.info.started);
    expect(pyWsgi.info.finished).toBeLessThanOrEqual(rpc.info.finished);
  });
});
