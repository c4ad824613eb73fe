import { afterAll, describe, expect, it } from 'vitest';
import { configure, shutdown } from '@osprofiler/core';
import { instrumentApp, profiler } from '../src/index';
import { listen, loadExpress, request } from './support';

// Issue 12 #1: an adapter set up while tracing is off says so, once per process, naming
// the option and its variable (this file runs in its own process).
afterAll(async () => {
  await shutdown();
});

describe('an adapter set up while tracing is off', () => {
  it('warns once per process, naming `enabled` and OSPROFILER_ENABLED; explicit enabled: false is silent', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    // configure() gives its own warning (keys while off, code OSPROFILER_DISABLED too): count the adapter's.
    const adapterWarnings = () => warnings.filter((w) => (w as { code?: string }).code === 'OSPROFILER_DISABLED' && w.message.includes('is set up but tracing is off'));
    try {
      configure({ enabled: false, hmacKeys: ['K'], connectionString: 'memory://express-disabled-warning' });
      profiler({ enabled: false }); // turned off on purpose: nothing to say
      await new Promise((r) => setImmediate(r));
      expect(adapterWarnings()).toHaveLength(0);
      profiler();
      profiler();
      const app = loadExpress('express')();
      app.get('/', (_req: any, res: any) => res.send('ok'));
      expect(instrumentApp(app)).toBe(true);
      const s = await listen(app);
      try {
        expect((await request(`${s.url}/`)).body).toBe('ok'); // the instrumented app decides at its first request
      } finally {
        await s.close();
      }
      await new Promise((r) => setImmediate(r));
      const ours = adapterWarnings();
      expect(ours).toHaveLength(1);
      expect(ours[0].message).toContain('@osprofiler/express');
      expect(ours[0].message).toContain('`enabled: true`');
      expect(ours[0].message).toContain('OSPROFILER_ENABLED=true');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
