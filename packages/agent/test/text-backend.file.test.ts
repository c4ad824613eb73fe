// The raw path into a driver that stores text: core formats Python lines once, agent://
// frames them, the agent splits them without parsing and the file:// driver appends them
// as they came. Backend: a file:// store in a temp dir of this test.
import { expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent } from '@osprofiler/agent';
import { configure, createDriver, flush, get, pyDumps, run, shutdown, traced } from '@osprofiler/core';
import { parseStoredEvent } from '@osprofiler/core/instrument';
import { tempDir } from './support/procs';

function storedLines(dir: string, baseId: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.startsWith(baseId)) out.push(...readFileSync(join(d, e.name), 'latin1').split('\n').filter(Boolean));
    }
  };
  walk(dir);
  return out;
}

it('agent:// → agent → file://: the stored lines are Python\'s json.dumps, byte for byte', async () => {
  const dir = tempDir('text');
  const socket = join(dir, 'agent.sock');
  const store = join(dir, 'store');
  const agent = await startAgent({ socketPath: socket, backend: `file://${store}`, driverOptions: { filterErrorTrace: true } });
  try {
    configure({ connectionString: `agent://${socket}?exit_hooks=0`, service: 'svc"é', project: null, host: 'node-1', flushIntervalMs: 5 });
    let baseId = '';
    await run({ hmacKey: 'k' }, async () => {
      baseId = get()?.baseId ?? '';
      traced('query', { db: { statement: 'SELECT "ü" -- \n', params: [1, 2.5, null, NaN] } }, () => 1);
      try {
        traced('fails', {}, () => {
          throw new RangeError('bad "x"');
        });
      } catch {
        // expected: traced rethrows
      }
    });
    await flush(10_000);
    expect(agent.metrics.written).toBe(4);
    expect(agent.metrics.dropped.bad_points).toBe(0);
    await agent.stop();

    const lines = storedLines(join(store, 'traces'), baseId);
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      // What Python's json.dumps writes for the parsed notification, in the wire's key order.
      const ev = parseStoredEvent(line) as Record<string, unknown>;
      expect(line).toBe(pyDumps(ev));
      expect(Object.keys(ev)).toEqual(['name', 'base_id', 'trace_id', 'parent_id', 'timestamp', 'info', 'project', 'service']);
      expect(line).toMatch(/^[\x20-\x7e]+$/);
    }
    const start = parseStoredEvent(lines.find((l) => l.includes('"query-start"')) as string) as { info: { db: { params: unknown[] } }; service: string };
    expect(start.service).toBe('svc"é');
    expect(Number.isNaN(start.info.db.params[3])).toBe(true); // Python's bare NaN kept
    const reader = await createDriver(`file://${store}`);
    expect((await reader.listErrorTraces()).map((t) => t.base_id)).toContain(baseId);
    expect((await reader.getReport(baseId)).children.map((c) => c.info.name).sort()).toEqual(['fails', 'query']);
    await reader.close();
  } finally {
    await shutdown(5_000);
    await agent.stop();
  }
}, 60_000);
