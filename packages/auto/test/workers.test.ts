import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createFileDriver, signedPack } from '@osprofiler/core';
import { startChild, type Child } from '../../../tools/testing/child-process';
import { httpGet } from '../../../tools/testing/http';
import { tempDir } from '../../../tools/testing/temp-dir';

// Worker threads inherit `--require @osprofiler/auto`: one that no trace started skips
// automatic mode without loading the adapters; one started inside a trace continues it.
const PKG = resolve(__dirname, '..');
const KEY = 'auto-worker-key';
const tmp = tempDir('osp-auto-workers-');
let child: Child | undefined;

afterAll(async () => {
  await child?.stop();
});

const get = httpGet;

interface WorkerReport {
  status: { enabled: boolean; adapters: string[]; notes: string[] };
  loaded: string[];
}

describe('automatic mode in worker threads', () => {
  it('an untraced worker skips it (no adapter loaded); a worker started in a trace continues the trace', async () => {
    const store = join(tmp, 'store');
    child = await startChild(
      ['--require', '@osprofiler/auto', join(__dirname, 'fixtures', 'worker-app.cjs')],
      {
        ...process.env,
        OSPROFILER_ENABLED: 'true',
        OSPROFILER_HMAC_KEYS: KEY,
        OSPROFILER_CONNECTION_STRING: `file://${store}`,
        OSPROFILER_FLUSH_INTERVAL_MS: '10',
        OSPROFILER_SERVICE: 'auto-workers',
      },
      { cwd: PKG },
    );

    const untraced = await get(child.port, '/worker');
    expect(untraced.status).toBe(200);
    const u = JSON.parse(untraced.body) as WorkerReport;
    expect(u.status).toEqual({ enabled: false, adapters: [], notes: ['worker thread not started inside a trace: automatic mode skipped'] });
    expect(u.loaded).toEqual([]);

    const baseId = randomUUID();
    const { info, hmac } = signedPack({ base_id: baseId, parent_id: baseId }, KEY);
    const traced = await get(child.port, '/worker', { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac });
    expect(traced.status).toBe(200);
    const t = JSON.parse(traced.body) as WorkerReport;
    expect(t.status.enabled).toBe(true);
    expect(t.status.adapters).toEqual(['express', 'fastify', 'nestjs', 'knex', 'typeorm', 'pg', 'node']);
    expect(t.loaded).toEqual(['core', 'express', 'fastify', 'knex', 'nestjs', 'node', 'pg', 'typeorm']);

    // The stored trace: wsgi → thread → worker.
    const driver = createFileDriver(`file://${store}`);
    try {
      const end = Date.now() + 10_000;
      let names: string[] = [];
      for (;;) {
        const r = (await driver.getReport(baseId)) as { children: { info: { name: string }; children: any[] }[] };
        const wsgi = r.children[0];
        const thread = wsgi?.children.find((c) => c.info.name === 'thread');
        names = [wsgi?.info.name, thread?.info.name, thread?.children[0]?.info.name].filter((n) => n !== undefined);
        if (names.length === 3 || Date.now() > end) break;
        await new Promise((s) => setTimeout(s, 25));
      }
      expect(names).toEqual(['wsgi', 'thread', 'worker']);
    } finally {
      await driver.close();
    }
  });
});

describe('automatic mode says what is wrong at start, once per process', () => {
  function node(env: Record<string, string>): { status: number | null; stderr: string } {
    // Main thread plus two workers (untraced): warnings are per process, not per thread.
    const app = `const { Worker } = require('node:worker_threads');
      for (let i = 0; i < 2; i++) new Worker('1', { eval: true });`;
    const r = spawnSync(process.execPath, ['--require', '@osprofiler/auto', '-e', app], {
      cwd: PKG,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, OSPROFILER_STATE_DIR: tmp, ...env },
      timeout: 30_000,
    });
    return { status: r.status, stderr: r.stderr };
  }
  const count = (text: string, needle: string): number => text.split(needle).length - 1;

  it('OSPROFILER_ENABLED=true with neither keys nor sampling: one warning', () => {
    const r = node({ OSPROFILER_ENABLED: 'true' });
    expect(r.status).toBe(0);
    expect(count(r.stderr, '[OSPROFILER_NO_KEYS]')).toBe(1);
  });

  it('keys without OSPROFILER_ENABLED: one warning naming it', () => {
    const r = node({ OSPROFILER_HMAC_KEYS: 'k' });
    expect(count(r.stderr, '[OSPROFILER_DISABLED]')).toBe(1);
    expect(r.stderr).toContain('OSPROFILER_ENABLED=true');
  });

  it('an unknown scheme turns automatic mode off, naming the field, its variable and the known schemes', () => {
    const r = node({ OSPROFILER_ENABLED: 'true', OSPROFILER_HMAC_KEYS: 'k', OSPROFILER_CONNECTION_STRING: 'nosuch://x' });
    expect(r.status).toBe(0);
    expect(count(r.stderr, 'automatic mode is off')).toBe(1);
    expect(r.stderr).toMatch(/connectionString \(OSPROFILER_CONNECTION_STRING\): no storage driver for scheme "nosuch" \(known schemes: agent, amqp, file/);
  });
});
