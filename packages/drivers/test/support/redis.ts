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
    // The search index's keys are shared by all traces: remove exactly our ids.
    if (this.baseIds.size > 0) {
      const ids = [...this.baseIds];
      await this.client.hdel('osprofiler_idx:sum', ...ids);
      await this.client.zrem('osprofiler_idx:start', ...ids);
      const sets = [...(await this.client.smembers('osprofiler_idx:keys')), ...(await this.client.keys('osprofiler_idx:dur:*'))];
      for (const s of sets) await this.client.srem(s, ...ids);
    }
    this.baseIds.clear();
    this.extraKeys.clear();
  }

  async close(): Promise<void> {
    if (this._client !== undefined) await this._client.quit();
    await this.server.close();
  }
}
