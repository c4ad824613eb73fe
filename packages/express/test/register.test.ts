import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createFileDriver } from '@osprofiler/core';
import { startChild, type Child } from '../../../tools/testing/child-process';
import { request, signed } from './support';
import { tempDir } from '../../../tools/testing/temp-dir';

// The adapter's own automatic-mode entry, in separate processes (built package).
const dir = tempDir('osp-express-register-');
const children: Child[] = [];
afterAll(async () => {
  for (const c of children) await c.stop();
});

describe.each(['--import', '--require'])('node %s @osprofiler/express/register on an ESM app', (flag) => {
  it('traces a signed request, route template included', async () => {
    const store = mkdtempSync(join(dir, 'store-'));
    const c = await startChild(
      [flag, '@osprofiler/express/register', join(__dirname, 'fixtures', 'plain-app.mjs')],
      { ...process.env, OSPROFILER_ENABLED: 'true', OSPROFILER_HMAC_KEYS: 'reg-key', OSPROFILER_CONNECTION_STRING: `file://${store}`, OSPROFILER_FLUSH_INTERVAL_MS: '10' },
      { cwd: resolve(__dirname, '..') },
    );
    children.push(c);
    const base = randomUUID();
    const r = await request(`http://127.0.0.1:${c.port}/api/things/4`, { headers: signed('reg-key', base, base) });
    expect(JSON.parse(r.body)).toEqual({ id: '4' });
    const driver = createFileDriver(`file://${store}`);
    let stop: any;
    for (let i = 0; i < 200 && stop === undefined; i++) {
      const rep = (await driver.getReport(base)) as any;
      stop = rep.children[0]?.info['meta.raw_payload.wsgi-stop'];
      if (stop === undefined) await new Promise((t) => setTimeout(t, 25));
    }
    await driver.close();
    expect(stop?.info).toMatchObject({ response: { status_code: 200 }, request: { route: '/api/things/:id' } });
  }, 30_000);
});
