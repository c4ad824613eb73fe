/**
 * A shared file:// store in a temp dir: this test process and the child processes /
 * worker threads it starts all write there, and reports are read back with core's driver.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configure, createDriver, flush, shutdown } from '@osprofiler/core';
import type { Report, ReportNode } from '@osprofiler/core';
import { KEY } from './trace';

export const PKG = join(__dirname, '..', '..');
export const REGISTER = join(PKG, 'dist', 'register.js');
export const fixture = (f: string): string => join(__dirname, '..', 'fixtures', f);

export interface Store {
  dir: string;
  url: string;
  /** The OSPROFILER_* variables a child needs to store its points here (keys via its own config). */
  env(keys?: string): NodeJS.ProcessEnv;
  /** Flat list of the points of a trace, read back from the files. */
  points(baseId: string): Promise<FlatPoint[]>;
  /** Waits until the trace holds `n` finished points (children flush on their own), bounded. */
  waitFor(baseId: string, n: number, timeoutMs?: number): Promise<FlatPoint[]>;
  close(): Promise<void>;
}

export interface FlatPoint {
  name: string;
  traceId: string;
  parentId: string;
  start: Record<string, unknown>;
  stop: Record<string, unknown> | undefined;
  host: string;
}

function flatten(nodes: ReportNode[], out: FlatPoint[]): void {
  for (const n of nodes) {
    const s = n.info[`meta.raw_payload.${n.info.name}-start`] as { info?: Record<string, unknown> } | undefined;
    const e = n.info[`meta.raw_payload.${n.info.name}-stop`] as { info?: Record<string, unknown> } | undefined;
    out.push({ name: n.info.name, traceId: n.trace_id, parentId: n.parent_id, start: s?.info ?? {}, stop: e?.info, host: n.info.host });
    flatten(n.children, out);
  }
}

export function openStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'osp-node-exec-'));
  const url = `file://${dir}`;
  configure({ connectionString: url, hmacKeys: [KEY], flushIntervalMs: 5 });
  const driver = createDriver(url);
  const points = async (baseId: string): Promise<FlatPoint[]> => {
    await flush();
    const report: Report = await (await driver).getReport(baseId);
    const out: FlatPoint[] = [];
    flatten(report.children, out);
    return out;
  };
  return {
    dir,
    url,
    env: (keys = KEY) => ({
      ...process.env,
      OSPROFILER_HMAC_KEYS: keys,
      OSPROFILER_CONNECTION_STRING: url,
      OSPROFILER_FLUSH_INTERVAL_MS: '5',
    }),
    points,
    async waitFor(baseId, n, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const p = await points(baseId);
        if (p.filter((x) => x.stop !== undefined).length >= n || Date.now() > until) return p;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await shutdown();
      await (await driver).close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
