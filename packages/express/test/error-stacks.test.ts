import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { configure, MemoryDriver, shutdown } from '@osprofiler/core';
import { instrumentApp } from '../src/index';
import { EXPRESS_VERSIONS, events, listen, loadExpress, request, signed, waitFor } from './support';

// Issue 12 #10: application error stacks must not gain frames of ours
// (`Layer.osprofilerLayerRequest (…)` under every handler, with the old route hook).
const KEY = 'STACKS_KEY';
const STORE = 'express-error-stacks';
const store = new MemoryDriver({}, STORE);

beforeAll(() => {
  configure({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5 });
});
afterAll(async () => {
  await shutdown();
});

/** The same app, traced or not: /boom throws, the error middleware answers with the stack. */
function makeApp(express: any): any {
  const app = express();
  app.set('env', 'test');
  app.get('/api/:id/boom', function boomHandler() {
    throw new Error('boom');
  });
  app.use(function stackReporter(err: Error, _req: any, res: any, _next: any) {
    res.status(500).type('text/plain').send(err.stack);
  });
  return app;
}

describe.each(EXPRESS_VERSIONS)('%s: error stacks of a traced route', (name) => {
  const express = loadExpress(name);

  it('are the same frames as untraced, with no osprofiler frame', async () => {
    expect(Error.stackTraceLimit).toBe(10); // Node's default: what an application sees
    const traced = makeApp(express);
    expect(instrumentApp(traced)).toBe(true);
    const plain = makeApp(express);
    const a = await listen(traced);
    const b = await listen(plain);
    try {
      const base = randomUUID();
      const withTrace = await request(`${a.url}/api/7/boom`, { headers: signed(KEY, base, base) });
      const without = await request(`${b.url}/api/7/boom`);
      expect(withTrace.status).toBe(500);
      const frames = (stack: string) => stack.split('\n').slice(1).map((l) => l.trim());
      expect(frames(withTrace.body)).toEqual(frames(without.body));
      expect(frames(withTrace.body)[0]).toMatch(/boomHandler/);
      expect(withTrace.body).not.toMatch(/osprofiler/i);
      // …and the request was traced, route and error included.
      await waitFor(async () => (await events(store, base)).length === 2);
      const stop = (await events(store, base))[1];
      expect(stop.info).toMatchObject({ request: { route: '/api/:id/boom' }, response: { status_code: 500 }, etype: 'Error', message: 'boom' });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
