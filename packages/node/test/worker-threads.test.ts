import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { get, traced } from '@osprofiler/core';
import Piscina from 'piscina';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentWorkerThreads, packContext, uninstrumentWorkerThreads, wrapTask } from '../src/index';
import { fixture, openStore, REGISTER, type FlatPoint, type Store } from './support/store';
import { inTrace, KEY } from './support/trace';

// Real worker threads: each loads the built register entry (as `--require` preloads are
// inherited by workers), receives the trace through environment data and writes its points
// to the same file:// store (the configuration comes with the context).
let store: Store;
beforeAll(() => {
  store = openStore();
  instrumentWorkerThreads();
});
afterAll(async () => {
  uninstrumentWorkerThreads();
  await store.close();
});

function runWorker(file: string, workerData?: unknown): Promise<{ messages: unknown[]; code: number; error: Error | undefined }> {
  const w = new Worker(file, { workerData, execArgv: ['--require', REGISTER] });
  const messages: unknown[] = [];
  let error: Error | undefined;
  w.on('message', (m) => messages.push(m));
  w.on('error', (e) => (error = e));
  return new Promise((resolve) => w.on('exit', (code) => resolve({ messages, code, error })));
}

const byName = (ps: FlatPoint[], name: string) => ps.filter((p) => p.name === name);

describe('thread points (worker_threads, real threads)', () => {
  it("new Worker() in a trace: a thread point from start to exit, the worker's run and points under it", async () => {
    const t = await inTrace(() => runWorker(fixture('worker-points.cjs'), { n: 1 }));
    expect(t.result.code).toBe(0);
    expect(t.result.messages).toEqual([{ baseId: t.baseId }]);
    const ps = await store.waitFor(t.baseId, 6);
    const [th] = byName(ps, 'thread');
    expect(th.parentId).toBe(t.outerId);
    expect(th.start).toMatchObject({ function: { name: 'worker-points.cjs' }, thread: { filename: fixture('worker-points.cjs') } });
    expect(th.stop).toMatchObject({ thread: { thread_id: expect.any(Number), exit_code: 0 } });
    const [wk] = byName(ps, 'worker');
    expect(wk.parentId).toBe(th.traceId);
    expect(wk.start).toMatchObject({ function: { name: 'worker-points.cjs' }, thread: { thread_id: (th.stop!.thread as { thread_id: number }).thread_id } });
    expect(wk.stop).toMatchObject({ thread: { exit_code: 0 } });
    expect(byName(ps, 'worker_work')[0].parentId).toBe(wk.traceId);
    expect(byName(ps, 'worker_inner')[0].parentId).toBe(byName(ps, 'worker_work')[0].traceId);
    expect(byName(ps, 'worker_async')[0].parentId).toBe(wk.traceId);
    expect(ps.map((p) => p.name).sort()).toEqual(['outer', 'thread', 'worker', 'worker_async', 'worker_inner', 'worker_work']);
  });

  it("a worker's uncaught error: etype/message and exit code 1 on the thread point; the app sees the same error", async () => {
    const t = await inTrace(() => runWorker(fixture('worker-points.cjs'), { fail: true }));
    expect(t.result.code).toBe(1);
    expect(t.result.error).toBeInstanceOf(TypeError);
    const ps = await store.waitFor(t.baseId, 2);
    expect(byName(ps, 'thread')[0].stop).toMatchObject({ thread: { exit_code: 1 }, etype: 'TypeError', message: 'worker failed on purpose' });
  });

  it('workers created concurrently from two traces (and one untraced) never mix contexts', async () => {
    const untraced = runWorker(fixture('worker-points.cjs'));
    const [a, b] = await Promise.all([
      inTrace(() => runWorker(fixture('worker-points.cjs'), { n: 'a' })),
      inTrace(() => runWorker(fixture('worker-points.cjs'), { n: 'b' })),
    ]);
    expect((await untraced).messages).toEqual([{ baseId: null }]);
    expect(a.result.messages).toEqual([{ baseId: a.baseId }]);
    expect(b.result.messages).toEqual([{ baseId: b.baseId }]);
    for (const t of [a, b]) {
      const ps = await store.waitFor(t.baseId, 6);
      expect(ps).toHaveLength(6);
      expect(byName(ps, 'worker')[0].parentId).toBe(byName(ps, 'thread')[0].traceId);
    }
  });

  it('outside a trace: no thread point and nothing handed over', async () => {
    const r = await runWorker(fixture('worker-points.cjs'));
    expect(r.messages).toEqual([{ baseId: null }]);
  });

  it('a worker that runs a Knex query on SQLite (better-sqlite3): db points under the worker point', async () => {
    const file = join(store.dir, `items-${randomUUID().slice(0, 8)}.sqlite`);
    const t = await inTrace(() => runWorker(fixture('worker-knex.cjs'), { file }));
    expect(t.result.error).toBeUndefined();
    expect(t.result.messages).toEqual([['a', 'b']]);
    const ps = await store.waitFor(t.baseId, 6);
    const [wk] = byName(ps, 'worker');
    const db = byName(ps, 'db');
    expect(db.map((p) => (p.start.function as { name: string }).name)).toEqual(['knex.schema.createTable', 'knex.insert', 'knex.select']);
    expect(db.every((p) => p.parentId === wk.traceId)).toBe(true);
    expect(db[2].start).toMatchObject({ db: { system: 'sqlite', operation: 'select', table: 'items' } });
    expect(db[2].stop).toMatchObject({ db: { rows: 2 } });
  });
});

