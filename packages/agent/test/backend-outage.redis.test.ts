// The backend goes down for 30 s under steady load (the test's own redis-server is
// stopped, never the machine's) and comes back on the same port with its data (AOF). The agent spools to disk meanwhile and replays in order: nothing is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { freePort, sleep, startAgentProc, stopProc, tempDir, waitFor } from './support/procs';
import { RedisServer } from '../../../tools/testing/redis-server';
import { flushApp, load, startApp } from './support/load';
import { readStore, sentPoints } from './support/store';

let redis: RedisServer;

beforeAll(async () => {
  redis = new RedisServer({ persist: true });
  await redis.start();
});

afterAll(async () => {
  await redis?.close();
});

function metric(text: string, name: string): number {
  const m = new RegExp(`^osprofiler_agent_${name} (\\S+)$`, 'm').exec(text);
  return m === null ? NaN : Number(m[1]);
}

describe('backend down for 30 s under load', () => {
  it('spools, replays in order when the backend returns, and loses nothing', async () => {
    const dir = tempDir('outage');
    const socket = join(dir, 'agent.sock');
    const healthPort = await freePort();
    const health = `127.0.0.1:${healthPort}`;
    const agent = await startAgentProc({ socket, backend: redis.url(3), spool: join(dir, 'spool'), health });
    const app = await startApp(`agent://${socket}`);
    const metrics = async (): Promise<string> => (await fetch(`http://${health}/metrics`)).text();
    try {
      // ~1,000 requests/s (4 points each) for 33 s: load before, during and after the outage.
      const loadDone = load(app.port, { concurrency: 8, maxRequests: 40_000, durationMs: 33_000, ratePerSec: 1000 });
      await sleep(1000);
      await redis.stop();
      await sleep(30_000);
      const during = await metrics();
      await redis.start();
      const { sent, failures } = await loadDone;
      const client = await flushApp(app.port);
      await waitFor('the spool to be replayed', async () => {
        const t = await metrics();
        return metric(t, 'spool_bytes') === 0 && metric(t, 'queue_depth') === 0 && metric(t, 'backend_up') === 1;
      }, 30_000);
      const after = await metrics();
      expect(await stopProc(agent)).toBe(0);

      expect(failures).toBe(0);
      expect(client.pending).toBe(0);
      expect(client.counters.dropped).toBe(0);
      expect(metric(during, 'backend_errors_total')).toBeGreaterThan(0);
      expect(metric(during, 'spool_bytes')).toBeGreaterThan(0);
      expect(metric(after, 'spooled_points_total')).toBeGreaterThan(0);
      expect(metric(after, 'replayed_points_total')).toBe(metric(after, 'spooled_points_total'));

      const stored = await readStore(redis.port, sent, 3);
      const expected = sentPoints(sent);
      expect([...expected].filter((k) => !stored.points.has(k))).toEqual([]);
      expect([...stored.points].filter((k) => !expected.has(k))).toEqual([]);
      expect(stored.markedDropped).toBe(0);
      console.log(
        `backend outage 30 s: ${sent.length} requests, ${expected.size} points sent, ${stored.points.size} stored ` +
          `(${stored.duplicates} twice), spooled ${metric(after, 'spooled_points_total')}, replayed ${metric(after, 'replayed_points_total')}, ` +
          `backend errors ${metric(after, 'backend_errors_total')}`,
      );
    } finally {
      await stopProc(app);
      await stopProc(agent, 'SIGKILL');
    }
  }, 150_000);
});
