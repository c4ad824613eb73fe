/** Bounded HTTP load against the app fixture: concurrency, request count and time are all capped. */
import { Agent, request } from 'node:http';
import { spawnNode, waitFor, FIXTURES, type Proc } from './procs';
import { join } from 'node:path';

export interface Sent {
  base: string;
  ids: string[];
}

export interface AppProc extends Proc {
  port: number;
}

export async function startApp(cs: string, nested = 1): Promise<AppProc> {
  const p = spawnNode([join(FIXTURES, 'app.cjs')], { OSP_CS: cs, NESTED: String(nested) });
  let out = '';
  p.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('app port', () => {
    if (p.child.exitCode !== null) throw new Error(`app exited: ${p.stderr()}`);
    return /port \d+/.test(out);
  });
  return { ...p, port: Number(/port (\d+)/.exec(out)?.[1]) };
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

export function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends requests with `concurrency` until `maxRequests` or `durationMs`; every answer must be 200. */
export async function load(
  port: number,
  opts: { concurrency: number; maxRequests: number; durationMs: number; ratePerSec?: number; onTick?: (elapsedMs: number) => void },
): Promise<{ sent: Sent[]; failures: number }> {
  const sent: Sent[] = [];
  let failures = 0;
  let issued = 0;
  const t0 = Date.now();
  const worker = async (): Promise<void> => {
    while (issued < opts.maxRequests && Date.now() - t0 < opts.durationMs) {
      if (opts.ratePerSec !== undefined) {
        // Paced: steady load for the whole duration instead of a burst.
        const wait = t0 + (issued / opts.ratePerSec) * 1000 - Date.now();
        if (wait > 0) {
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
      }
      issued++;
      try {
        const r = await get(port, '/hello');
        if (r.status === 200) sent.push(JSON.parse(r.body) as Sent);
        else failures++;
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return { sent, failures };
}

export async function flushApp(port: number): Promise<{ counters: { dropped: number; acknowledged: number; received: number; resent: number }; pending: number }> {
  const r = await get(port, '/__flush');
  return JSON.parse(r.body);
}
