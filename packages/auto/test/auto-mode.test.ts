import { afterAll, describe, expect, it } from 'vitest';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createFileDriver } from '@osprofiler/core';
import { startChild, type Child } from '../../../tools/testing/child-process';
import { listedIds } from '../../../tools/testing/file-store';
import { httpGet, signedHeaders } from '../../../tools/testing/http';
import { tempDir } from '../../../tools/testing/temp-dir';

// Every case runs the app in its own `node` process, loaded exactly as users do it.
const PKG = resolve(__dirname, '..');
const FIXTURES = join(__dirname, 'fixtures');
const KEY = 'auto-key';
const tmp = tempDir('osp-auto-');
const children: Child[] = [];

afterAll(async () => {
  for (const c of children) await c.stop();
});

const get = httpGet;

const signed = (baseId: string): Record<string, string> => signedHeaders(baseId, KEY);

async function run(flag: '--import' | '--require', app: string, env: Record<string, string | undefined>): Promise<Child> {
  const c = await startChild([flag, '@osprofiler/auto', join(FIXTURES, app)], { ...process.env, ...env }, { cwd: PKG });
  children.push(c);
  return c;
}

function envFor(store: string, expressModule: string): Record<string, string> {
  return {
    OSPROFILER_ENABLED: 'true',
    OSPROFILER_HMAC_KEYS: `other,${KEY}`,
    OSPROFILER_CONNECTION_STRING: `file://${store}`,
    OSPROFILER_FLUSH_INTERVAL_MS: '10',
    OSPROFILER_SERVICE: 'auto-app',
    EXPRESS_MODULE: expressModule,
  };
}

/** Reads the trace back until `done(report)` holds (bounded). */
async function report(store: string, baseId: string, done: (r: any) => boolean): Promise<any> {
  const driver = createFileDriver(`file://${store}`);
  try {
    const end = Date.now() + 10_000;
    for (;;) {
      const r = (await driver.getReport(baseId)) as any;
      if (done(r)) return r;
      if (Date.now() > end) throw new Error(`trace ${baseId} incomplete: ${JSON.stringify(r.stats)}`);
      await new Promise((t) => setTimeout(t, 25));
    }
  } finally {
    await driver.close();
  }
}

const start = (node: any, name: string) => node.info[`meta.raw_payload.${name}-start`];
const stop = (node: any, name: string) => node.info[`meta.raw_payload.${name}-stop`];

const MATRIX = [
  ['--import', 'esm-app.mjs', 'express'],
  ['--import', 'esm-app.mjs', 'express4'],
  ['--import', 'cjs-app.cjs', 'express'],
  ['--require', 'cjs-app.cjs', 'express'],
  ['--require', 'cjs-app.cjs', 'express4'],
  ['--require', 'esm-app.mjs', 'express'],
] as const;

