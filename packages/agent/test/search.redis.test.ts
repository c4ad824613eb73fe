// Trace search through the agent: agent:// clients write, the agent's redis:// backend
// indexes the lines (they carry no index data over the socket), and searchTraces on an
// agent:// driver is answered by the agent. An agent that only forwards says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startAgent } from '@osprofiler/agent';
import { createDriver } from '@osprofiler/core';
import type { Driver } from '@osprofiler/core';
import '@osprofiler/drivers/register';
import { tempDir } from './support/procs';
import { RedisServer } from '../../../tools/testing/redis-server';
import { searchContract } from '../../../tools/testing/search-contract';

let redis: RedisServer;
let agent: Awaited<ReturnType<typeof startAgent>>;
let client: Driver;
const dir = tempDir('search');

beforeAll(async () => {
  redis = await RedisServer.start();
  const socket = join(dir, 'agent.sock');
  agent = await startAgent({ socketPath: socket, backend: redis.url() });
  client = await createDriver(`agent://${socket}?exit_hooks=0`, { project: 'p', service: 's' });
});
afterAll(async () => {
  await client?.close();
  await agent?.stop();
  await redis?.close();
});

describe('agent:// search contract (agent → redis://)', () => {
  searchContract({
    driver: () => client,
    write: async (batches) => {
      for (const b of batches) await client.notify(b);
      await client.flush(10_000);
      // Acknowledged by the agent once its backend stored them.
    },
  });
});

it('an agent whose backend only forwards answers search with a clear error', async () => {
  const socket = join(dir, 'fwd.sock');
  // A collector stand-in that accepts every OTLP export (the agent only forwards to it).
  const collector = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const port = (collector.address() as AddressInfo).port;
  const fwd = await startAgent({ socketPath: socket, backend: `otlp://127.0.0.1:${port}` });
  const reader = await createDriver(`agent://${socket}?exit_hooks=0`);
  try {
    await expect(reader.searchTraces!({})).rejects.toThrow(/only forwards them; point the reader at the store/);
  } finally {
    await reader.close();
    await fwd.stop();
    await new Promise((r) => collector.close(r));
  }
});
