// A `wsgi` start info shared and frozen for a request target seen again (kit/start-infos.ts),
// on real requests to a loopback server: the same content as wsgiRequestInfo's every time,
// the first time a fresh object, from the second on one frozen object per target, method and
// scheme; targets sharing a slot never get each other's info.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { requestStartInfo } from '../src/kit/start-infos';
import { wsgiRequestInfo } from '../src/wsgi-info';

interface Seen {
  info: object;
  expected: object;
}

let server: http.Server;
let port = 0;
let seen: Seen[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const target = req.url ?? '';
    seen.push({ info: requestStartInfo(req, target), expected: { request: wsgiRequestInfo(req, target) } });
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

function send(method: string, target: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(seen[seen.length - 1]));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('start infos of repeated requests', () => {
  it('first a fresh object, then one frozen object a target, always the content wsgiRequestInfo gives', async () => {
    seen = [];
    const first = await send('GET', '/orders/list');
    const second = await send('GET', '/orders/list');
    const third = await send('GET', '/orders/list');
    for (const s of [first, second, third]) expect(s.info).toEqual(s.expected);
    expect(Object.isFrozen(first.info)).toBe(false);
    expect(Object.isFrozen(second.info)).toBe(true);
    expect(Object.isFrozen((second.info as { request: object }).request)).toBe(true);
    expect(third.info).toBe(second.info);
  });

  it('the method, the query and odd targets are part of what is shared', async () => {
    seen = [];
    for (const [method, target] of [
      ['GET', '/a?x=1'],
      ['GET', '/a?x=1'],
      ['POST', '/a?x=1'],
      ['POST', '/a?x=1'],
      ['GET', '/a?x=2'],
      ['GET', '/caf%C3%A9/%2F?q=%20'],
      ['GET', '/caf%C3%A9/%2F?q=%20'],
      ['GET', "/p;x=1/it's"],
      ['GET', "/p;x=1/it's"],
    ]) {
      const s = await send(method, target);
      expect(s.info).toEqual(s.expected);
    }
    expect(seen[1].info).not.toBe(seen[3].info);
    expect((seen[3].info as { request: { method: string } }).request.method).toBe('POST');
  });

  it('targets sharing a slot (same length, same last character) never get each other\'s info', async () => {
    seen = [];
    for (let i = 0; i < 40; i++) {
      const s = await send('GET', i % 2 === 0 ? '/x1/q' : '/y2/q');
      expect(s.info).toEqual(s.expected);
    }
    // Alternating, each evicts the other: never shared, never frozen.
    expect(seen.every((s) => !Object.isFrozen(s.info))).toBe(true);
  });
});
