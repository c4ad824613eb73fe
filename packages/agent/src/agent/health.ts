/** The loopback health endpoint: `/metrics` (Prometheus text) and `/healthz` (JSON). */
import { createServer } from 'node:http';
import { AgentError } from '../errors';

export interface HealthServer {
  address: string;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/;

export function parseHealthAddress(spec: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(spec.trim());
  const host = m?.[1].replace(/^\[(.*)\]$/, '$1');
  const port = Number(m?.[2]);
  if (m === null || host === undefined || !LOOPBACK.test(host) || !Number.isInteger(port) || port > 65535) {
    throw new AgentError('OSP_AGENT_BAD_OPTION', `--health "${spec}": expected a loopback address and port, e.g. 127.0.0.1:9464 (metrics are not served off-host)`);
  }
  return { host, port };
}

export function startHealthServer(spec: string, metrics: () => string, status: () => object): Promise<HealthServer> {
  const { host, port } = parseHealthAddress(spec);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics());
    } else if (path === '/healthz' || path === '/health' || path === '/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status()));
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new AgentError('OSP_AGENT_LISTEN', `--health ${spec}: ${err.message}`)));
    server.listen(port, host, () => {
      const a = server.address();
      const address = a !== null && typeof a === 'object' ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : spec;
      resolve({
        address,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
