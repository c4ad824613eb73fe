// The HTTP request path's shortcuts give exactly what the general code gives: the wsgi start
// info (wsgi-info.ts).
import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { pythonPath, splitTarget, wsgiRequestInfo } from '../src/wsgi-info';

describe('wsgiRequestInfo: the safe origin-form shortcut', () => {
  const general = (req: { method?: string; socket?: unknown }, target: string) => {
    const { path, query } = splitTarget(target);
    const encrypted = (req.socket as { encrypted?: boolean } | null | undefined)?.encrypted === true;
    return { path: pythonPath(path), query, method: req.method ?? '', scheme: encrypted ? 'https' : 'http' };
  };
  const targets = [
    '/', '/hello', '/a/b/c', "/x-y_z.~!$&'()*+,;=:@", '//double', '/a?b=1', '/a?', '/?x', '/a%2fb', '/caf%c3%a9', '/a b', '/a#f',
    '/ü', '/a\n', '*', '', 'http://h:1/p?q=1', 'HTTP://h', 'h/p', '/a/../b', '/%', '/%zz', '/a/%41',
  ];
  it.each(targets)('%j: the same info, field for field and in the same order', (t) => {
    for (const req of [{ method: 'GET', socket: {} }, { method: 'POST', socket: { encrypted: true } }, { socket: null }]) {
      const got = wsgiRequestInfo(req as unknown as IncomingMessage, t);
      const want = general(req, t);
      expect(got).toEqual(want);
      expect(Object.keys(got)).toEqual(Object.keys(want));
      expect(JSON.stringify(got)).toBe(JSON.stringify(want));
    }
  });
  it('defaults to req.url', () => {
    expect(wsgiRequestInfo({ url: '/u?v', method: 'GET', socket: {} } as unknown as IncomingMessage)).toEqual({ path: '/u', query: 'v', method: 'GET', scheme: 'http' });
  });
});
