import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { signedPack } from '@osprofiler/core';
import { startChild, type Child } from '../../../tools/testing/child-process';
import { request, signed } from './support';
import { tempDir } from '../../../tools/testing/temp-dir';

// Issue 12 #8: a debug switch says why a trace header was rejected (never the key or the
// HMAC value) and what the adapter did at start-up. Separate processes: it is read once.
const KEY = 'diag-secret-key';
const dir = tempDir('osp-express-diag-');
const children: Child[] = [];
afterAll(async () => {
  for (const c of children) await c.stop();
});

async function start(debugEnv: Record<string, string>): Promise<Child> {
  const store = mkdtempSync(join(dir, 'store-'));
  const env: NodeJS.ProcessEnv = { ...process.env, OSPROFILER_ENABLED: 'true', OSPROFILER_HMAC_KEYS: KEY, OSPROFILER_CONNECTION_STRING: `file://${store}`, ...debugEnv };
  delete env.NODE_DEBUG;
  delete env.OSPROFILER_DEBUG;
  Object.assign(env, debugEnv);
  const c = await startChild(['--import', '@osprofiler/express/register', join(__dirname, 'fixtures', 'plain-app.mjs')], env, { cwd: resolve(__dirname, '..') });
  children.push(c);
  return c;
}

async function waitForOutput(c: Child, re: RegExp): Promise<void> {
  for (let i = 0; i < 200 && !re.test(c.output()); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('debug output', () => {
  it.each<Record<string, string>>([{ NODE_DEBUG: 'osprofiler' }, { OSPROFILER_DEBUG: '1' }])('%o: start-up and rejected headers are explained, secrets never printed', async (debugEnv) => {
    const c = await start(debugEnv);
    const base = randomUUID();
    const forged = signedPack({ base_id: base, parent_id: base }, 'some-other-key');
    const r1 = await request(`http://127.0.0.1:${c.port}/api/things/1`, { headers: { 'X-Trace-Info': forged.info, 'X-Trace-HMAC': forged.hmac } });
    const r2 = await request(`http://127.0.0.1:${c.port}/api/things/2`, { headers: { 'X-Trace-Info': forged.info, 'X-Trace-HMAC': 'xyz' } });
    const r3 = await request(`http://127.0.0.1:${c.port}/api/things/3`, { headers: { 'X-Trace-HMAC': forged.hmac } });
    expect([r1.status, r2.status, r3.status]).toEqual([200, 200, 200]);
    await waitForOutput(c, /without X-Trace-Info/);
    const out = c.output();
    expect(out).toMatch(/express: automatic mode/);
    expect(out).toMatch(/express: instrumented express@5\.\d+\.\d+ as it loaded/);
    expect(out).toMatch(/express: tracing requests with a valid X-Trace-HMAC \(1 key\(s\)\)/);
    expect(out).toMatch(/trace header rejected, served untraced: X-Trace-HMAC does not match any of the 1 configured key\(s\)/);
    expect(out).toMatch(/trace header rejected, served untraced: X-Trace-HMAC is not a 40-character lowercase hex HMAC-SHA1/);
    expect(out).toMatch(/trace header rejected, served untraced: X-Trace-HMAC without X-Trace-Info/);
    for (const secret of [KEY, 'some-other-key', forged.hmac, forged.info]) expect(out).not.toContain(secret);
  }, 30_000);

  it('is off by default: a rejected header prints nothing', async () => {
    const c = await start({});
    const base = randomUUID();
    const r = await request(`http://127.0.0.1:${c.port}/api/things/1`, { headers: signed('some-other-key', base, base) });
    expect(r.status).toBe(200);
    const ok = await request(`http://127.0.0.1:${c.port}/api/things/2`, { headers: signed(KEY, base, base) });
    expect(JSON.parse(ok.body)).toEqual({ id: '2' });
    expect(c.output()).toBe(`LISTENING ${c.port}\n`);
  }, 30_000);
});
