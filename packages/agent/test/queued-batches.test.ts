// Batches that wait for the agent (behind, or away after a first connection) are parked: their lines
// kept as bytes outside V8's heap and only what the queue still reads of core's batch
// (ids, times, error flags), not the batch. They then go byte-identical, cut across frames
// at line ends, with their error flags. Backends: named memory:// stores in agents in this
// process, the second started after the batches were queued.
import { expect, it } from 'vitest';
import { join } from 'node:path';
import { AgentClientDriver, clientOptionsFromUrl, startAgent } from '@osprofiler/agent';
import { createDriver, type MemoryDriver } from '@osprofiler/core';
import { batchOf } from './support/line-batch';
import { sleep, tempDir } from './support/procs';

interface QueuedChunk {
  text: string;
  bytes: Buffer | undefined;
  batch: { lines?: readonly string[]; baseIds: readonly string[] };
}

function queueOf(client: AgentClientDriver): QueuedChunk[] {
  return (client as unknown as { queue: QueuedChunk[] }).queue;
}

it('waits off the heap while the agent is away, then arrives byte-identical, cut at line ends, with its error flags', async () => {
  const socket = join(tempDir('queued'), 'agent.sock');
  const client = new AgentClientDriver(clientOptionsFromUrl(new URL(`agent://${socket}?max_batch_points=700&exit_hooks=0`)));
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  try {
    // Before any WELCOME a waiting batch keeps core's batch: the agent may yet ask for its index.
    const early = batchOf(0, 3, ['queued-early']);
    client.notifyLines(early.batch);
    expect(queueOf(client)).toHaveLength(1);
    expect(queueOf(client)[0].bytes).toBeUndefined();
    expect(queueOf(client)[0].batch.lines).toBe(early.batch.lines);
    agent = await startAgent({ socketPath: socket, backend: 'memory://queued-batches-first' });
    await client.flush(15_000);
    expect(client.counters.acknowledged).toBe(3);
    // The agent goes away (a restart): what comes meanwhile waits, parked.
    await agent.stop();
    agent = undefined;
    for (let i = 0; i < 200 && client.connected; i++) await sleep(10);
    expect(client.connected).toBe(false);
    const traces = ['queued-a', 'queued-b', 'queued-c', 'queued-d'];
    const sent = [batchOf(3, 500, traces), batchOf(503, 1, traces), batchOf(504, 999, traces)];
    for (const s of sent) client.notifyLines(s.batch);
    const queue = queueOf(client);
    expect(queue).toHaveLength(3);
    for (const [k, c] of queue.entries()) {
      expect(c.text).toBe('');
      expect(Buffer.isBuffer(c.bytes)).toBe(true);
      expect(c.bytes!.toString('latin1')).toBe(sent[k].lines.join('\n'));
      expect(c.batch.lines).toBeUndefined(); // core's batch itself no longer held
      expect(c.batch.baseIds).toEqual(sent[k].batch.baseIds);
    }
    agent = await startAgent({ socketPath: socket, backend: 'memory://queued-batches', driverOptions: { filterErrorTrace: true } });
    await client.flush(15_000);
    expect(client.counters.acknowledged).toBe(3 + 1500);
    expect(client.counters.dropped).toBe(0);
    expect(agent.metrics.written).toBe(1500);
    const store = (await createDriver('memory://queued-batches')) as MemoryDriver;
    const lines = sent.flatMap((s) => s.lines);
    const notes = sent.flatMap((s) => s.notes);
    for (const t of traces) expect(store.rawEvents(t)).toEqual(lines.filter((_, i) => notes[i].base_id === t));
    // Every trace holds an error line (i % 7 === 3 reaches each of the four): all in the error index.
    const errorTraces = (await store.listErrorTraces({ limit: 100 })).map((s) => s.base_id).sort();
    expect(errorTraces).toEqual([...traces].sort());
  } finally {
    await client.close(1_000);
    await agent?.stop();
  }
});
