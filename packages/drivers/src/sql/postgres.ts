/**
 * `postgresql://` (and `postgres://`) with pg. Batches go in with COPY … FROM STDIN
 * (pg-copy-streams); a batch that hits the (trace_id, name) unique key — a point written
 * twice, e.g. resent after a timeout — is retried as INSERT … ON CONFLICT DO NOTHING.
 */
import type { Pool, PoolClient } from 'pg';
import type { DriverOptions } from '@osprofiler/core';
import type { DriverFactory } from '@osprofiler/core/instrument';
import { connectError, endpointOf } from '../errors';
import { requirePeer } from '../optional';
import { SqlDriver, type TableNames } from './base';
import { sqlSettings, type SqlSettings } from './options';
import type { PointRow } from './rows';

type Pg = typeof import('pg');
type CopyStreams = typeof import('pg-copy-streams');

const COLUMNS = 'base_id, trace_id, name, ts, event, project, service';
/** Rows per INSERT in the duplicate-tolerant fallback (7 parameters each, under pg's 65535). */
const INSERT_CHUNK = 1000;

export function postgresSchema(t: TableNames): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${t.points} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      base_id text NOT NULL,
      trace_id text NOT NULL,
      name text NOT NULL,
      ts bigint NOT NULL,
      event text NOT NULL,
      project text,
      service text,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ${t.points}_point UNIQUE (trace_id, name)
    )`,
    `CREATE INDEX IF NOT EXISTS ${t.points}_base ON ${t.points} (base_id, id)`,
    // created_at only grows: a BRIN index is tiny and nearly free to keep up, and enough for prune.
    `CREATE INDEX IF NOT EXISTS ${t.points}_created ON ${t.points} USING brin (created_at)`,
    `CREATE TABLE IF NOT EXISTS ${t.errors} (
      base_id text PRIMARY KEY,
      ts bigint NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
  ];
}

/** COPY text format: backslash, newline, carriage return and tab escaped; NULL is \N. */
function copyField(v: string | null): string {
  if (v === null) return '\\N';
  return /[\\\n\r\t]/.test(v) ? v.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t')) : v;
}

function copyText(rows: readonly PointRow[]): string {
  let out = '';
  for (const r of rows) {
    out +=
      copyField(r.baseId) + '\t' + copyField(r.traceId) + '\t' + copyField(r.name) + '\t' + r.ts + '\t' +
      copyField(r.event) + '\t' + copyField(r.project) + '\t' + copyField(r.service) + '\n';
  }
  return out;
}

export class PostgresDriver extends SqlDriver {
  readonly scheme = 'postgresql';

  constructor(
    settings: SqlSettings,
    endpoint: string,
    private readonly pool: Pool,
    private readonly copyFrom: CopyStreams['from'],
  ) {
    super(settings, endpoint);
  }

  protected async insertPoints(rows: readonly PointRow[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      try {
        await this.copy(client, rows);
      } catch (err) {
        if ((err as { code?: string }).code !== '23505') throw err; // unique_violation
        await this.insertIgnoringDuplicates(client, rows);
      }
    } finally {
      client.release();
    }
  }

