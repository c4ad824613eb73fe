/**
 * Interop with Debian's python3-osprofiler through a real redis-server of this file's own
 * (support/redis; Python's CLI and driver are pointed at it, so `trace list` sees only the
 * traces this file seeded): traces Node wrote are read by Python's driver and CLI, traces
 * Python wrote are read by ours, and one trace written by both is one tree for both CLIs.
 * Fails (never skips) without Python OSProfiler.
 */
import { configure, continueFrom, flush, formatReportJson, get, run, shutdown, traced, traceHeaders } from '@osprofiler/core';
import type { Report, ReportNode } from '@osprofiler/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '../src/register'; // registers redis:// with core
import { createRedisDriver, type RedisDriver } from '../src/index';
import { RedisFixture } from './support/redis';
import { nodeCli, peer, pythonCli, requirePythonOsprofiler } from './support/python';
import { everyKind, HMAC_KEY, inTrace } from './support/trace';

// Several Python processes per test (each start takes seconds on a loaded 2-core machine).
vi.setConfig({ testTimeout: 90_000 });

const redis = new RedisFixture();
let CS: string;
let driver: RedisDriver;

beforeAll(async () => {
  requirePythonOsprofiler();
  await redis.start();
  CS = redis.url();
  driver = await createRedisDriver(new URL(CS), { filterErrorTrace: true });
  configure({ connectionString: CS, project: 'shop', service: 'orders', filterErrorTrace: true, hmacKeys: [HMAC_KEY], flushIntervalMs: 5 });
});
afterAll(async () => {
  await shutdown();
  await driver.close();
  await redis.close();
});

/** `osprofiler trace show --json` as our driver + core print it (print() adds the newline). */
async function ourJson(baseId: string): Promise<string> {
  return formatReportJson(await driver.getReport(baseId)) + '\n';
}

function pyReport(baseId: string): string {
  return peer(['report', '--base-id', baseId, '--connection', CS]);
}

