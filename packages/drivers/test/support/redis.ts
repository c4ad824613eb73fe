/**
 * The real Redis on 127.0.0.1:6379, in a database of its own per test file. Tests delete
 * exactly the keys of the traces they made, never the whole database.
 */
import { Redis } from 'ioredis';

export const REDIS_HOST = '127.0.0.1';
export const REDIS_PORT = 6379;

export function redisUrl(db: number, query = ''): string {
  return `redis://${REDIS_HOST}:${REDIS_PORT}/${db}${query}`;
}

export class RedisFixture {
  readonly client: Redis;
  private readonly baseIds = new Set<string>();
  private readonly extraKeys = new Set<string>();

  constructor(readonly db: number) {
    this.client = new Redis({ host: REDIS_HOST, port: REDIS_PORT, db, lazyConnect: true, maxRetriesPerRequest: 1 });
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
    for (const id of this.baseIds) keys.push(`osprofiler_opt:${id}`, `osprofiler_error:${id}`, `osprofiler_idx:t:${id}`);
    if (keys.length > 0) await this.client.del(...keys);
    // The search index's sorted sets (shared keys): remove exactly our members.
    if (this.baseIds.size > 0) {
      const ids = [...this.baseIds];
      for (const z of ['osprofiler_idx:start', ...(await this.client.smembers('osprofiler_idx:keys'))]) await this.client.zrem(z, ...ids);
    }
    this.baseIds.clear();
    this.extraKeys.clear();
  }

  async close(): Promise<void> {
    await this.cleanup();
    await this.client.quit();
  }
}
