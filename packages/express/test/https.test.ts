import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { configure, MemoryDriver, shutdown } from '@osprofiler/core';
import { profiler } from '../src/index';
import { events, loadExpress, signed, waitFor } from './support';
import { tempDir } from '../../../tools/testing/temp-dir';

const STORE = 'express-https';
const store = new MemoryDriver({}, STORE);
const dir = tempDir('osp-express-tls-');
let server: https.Server;
let port = 0;

beforeAll(async () => {
  configure({ enabled: true, hmacKeys: ['SECRET_KEY'], connectionString: `memory://${STORE}`, flushIntervalMs: 5 });
  // A throwaway self-signed certificate for 127.0.0.1.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore', timeout: 30_000 });
  const express = loadExpress('express');
  const app = express();
  app.use(profiler());
  app.get('/secure/:id', (_req: any, res: any) => res.send('tls'));
  server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await shutdown();
});

describe('HTTPS server', () => {
  it('records scheme https', async () => {
    const base = randomUUID();
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: '/secure/1?a=b', headers: signed('SECRET_KEY', base, base), ca: readFileSync(join(dir, 'cert.pem')), agent: false }, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
    expect(body).toBe('tls');
    await waitFor(async () => (await events(store, base)).length === 2);
    const [start, stop] = await events(store, base);
    expect(start.info.request).toEqual({ path: '/secure/1', query: 'a=b', method: 'GET', scheme: 'https' });
    expect(stop.info.request).toEqual({ route: '/secure/:id' });
  });
});
