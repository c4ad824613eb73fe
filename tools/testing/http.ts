/** A loopback GET for tests (no keep-alive agent), and the signed trace headers of a new trace. */
import * as http from 'node:http';
import { signedPack } from '@osprofiler/core';

export function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    http
      .get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
      })
      .on('error', fail);
  });
}

/** `X-Trace-Info`/`X-Trace-HMAC` starting trace `baseId` (its root parent), signed with `key`. */
export function signedHeaders(baseId: string, key: string): Record<string, string> {
  const { info, hmac } = signedPack({ base_id: baseId, parent_id: baseId }, key);
  return { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac };
}
