import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createFileDriver } from '@osprofiler/core';
import { startChild, type Child } from '../../../tools/testing/child-process';
import { request, signed } from './support';
import { tempDir } from '../../../tools/testing/temp-dir';

const dir = tempDir('osp-express-bundle-');
let child: Child | undefined;

afterAll(async () => {
  await child?.stop();
});

describe('an app bundled with esbuild (express and the adapter inside one file)', () => {
  it('traces a signed request through the explicit middleware', async () => {
    const outfile = join(dir, 'app.cjs');
    const result = await build({
      entryPoints: [join(__dirname, 'fixtures', 'bundle-entry.mjs')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = readFileSync(outfile, 'utf8');
    // Really bundled: neither express nor our packages are loaded from node_modules at run time.
    expect(code).not.toMatch(/require\(["'](express|@osprofiler\/[a-z]+)["']\)/);

    const store = join(dir, 'store');
    child = await startChild([outfile], {
      ...process.env,
      OSPROFILER_ENABLED: 'true',
      OSPROFILER_HMAC_KEYS: 'bundle-key',
      OSPROFILER_CONNECTION_STRING: `file://${store}`,
      OSPROFILER_FLUSH_INTERVAL_MS: '10',
      OSPROFILER_SERVICE: 'bundled',
    });
    const base = randomUUID();
    const r = await request(`http://127.0.0.1:${child.port}/items/5?x=1`, { headers: signed('bundle-key', base, base) });
    expect(JSON.parse(r.body)).toEqual({ id: '5' });
    const plain = await request(`http://127.0.0.1:${child.port}/items/6`);
    expect(JSON.parse(plain.body)).toEqual({ id: '6' });
    expect(await child.stop()).toBe(0); // SIGTERM: the app flushes, then exits

    const driver = createFileDriver(`file://${store}`);
    expect((await driver.listTraces()).map((t) => t.base_id)).toEqual([base]);
    const report = (await driver.getReport(base)) as any;
    expect(report.stats).toEqual({ wsgi: { count: 1, duration: expect.any(Number) } });
    const wsgi = report.children[0];
    expect(wsgi.info['meta.raw_payload.wsgi-start'].info.request).toEqual({ path: '/items/5', query: 'x=1', method: 'GET', scheme: 'http' });
    expect(wsgi.info['meta.raw_payload.wsgi-stop'].info).toMatchObject({ response: { status_code: 200 }, request: { route: '/items/:id' } });
    await driver.close();
  }, 60_000);
});
