/**
 * The test file's own redis-server (tools/testing/redis-server: free port, temp dir), and a
 * client on it. Nothing else writes there, so listings and counts see only this file's
 * traces; tests still delete the keys of the traces they made, so one test's keys never
 * reach the next test's assertions.
 */
import { Redis } from 'ioredis';
import { RedisServer } from '../../../../tools/testing/redis-server';

export class RedisFixture {
  readonly server = new RedisServer();
  private _client: Redis | undefined;
  private readonly baseIds = new Set<string>();
  private readonly extraKeys = new Set<string>();

  /** Starts the server and connects the client (in beforeAll). */
  async start(): Promise<void> {
    await this.server.start();
    this._client = new Redis({ host: '127.0.0.1', port: this.server.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await this._client.connect();
  }

  get client(): Redis {
    if (this._client === undefined) throw new Error('RedisFixture: start() it first');
    return this._client;
  }

  /** The connection string of database `db` (default 0) on this server. */
  url(query = '', db = 0): string {
    return this.server.url(db, query);
  }

  /** Remembers a trace this test wrote, so cleanup deletes its keys. */
  track(baseId: string): string {
    this.baseIds.add(baseId);
    return baseId;
  }

  trackKey(key: string): string {
    this.extraKeys.add(key);
    return key;
  }

  async cleanup(): Promise<void> {
    const keys = [...this.extraKeys];
    for (const id of this.baseIds) keys.push(`osprofiler_opt:${id}`, `osprofiler_error:${id}`);
    if (keys.length > 0) await this.client.del(...keys);
    // The search index's batches are shared by traces: remove the batches holding ours.
    if (this.baseIds.size > 0) {
      const members = (await this.indexBatches()).filter((b) => b.ids.some((id) => this.baseIds.has(id))).map((b) => b.member);
      if (members.length > 0) {
        await this.client.del(...members.flatMap((m) => [`osprofiler_idx:b:${m}`, `osprofiler_idx:i:${m}`]));
        for (const z of ['osprofiler_idx:batches', ...(await this.client.smembers('osprofiler_idx:vkeys'))]) await this.client.zrem(z, ...members);
      }
      await this.client.zrem('osprofiler_idx:split', ...this.baseIds);
    }
    this.baseIds.clear();
    this.extraKeys.clear();
  }

  /** The search index's batches (layout 2: src/redis/index-layout.ts): member and ids. */
  async indexBatches(): Promise<{ member: string; ids: string[] }[]> {
    // Every batch's ids: cleanup() needs them all, not one trace's (batchesOf).
    const keys = await this.client.keys('osprofiler_idx:i:*');
    if (keys.length === 0) return [];
    const values = await this.client.mget(...keys);
    return keys.map((k, i) => ({ member: k.slice('osprofiler_idx:i:'.length), ids: (values[i] ?? '').split(' ') }));
  }

  /** The records (summary JSON, parsed) the index's batches hold for `baseId`. */
  async indexRecords(baseId: string): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for (const b of await this.indexBatches()) {
      if (!b.ids.includes(baseId)) continue;
      const blob = (await this.client.get(`osprofiler_idx:b:${b.member}`)) ?? '';
      for (const line of blob.split('\n')) {
        const rec = JSON.parse(line) as Record<string, unknown>;
        if (rec.id === baseId) out.push(rec);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this._client !== undefined) await this._client.quit();
    await this.server.close();
  }
}

/**
 * A test file's own redis-server whose tests each take a database of their own (db()): a
 * fresh db is empty, so nothing another test stored is counted or found. What the tests
 * open (keep()) is closed before the server.
 */
export class RedisDbs {
  server!: RedisServer;
  private last = 0;
  private readonly open: { close(): Promise<unknown> | void }[] = [];

  async start(): Promise<void> {
    this.server = await RedisServer.start();
  }

  /** A fresh db: its number and a client on it. */
  async db(): Promise<{ n: number; c: Redis }> {
    const n = ++this.last;
    const c = new Redis({ host: '127.0.0.1', port: this.server.port, db: n, lazyConnect: true, maxRetriesPerRequest: 1 });
    await c.connect();
    this.keep({ close: () => c.quit() });
    return { n, c };
  }

  /** `o`, closed with the server. */
  keep<T extends { close(): Promise<unknown> | void }>(o: T): T {
    this.open.push(o);
    return o;
  }

  async close(): Promise<void> {
    for (const o of this.open.reverse()) await o.close();
    await this.server?.close();
  }
}

/** The search index's batches (layout 2, src/redis/index-layout.ts) whose ids list `id`. */
export async function batchesOf(c: Redis, id: string): Promise<string[]> {
  const keys = await c.keys('osprofiler_idx:i:*');
  const values = keys.length === 0 ? [] : await c.mget(...keys);
  return keys.filter((_, i) => (values[i] ?? '').split(' ').includes(id)).map((k) => k.slice('osprofiler_idx:i:'.length));
}