describe.each(MATRIX)('node %s @osprofiler/auto %s (%s)', (flag, app, expressModule) => {
  it('a signed request is traced with no code change: wsgi → rpc (fetch) → wsgi, routes, errors', async () => {
    const store = mkdtempSync(join(tmp, 'store-'));
    const c = await run(flag, app, envFor(store, expressModule));

    const base = randomUUID();
    const r = await get(c.port, '/hello/world?x=1', signed(base));
    expect(r).toEqual({ status: 200, body: JSON.stringify({ hello: 'world', inner: 'inner:world' }) });
    const rep = await report(store, base, (x) => x.stats.wsgi?.count === 2 && x.stats.rpc?.count === 1 && JSON.stringify(x).includes('wsgi-stop'));

    // One tree: outer wsgi → rpc → inner wsgi, all in this base id.
    expect(rep.children).toHaveLength(1);
    const outer = rep.children[0];
    expect(start(outer, 'wsgi').info.request).toEqual({ path: '/hello/world', query: 'x=1', method: 'GET', scheme: 'http' });
    expect(stop(outer, 'wsgi').info).toMatchObject({ response: { status_code: 200 }, request: { route: '/hello/:name' } });
    expect(start(outer, 'wsgi').service).toBe('auto-app');
    const rpc = outer.children[0];
    expect(rpc.info.name).toBe('rpc');
    const inner = rpc.children[0];
    expect(start(inner, 'wsgi').info.request).toMatchObject({ path: '/inner', query: 'from=world' });
    expect(inner.parent_id).toBe(rpc.trace_id);

    // Errors are recorded; untraced requests store nothing.
    const errBase = randomUUID();
    expect(await get(c.port, '/boom', signed(errBase))).toEqual({ status: 500, body: 'handled boom' });
    const errRep = await report(store, errBase, (x) => x.stats.wsgi?.count === 1 && JSON.stringify(x).includes('wsgi-stop'));
    expect(stop(errRep.children[0], 'wsgi').info).toMatchObject({ etype: 'Error', message: 'boom', response: { status_code: 500 } });

    expect((await get(c.port, '/hello/plain')).status).toBe(200);
    expect(await listedIds(store, [base, errBase])).toEqual([base, errBase].sort());
    expect(c.output()).not.toMatch(/Warning|Error:/);
  }, 60_000);
});

describe('express loaded before automatic mode', () => {
  it('the copy already in the require cache is instrumented', async () => {
    const store = mkdtempSync(join(tmp, 'store-'));
    const c = await startChild([join(FIXTURES, 'late-register.cjs')], { ...process.env, ...envFor(store, 'express') }, { cwd: PKG });
    children.push(c);
    const base = randomUUID();
    expect(await get(c.port, '/late/3', signed(base))).toEqual({ status: 200, body: 'late 3' });
    const rep = await report(store, base, (x) => x.stats.wsgi?.count === 1 && JSON.stringify(x).includes('wsgi-stop'));
    expect(stop(rep.children[0], 'wsgi').info).toMatchObject({ request: { route: '/late/:n' }, response: { status_code: 200 } });
  }, 30_000);
});

describe('automatic mode stays out of the way', () => {
  it('OSPROFILER_ENABLED unset: the app runs and nothing is traced', async () => {
    const store = mkdtempSync(join(tmp, 'store-'));
    const env = envFor(store, 'express');
    delete (env as Record<string, string | undefined>).OSPROFILER_ENABLED;
    const c = await run('--import', 'esm-app.mjs', { ...env, OSPROFILER_ENABLED: undefined });
    const base = randomUUID();
    expect((await get(c.port, '/hello/x', signed(base))).status).toBe(200);
    await new Promise((t) => setTimeout(t, 200));
    const driver = createFileDriver(`file://${store}`);
    expect(await driver.listTraces()).toEqual([]);
    await driver.close();
  }, 30_000);

  it('a bad OSPROFILER_* value: one warning, the app runs untraced', async () => {
    const store = mkdtempSync(join(tmp, 'store-'));
    const c = await run('--require', 'cjs-app.cjs', { ...envFor(store, 'express'), OSPROFILER_SAMPLING: 'sometimes' });
    const base = randomUUID();
    expect((await get(c.port, '/hello/x', signed(base))).status).toBe(200);
    expect(c.output()).toMatch(/osprofiler: automatic mode is off: .*sampling \(OSPROFILER_SAMPLING\)/);
  }, 30_000);

  it('a forged header is ignored', async () => {
    const store = mkdtempSync(join(tmp, 'store-'));
    const c = await run('--import', 'esm-app.mjs', envFor(store, 'express'));
    const base = randomUUID();
    const h = signed(base);
    h['X-Trace-HMAC'] = createHmac('sha1', 'not-the-key').update(h['X-Trace-Info']).digest('hex');
    expect((await get(c.port, '/hello/x', h)).status).toBe(200);
    await new Promise((t) => setTimeout(t, 200));
    const driver = createFileDriver(`file://${store}`);
    expect(await driver.listTraces()).toEqual([]);
    await driver.close();
  }, 30_000);
});