describe('a worker pool (piscina) serving interleaved requests', () => {
  it('each task runs in its own request’s trace: every trace holds exactly its own points', async () => {
    const pool = new Piscina({ filename: fixture('pool-task.cjs'), minThreads: 2, maxThreads: 2, env: store.env(), execArgv: ['--require', REGISTER] });
    try {
      const requests = 8;
      const results = await Promise.all(
        Array.from({ length: requests }, (_, i) =>
          inTrace(() =>
            traced('request', { i }, async () => {
              const requestId = get()!.currentId;
              // Two tasks per request, delays chosen so tasks of different requests interleave on the 2 threads.
              const out = await Promise.all([
                pool.run(wrapTask({ n: i, delayMs: ((i * 7) % 5) * 4 + 2 })) as Promise<{ n2: number; baseId: string; threadId: number }>,
                pool.run(wrapTask({ n: i + 100, delayMs: ((i * 3) % 4) * 5 + 1 }, { name: 'square_again' })) as Promise<{ n2: number; baseId: string; threadId: number }>,
              ]);
              return { requestId, out };
            }),
          ),
        ),
      );
      // Untraced: the payload goes through unwrapped and untraced.
      const plain = { n2: 9, baseId: null, threadId: expect.any(Number) };
      expect(await pool.run(wrapTask({ n: 3, delayMs: 1 }))).toEqual(plain);
      // A forged or expired context: the task runs, untraced, on its payload.
      const base = randomUUID();
      for (const context of [packContext(base, base, 'NOT_THE_KEY', 60_000), packContext(base, base, KEY, 1_000, Date.now() - 10_000)]) {
        expect(await pool.run({ __osprofilerTask: 1, context, name: undefined, payload: { n: 3, delayMs: 1 } })).toEqual(plain);
      }
      expect(await store.points(base)).toEqual([]);
      for (const [i, r] of results.entries()) {
        expect(r.result.out).toEqual([
          { n2: i * i, baseId: r.baseId, threadId: expect.any(Number) },
          { n2: (i + 100) * (i + 100), baseId: r.baseId, threadId: expect.any(Number) },
        ]);
        // The tasks stored their points before answering: no waiting needed.
        const ps = await store.points(r.baseId);
        expect(ps.filter((p) => p.stop !== undefined)).toHaveLength(6);
        expect(ps.map((p) => p.name).sort()).toEqual(['outer', 'pool_step', 'pool_step', 'request', 'task', 'task']);
        const tasks = byName(ps, 'task');
        expect(tasks.every((p) => p.parentId === r.result.requestId)).toBe(true);
        expect(tasks.map((p) => (p.start.function as { name: string }).name).sort()).toEqual(['square', 'square_again']);
        const steps = byName(ps, 'pool_step');
        expect(steps.map((s) => (s.start as { n: number }).n).sort((x, y) => x - y)).toEqual([i, i + 100]);
        for (const s of steps) expect(tasks.map((p) => p.traceId)).toContain(s.parentId);
        expect(byName(ps, 'thread')).toHaveLength(0); // pool workers outlive requests: no thread point
      }
      // The two threads both served tasks of several requests.
      const threadIds = results.flatMap((r) => r.result.out.map((o) => o.threadId));
      expect(new Set(threadIds).size).toBe(2);
    } finally {
      await pool.destroy();
    }
  });
});
