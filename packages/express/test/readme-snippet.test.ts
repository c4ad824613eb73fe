/**
 * The root README's "Trace an Express app" snippet, run as written (only its port is
 * replaced by a free one) in its own `node` process: a signed request is traced and stored
 * in the default file:// store, with no warning. The same snippet without `enabled: true`
 * stores nothing and says why, naming `enabled` and OSPROFILER_ENABLED.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileDriver, signedPack } from '@osprofiler/core';
import { tempDir } from '../../../tools/testing/temp-dir';

const ROOT = resolve(__dirname, '../../..');

function readmeSnippet(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Trace an Express app'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  if (m === null) throw new Error('README: no js block under "## Trace an Express app"');
  return m[1];
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function get(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((ok, fail) => {
    http
      .get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => ok(res.statusCode ?? 0));
      })
      .on('error', fail);
  });
}

/** Runs `code` as app.js in a fresh dir (state dir there too), sends one signed request, stops it; returns its stderr and the stored report. */
async function runApp(code: string): Promise<{ stderr: string; status: number; points: string[] }> {
  const dir = tempDir('osp-readme-');
  const port = await freePort();
  expect(code).toContain('app.listen(8080,');
  writeFileSync(join(dir, 'app.js'), code.replace('app.listen(8080,', `app.listen(${port},`));
  const state = join(dir, 'state');
  const proc = spawn(process.execPath, [join(dir, 'app.js')], {
    cwd: dir,
    // The packages an app would have installed: the repository's node_modules.
    env: { PATH: process.env.PATH, NODE_PATH: join(ROOT, 'node_modules'), OSPROFILER_STATE_DIR: state },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  proc.stdout.resume();
  try {
    // Bounded: up to 100 tries, 50 ms apart, for the app to listen.
    let status = 0;
    const baseId = randomUUID();
    const { info, hmac } = signedPack({ base_id: baseId, parent_id: baseId }, 'SECRET_KEY');
    for (let i = 0; i < 100 && status === 0; i++) {
      status = await get(port, '/orders/7', { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac }).catch(async () => {
        await new Promise((r) => setTimeout(r, 50));
        return 0;
      });
    }
    // The notifier writes every 100 ms: read back for up to 2 s.
    const driver = createFileDriver(`file://${state}`);
    let points: string[] = [];
    for (let i = 0; i < 40 && points.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const r = await driver.getReport(baseId);
      points = r.children.map((c) => String(c.info.name));
    }
    await driver.close();
    return { stderr, status, points };
  } finally {
    proc.kill('SIGTERM');
  }
}

describe("the root README's Express snippet", () => {
  it('works as written: the signed request is stored as a wsgi point, without a warning', async () => {
    const r = await runApp(readmeSnippet());
    expect(r.status).toBe(200);
    expect(r.points).toEqual(['wsgi']);
    expect(r.stderr).toBe('');
  });

  it('without enabled: true it traces nothing, and says so naming enabled and OSPROFILER_ENABLED', async () => {
    const snippet = readmeSnippet();
    const off = snippet.replace(', enabled: true })', ' })');
    expect(off).not.toBe(snippet);
    const r = await runApp(off);
    expect(r.status).toBe(200);
    expect(r.points).toEqual([]);
    expect(r.stderr).toContain('tracing is off (enabled: false');
    expect(r.stderr).toContain('OSPROFILER_ENABLED=true');
  });
});
