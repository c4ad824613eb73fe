// Honest traces: points the client had to drop (agent down, buffer full) are stored as a
// `dropped-stop` marker in their trace; Python OSProfiler's report reads it as a top-level
// `dropped` point and `osprofiler trace show` warns. Also: exit flushes, reads via agent://.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { AgentClientDriver, clientOptionsFromUrl } from '@osprofiler/agent';
import { formatReportJson, type Notification } from '@osprofiler/core';
import { requirePythonOsprofiler, runPeer } from '../../core/test/support/python-peer';
import { FIXTURES, spawnNode, startAgentProc, stopProc, tempDir } from './support/procs';
import { RedisServer } from '../../../tools/testing/redis-server';

const CLI = resolve(__dirname, '../../cli/dist/bin.js');
let redis: RedisServer;
beforeAll(async () => {
  redis = new RedisServer({ persist: true });
  await redis.start();
});
afterAll(async () => {
  await redis?.close();
});

function trace(points: number): { base: string; notes: Notification[] } {
  const base = randomUUID();
  const notes: Notification[] = [];
  for (let i = 0; i < points; i++) {
    const id = randomUUID();
    const ts = `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.000000`;
    for (const phase of ['start', 'stop']) {
      notes.push({ name: `step-${phase}`, base_id: base, trace_id: id, parent_id: base, timestamp: ts, info: { i, host: 'h' }, project: 'p', service: 's' });
    }
  }
  return { base, notes };
}

describe('dropped points are stored and shown', () => {
  it('agent down, buffer of 100: the oldest 200 are dropped, marked, read by Python and shown by trace show', async () => {
    const python = requirePythonOsprofiler();
    const dir = tempDir('dropped');
    const socket = join(dir, 'agent.sock');
    const client = new AgentClientDriver(clientOptionsFromUrl(new URL(`agent://${socket}?max_points=100&reconnect_max_ms=100&exit_hooks=0`)));
    const { base, notes } = trace(150);
    client.notify(notes.slice(0, 150));
    client.notify(notes.slice(150));
    expect(client.counters.dropped).toBe(200);
    const agent = await startAgentProc({ socket, backend: redis.url(5) });
    try {
      await client.flush(10_000);
      expect(client.pending).toBe(0);
      expect(client.counters.acknowledged).toBe(101); // the newest 100 and one marker

      const py = runPeer(['report', '--base-id', base, '--connection', redis.url(5)]);
      expect(py.status, py.stderr).toBe(0);
      const report = JSON.parse(py.stdout) as { children: { info: Record<string, any> }[] };
      const dropped = report.children.filter((c) => c.info.name === 'dropped');
      expect(dropped).toHaveLength(1);
      expect(dropped[0].info['meta.raw_payload.dropped-stop'].info).toEqual({ dropped: 200, reason: 'client-buffer', host: 'h' });
      expect(report.children.filter((c) => c.info.name === 'step')).toHaveLength(50);
      // Reads through the agent give Python's bytes.
      expect(formatReportJson(await client.getReport(base))).toBe(py.stdout.trimEnd());

      const show = spawnSync(process.execPath, [CLI, 'trace', 'show', base, '--connection-string', `agent://${socket}`], { encoding: 'utf8' });
      expect(show.status, show.stderr).toBe(0);
      expect(show.stdout).toMatch(/warning: the trace is incomplete: 200 points dropped before storage/);
      console.log(`Python OSProfiler ${python} reads the marker; trace show:\n${show.stdout.split('\n').slice(0, 4).join('\n')}`);
    } finally {
      await client.close(1000);
      expect(await stopProc(agent)).toBe(0);
    }
    expect(existsSync(socket)).toBe(false);
  }, 60_000);

  for (const mode of ['natural', 'sigterm']) {
    it(`flushes on exit (${mode === 'natural' ? 'beforeExit' : 'SIGTERM'}), and exits within the bound when no agent listens`, async () => {
      const dir = tempDir('exit');
      const socket = join(dir, 'agent.sock');
      const agent = await startAgentProc({ socket, backend: redis.url(6) });
      try {
        const p = spawnNode([join(FIXTURES, 'exit.cjs'), `agent://${socket}`, mode, '500']);
        let out = '';
        p.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        await p.exited;
        const bases = JSON.parse(out) as string[];
        const reader = new AgentClientDriver(clientOptionsFromUrl(new URL(`agent://${socket}?exit_hooks=0`)));
        let points = 0;
        for (const b of bases.slice(0, 50)) points += (await reader.getReport(b)).children.length;
        await reader.close(100);
        expect(points).toBe(50);
      } finally {
        await stopProc(agent);
      }
      // Nobody listening: the exit flush gives up. SIGTERM: after exit_flush_ms (1 s by default);
      // beforeExit: core's own beforeExit flush waits up to its default 5 s.
      const t0 = Date.now();
      const p = spawnNode([join(FIXTURES, 'exit.cjs'), `agent://${join(dir, 'nobody.sock')}`, mode, '100']);
      await p.exited;
      expect(Date.now() - t0).toBeLessThan(mode === 'sigterm' ? 4000 : 8000);
    }, 60_000);
  }
});
