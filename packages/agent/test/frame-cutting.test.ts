// A batch larger than a frame is cut at line ends into several frames, and points dropped
// from the middle of a queued batch leave the rest intact. Backend: a named memory:// store
// in the agent (this process), read back line by line.
import { expect, it } from 'vitest';
import { join } from 'node:path';
import { AgentClientDriver, clientOptionsFromUrl, startAgent } from '@osprofiler/agent';
import { createDriver, pyDumps, type MemoryDriver, type Notification } from '@osprofiler/core';
import { tempDir } from './support/procs';

function notes(n: number, traces: string[]): Notification[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `p${i}-${i % 2 ? 'stop' : 'start'}`,
    base_id: traces[i % traces.length],
    trace_id: `t${i}`,
    parent_id: traces[i % traces.length],
    timestamp: `2026-11-23T07:00:00.${String(i).padStart(6, '0')}`,
    info: { i, host: 'h' },
    project: null,
    service: 's',
  }));
}

it('cuts a 2,500-point batch into frames of 1,000 at line ends; every point stored once, in order', async () => {
  const socket = join(tempDir('cut'), 'agent.sock');
  const agent = await startAgent({ socketPath: socket, backend: 'memory://frame-cutting' });
  const client = new AgentClientDriver(clientOptionsFromUrl(new URL(`agent://${socket}?max_batch_points=1000&exit_hooks=0`)));
  try {
    const traces = ['trace-a', 'trace-b', 'trace-c'];
    const batch = notes(2500, traces);
    const lines = batch.map((n) => pyDumps(n));
    client.notifyLines({ baseIds: batch.map((n) => n.base_id), timestamps: batch.map((n) => n.timestamp), lines, errors: null });
    await client.flush(10_000);
    expect(client.counters.acknowledged).toBe(2500);
    expect(agent.metrics.frames).toBeGreaterThanOrEqual(4); // HELLO + at least 3 BATCH frames
    expect(agent.metrics.written).toBe(2500);
    const store = (await createDriver('memory://frame-cutting')) as MemoryDriver;
    for (const t of traces) expect(store.rawEvents(t)).toEqual(lines.filter((_, i) => batch[i].base_id === t));
  } finally {
    await client.close(1_000);
    await agent.stop();
  }
});