  private copy(client: PoolClient, rows: readonly PointRow[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const stream = client.query(this.copyFrom(`COPY ${this.tables.points} (${COLUMNS}) FROM STDIN`));
      stream.on('error', reject);
      stream.on('finish', () => resolve());
      stream.end(copyText(rows));
    });
  }

  private async insertIgnoringDuplicates(client: PoolClient, rows: readonly PointRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      const params: unknown[] = [];
      const values = chunk.map((r) => {
        const k = params.length;
        params.push(r.baseId, r.traceId, r.name, r.ts, r.event, r.project, r.service);
        return `($${k + 1}, $${k + 2}, $${k + 3}, $${k + 4}, $${k + 5}, $${k + 6}, $${k + 7})`;
      });
      await client.query(
        `INSERT INTO ${this.tables.points} (${COLUMNS}) VALUES ${values.join(', ')} ON CONFLICT (trace_id, name) DO NOTHING`,
        params,
      );
    }
  }

  protected async upsertErrors(errors: ReadonlyMap<string, string>): Promise<void> {
    const params: unknown[] = [];
    const values: string[] = [];
    for (const [baseId, ts] of errors) {
      values.push(`($${params.length + 1}, $${params.length + 2})`);
      params.push(baseId, ts);
    }
    await this.pool.query(
      `INSERT INTO ${this.tables.errors} (base_id, ts) VALUES ${values.join(', ')}
       ON CONFLICT (base_id) DO UPDATE SET ts = EXCLUDED.ts, created_at = now()`,
      params,
    );
  }

  protected async selectEvents(baseId: string): Promise<string[]> {
    const r = await this.pool.query<{ event: string }>(`SELECT event FROM ${this.tables.points} WHERE base_id = $1 ORDER BY id DESC`, [baseId]);
    return r.rows.map((row) => row.event);
  }

  protected async selectTraces(limit: number | undefined): Promise<[string, bigint][]> {
    const r = await this.pool.query<{ base_id: string; ts: string }>(
      `SELECT base_id, MIN(ts) AS ts FROM ${this.tables.points} GROUP BY base_id ORDER BY 2 DESC, 1 LIMIT $1`,
      [limit ?? null],
    );
    return r.rows.map((row) => [row.base_id, BigInt(row.ts)]);
  }

  protected async selectErrorTraces(limit: number | undefined): Promise<[string, bigint][]> {
    const r = await this.pool.query<{ base_id: string; ts: string }>(
      `SELECT base_id, ts FROM ${this.tables.errors} ORDER BY ts DESC, base_id LIMIT $1`,
      [limit ?? null],
    );
    return r.rows.map((row) => [row.base_id, BigInt(row.ts)]);
  }

  protected async deleteOlder(table: string, maxAgeMs: number, chunk: number): Promise<number> {
    const key = table === this.tables.points ? 'id' : 'base_id';
    const r = await this.pool.query(
      `DELETE FROM ${table} WHERE ${key} IN
         (SELECT ${key} FROM ${table} WHERE created_at < now() - $1 * interval '1 millisecond' LIMIT $2)`,
      [maxAgeMs, chunk],
    );
    return r.rowCount ?? 0;
  }

  protected closeClient(): Promise<void> {
    return this.pool.end();
  }
}

/** Connects, checks the server answers and creates the tables (once, under an advisory lock). */
export async function createPostgresDriver(url: URL, options: Partial<DriverOptions> = {}): Promise<PostgresDriver> {
  const { settings, clientUrl } = sqlSettings(url, options);
  const scheme = url.protocol.slice(0, -1);
  const endpoint = `${endpointOf(url, 5432)}${url.pathname}`;
  const { Pool } = requirePeer<Pg>('pg', scheme);
  const { from } = requirePeer<CopyStreams>('pg-copy-streams', scheme);
  clientUrl.protocol = 'postgresql:';
  const pool = new Pool({
    connectionString: clientUrl.href,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    // Idle connections do not keep the process alive (active ones do, until answered).
    allowExitOnIdle: true,
  });
  // An idle client that loses its server emits 'error' on the pool; pg would rethrow it.
  pool.on('error', () => undefined);
  // Queued before anything else the new connection runs.
  if (!settings.synchronousCommit) pool.on('connect', (client) => void client.query('SET synchronous_commit = off').catch(() => undefined));
  const driver = new PostgresDriver(settings, endpoint, pool, from);
  try {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // Several processes may start at once: CREATE … IF NOT EXISTS alone can still race.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`osprofiler:${settings.tablePrefix}`]);
      for (const ddl of postgresSchema(driver.tables)) await client.query(ddl);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  } catch (err) {
    await driver.close(0).catch(() => undefined);
    throw connectError(scheme, endpoint, err);
  }
  driver.startRetention();
  return driver;
}

export const postgresDriverFactory: DriverFactory = (url, options) => createPostgresDriver(url, options);
