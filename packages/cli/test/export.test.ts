import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createDriver, type Notification } from '@osprofiler/core';
import { BIN, tempDir } from './helpers';

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30000 });
}

function event(name: string, traceId: string, parentId: string, ts: string, info: Record<string, unknown> = {}): Notification {
  return { name, base_id: 'e0000000-0000-4000-8000-000000000001', trace_id: traceId, parent_id: parentId, timestamp: ts, info: { ...info, host: 'h' }, project: 'p', service: 's' };
}

describe('osprofiler trace export (real binary, file:// stores)', () => {
  it('copies a stored trace to another store: the target shows the same report', async () => {
    const dir = tempDir();
    try {
      const a = `file://${join(dir, 'a')}`;
      const b = `file://${join(dir, 'b')}`;
      const base = 'e0000000-0000-4000-8000-000000000001';
      const src = await createDriver(a);
      await src.notify([
        event('wsgi-start', 't1', base, '2026-11-23T02:40:49.450322', { request: { method: 'GET', path: '/x', query: '', scheme: 'http' } }),
        event('db-start', 't2', 't1', '2026-11-23T02:40:49.451000'),
        event('db-stop', 't2', 't1', '2026-11-23T02:40:49.452000', { etype: 'ValueError', message: 'bad' }),
        event('wsgi-stop', 't1', base, '2026-11-23T02:40:49.460000', { response: { status_code: 500 } }),
      ]);
      await src.flush();
      await src.close();
      const r = cli(['trace', 'export', base, '--connection-string', a, '--to', b]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`exported 4 notifications of trace ${base}\n`);
      expect(r.status).toBe(0);
      const fromA = cli(['trace', 'show', base, '--json', '--connection-string', a]);
      const fromB = cli(['trace', 'show', base, '--json', '--connection-string', b]);
      expect(fromA.status).toBe(0);
      expect(fromB.stdout).toBe(fromA.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('unknown trace: Python-style not-found message, exit 1; missing --to: usage, exit 2', () => {
    const dir = tempDir();
    try {
      const r = cli(['trace', 'export', 'nope', '--connection-string', `file://${dir}`, '--to', `file://${join(dir, 'b')}`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`Trace with UUID nope not found in 'file://${dir}'`);
      const u = cli(['trace', 'export', 'x']);
      expect(u.status).toBe(2);
      expect(u.stderr).toContain("required option '--to <cs>' not specified");
      expect(u.stderr).toContain('Usage: osprofiler trace export');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