/** The tree as point names; siblings sorted (points started in the same ms have no set order). */
function names(nodes: readonly ReportNode[]): unknown[] {
  const key = (v: unknown) => JSON.stringify(v);
  return nodes
    .map((n) => (n.children.length === 0 ? n.info.name : { [n.info.name]: names(n.children) }))
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function find(report: Report, name: string): ReportNode {
  const stack = [...report.children];
  while (stack.length > 0) {
    const n = stack.shift()!;
    if (n.info.name === name) return n;
    stack.push(...n.children);
  }
  throw new Error(`no ${name} point`);
}

// peer `emit`'s tree; with --error a second, failing peer_leaf follows the first.
const PYTHON_TREE = { peer_emit: [{ peer_outer: [{ peer_inner: [{ peer_leaf: ['db'] }] }] }] };
// support/trace.ts everyKind()'s wsgi point's children, sorted as names() sorts them.
const NODE_WSGI = ['driver', 'exec', 'thread', { rpc: [{ driver: [{ db: ['sql'] }] }] }];
const PYTHON_TREE_WITH_ERROR = { peer_emit: [{ peer_outer: [{ peer_inner: ['peer_leaf', { peer_leaf: ['db'] }] }] }] };

describe('Node writes, Python reads', () => {
  let baseId: string;
  beforeAll(async () => {
    baseId = redis.track(await inTrace(everyKind));
    await flush();
  });

  it("Python's driver builds the byte-identical report", async () => {
    const ours = await ourJson(baseId);
    expect(names(JSON.parse(ours).children)).toEqual([{ wsgi: NODE_WSGI }]);
    expect(pyReport(baseId)).toBe(ours);
  });

  it('the real `osprofiler trace show --json` prints the same bytes, and `--dot` succeeds', async () => {
    const json = pythonCli(['trace', 'show', '--json', baseId, '--connection-string', CS]);
    expect(json.stderr).toBe('');
    expect(json.stdout).toBe(await ourJson(baseId));
    const dot = pythonCli(['trace', 'show', '--dot', baseId, '--connection-string', CS]);
    expect(dot.status, dot.stderr).toBe(0);
    expect(dot.stdout).toContain('orders:wsgi - ');
    expect(dot.stdout).toContain('\\nGET /orders/42..');
    expect(dot.stdout).toMatch(/orders:driver - \d+ ms\\nload"/); // driver: the last .-part of function.name
    expect(nodeCli(['trace', 'show', '--dot', baseId, '--connection-string', CS]).stdout).toBe(dot.stdout);
  });

  it('the real `osprofiler trace list` (and --error-trace) list it', async () => {
    const listed = pythonCli(['trace', 'list', '--connection-string', CS]);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(baseId);
    const errors = pythonCli(['trace', 'list', '--error-trace', '1', '--connection-string', CS]);
    expect(errors.status, errors.stderr).toBe(0);
    expect(errors.stdout).toContain(baseId);
    // Python's and our listings agree on the timestamp shown.
    const py = JSON.parse(peer(['list', '--connection', CS])) as { base_id: string; timestamp: string }[];
    expect((await driver.listTraces()).find((t) => t.base_id === baseId)).toEqual(py.find((t) => t.base_id === baseId));
    const pyErrors = JSON.parse(peer(['list', '--error-trace', '--connection', CS])) as { base_id: string }[];
    expect((await driver.listErrorTraces()).find((t) => t.base_id === baseId)).toEqual(pyErrors.find((t) => t.base_id === baseId));
  });
});

describe('Python writes, Node reads', () => {
  it('our driver builds the same report bytes as Python, and our CLI prints them', async () => {
    const baseId = redis.track(peer(['emit', '--key', HMAC_KEY, '--connection', CS, '--error', '--project', 'py', '--service', 'pysvc']).trim());
    const py = pyReport(baseId);
    expect(await ourJson(baseId)).toBe(py);
    expect(names((await driver.getReport(baseId)).children)).toEqual([PYTHON_TREE_WITH_ERROR]);
    const leaves = find(await driver.getReport(baseId), 'peer_inner').children.map((c) => c.info.exception);
    expect(leaves.sort()).toEqual(['None', 'ValueError']);
    const cli = nodeCli(['trace', 'show', baseId, '--json', '--connection-string', CS]);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toBe(py);
    expect((await driver.listErrorTraces()).map((t) => t.base_id)).toContain(baseId);
  });
});

describe('one trace, both languages', () => {
  it('begun in Python, continued by Node through signed headers: one report, the same tree from both CLIs', async () => {
    const baseId = redis.track(peer(['emit', '--key', HMAC_KEY, '--connection', CS, '--service', 'pysvc']).trim());
    const inner = find(await driver.getReport(baseId), 'peer_inner');
    // The signed headers Python sends from inside peer_inner (get_trace_id_headers), and a
    // Node service that verifies them and continues the trace.
    const headers = JSON.parse(peer(['headers', '--key', HMAC_KEY, '--base-id', baseId, '--parent-id', inner.trace_id])) as Record<string, string>;
    expect(Object.keys(headers).sort()).toEqual(['X-Trace-HMAC', 'X-Trace-Info']);
    const continued = await continueFrom({ 'x-trace-info': headers['X-Trace-Info'], 'x-trace-hmac': headers['X-Trace-HMAC'] }, async () => {
      await everyKind();
      return get()?.baseId;
    });
    expect(continued).toBe(baseId);
    await flush();

    const report = await driver.getReport(baseId);
    expect(find(report, 'wsgi').parent_id).toBe(inner.trace_id);
    expect(names(report.children)).toEqual([
      { peer_emit: [{ peer_outer: [{ peer_inner: [{ peer_leaf: ['db'] }, { wsgi: NODE_WSGI }] }] }] },
    ]);
    const py = pythonCli(['trace', 'show', '--json', baseId, '--connection-string', CS]);
    const ours = nodeCli(['trace', 'show', baseId, '--json', '--connection-string', CS]);
    expect(py.stderr).toBe('');
    expect(ours.stdout).toBe(py.stdout);
    expect(ours.stdout).toBe(await ourJson(baseId));
    const dot = pythonCli(['trace', 'show', '--dot', baseId, '--connection-string', CS]);
    expect(dot.status, dot.stderr).toBe(0);
    expect(nodeCli(['trace', 'show', '--dot', baseId, '--connection-string', CS]).stdout).toBe(dot.stdout);
  });

  it('begun in Node, continued by Python from our signed headers: one report, the same tree from both CLIs', async () => {
    let wsgiId = '';
    const baseId = redis.track(
      await run({ hmacKey: HMAC_KEY }, () =>
        traced('wsgi', { request: { method: 'GET', path: '/mixed', query: '', scheme: 'http' } }, async () => {
          const p = get()!;
          wsgiId = p.currentId;
          // The headers an outgoing call from here carries, verified by Python's signed_unpack;
          // Python then continues the trace with what it unpacked.
          const h = traceHeaders()!;
          const unpacked = JSON.parse(peer(['verify', '--key', HMAC_KEY, '--info', h['X-Trace-Info'], '--hmac', h['X-Trace-HMAC']])) as Record<string, string>;
          expect(unpacked).toEqual({ base_id: p.baseId, parent_id: wsgiId, hmac_key: HMAC_KEY });
          peer(['emit', '--key', HMAC_KEY, '--connection', CS, '--base-id', unpacked.base_id, '--parent-id', unpacked.parent_id, '--service', 'pysvc']);
          return p.baseId;
        }),
      ),
    );
    await flush();
    const report = await driver.getReport(baseId);
    expect(names(report.children)).toEqual([{ wsgi: [PYTHON_TREE] }]);
    expect(find(report, 'peer_emit').parent_id).toBe(wsgiId);
    const py = pythonCli(['trace', 'show', '--json', baseId, '--connection-string', CS]);
    expect(py.stderr).toBe('');
    expect(nodeCli(['trace', 'show', baseId, '--json', '--connection-string', CS]).stdout).toBe(py.stdout);
    expect(pyReport(baseId)).toBe(await ourJson(baseId));
  });
});
