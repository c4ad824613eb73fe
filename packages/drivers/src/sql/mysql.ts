/**
 * `mysql://` (MySQL, MariaDB) with mysql2. Batches go in as multi-row INSERTs; a point
 * written twice hits the (trace_id, name) unique key and is ignored
 * (ON DUPLICATE KEY UPDATE id = id: unlike INSERT IGNORE, other errors still fail).
 */
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { DriverOptions } from '@osprofiler/core';
import type { DriverFactory } from '@osprofiler/core/instrument';
import { connectError, endpointOf } from '../errors';
import { requirePeer } from '../optional';
import type { Unrefable } from '../idle-unref';
import { SqlDriver, type TableNames } from './base';
import { sqlSettings, type SqlSettings } from './options';
import type { PointRow } from './rows';

type Mysql = typeof import('mysql2/promise');

/** Rows per INSERT statement (well under the default 16 MiB max_allowed_packet). */
const INSERT_CHUNK = 2000;

export function mysqlSchema(t: TableNames): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${t.points} (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      base_id VARCHAR(255) NOT NULL,
      trace_id VARCHAR(255) NOT NULL,
      name VARCHAR(255) NOT NULL,
      ts BIGINT NOT NULL,
      event MEDIUMTEXT NOT NULL,
      project VARCHAR(255) NULL,
      service VARCHAR(255) NULL,
      created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
      UNIQUE KEY ${t.points}_point (trace_id, name),
      KEY ${t.points}_base (base_id, id),
      KEY ${t.points}_created (created_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    `CREATE TABLE IF NOT EXISTS ${t.errors} (
      base_id VARCHAR(255) NOT NULL PRIMARY KEY,
      ts BIGINT NOT NULL,
      created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  ];
}

export class MysqlDriver extends SqlDriver {
  readonly scheme = 'mysql';

  constructor(
    settings: SqlSettings,
    endpoint: string,
    private readonly pool: Pool,
  ) {
    super(settings, endpoint);
    // Each new connection's socket: unref'd while the driver is idle (see IdleUnref).
    pool.on('connection', (conn) => this.keep.add((conn as unknown as { stream?: Unrefable }).stream));
  }

  /** Creates the tables if missing (several processes may start at once: MySQL's CREATE TABLE IF NOT EXISTS is atomic). */
  createSchema(): Promise<void> {
    return this.keep.run(async () => {
      for (const ddl of mysqlSchema(this.tables)) await this.pool.query(ddl);
    });
  }

  protected async insertPoints(rows: readonly PointRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const values = rows
        .slice(i, i + INSERT_CHUNK)
        .map((r) => [r.baseId, r.traceId, r.name, r.ts, r.event, r.project, r.service]);
      await this.pool.query(
        `INSERT INTO ${this.tables.points} (base_id, trace_id, name, ts, event, project, service) VALUES ? ON DUPLICATE KEY UPDATE id = id`,
        [values],
      );
    }
  }

  protected async upsertErrors(errors: ReadonlyMap<string, string>): Promise<void> {
    const values = [...errors].map(([baseId, ts]) => [baseId, ts]);
    await this.pool.query(
      `INSERT INTO ${this.tables.errors} (base_id, ts) VALUES ? ON DUPLICATE KEY UPDATE ts = VALUES(ts), created_at = CURRENT_TIMESTAMP(6)`,
      [values],
    );
  }

  protected async selectEvents(baseId: string): Promise<string[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(`SELECT event FROM ${this.tables.points} WHERE base_id = ? ORDER BY id DESC`, [baseId]);
    return rows.map((row) => String(row.event));
  }

  protected async selectTraces(limit: number | undefined): Promise<[string, bigint][]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT base_id, MIN(ts) AS ts FROM ${this.tables.points} GROUP BY base_id ORDER BY 2 DESC, 1` + (limit === undefined ? '' : ` LIMIT ${limit}`),
    );
    return rows.map((row) => [String(row.base_id), BigInt(row.ts)]);
  }

  protected async selectErrorTraces(limit: number | undefined): Promise<[string, bigint][]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT base_id, ts FROM ${this.tables.errors} ORDER BY ts DESC, base_id` + (limit === undefined ? '' : ` LIMIT ${limit}`),
    );
    return rows.map((row) => [String(row.base_id), BigInt(row.ts)]);
  }

  protected async deleteOlder(table: string, maxAgeMs: number, chunk: number): Promise<number> {
    const [r] = await this.pool.query<ResultSetHeader>(
      `DELETE FROM ${table} WHERE created_at < NOW(6) - INTERVAL ? MICROSECOND LIMIT ${chunk}`,
      [maxAgeMs * 1000],
    );
    return r.affectedRows;
  }

  protected closeClient(): Promise<void> {
    return this.pool.end();
  }
}

/** Connects, checks the server answers and creates the tables. */
export async function createMysqlDriver(url: URL, options: Partial<DriverOptions> = {}): Promise<MysqlDriver> {
  const { settings, clientUrl } = sqlSettings(url, options);
  const scheme = url.protocol.slice(0, -1);
  const endpoint = `${endpointOf(url, 3306)}${url.pathname}`;
  const mysql = requirePeer<Mysql>('mysql2/promise', scheme);
  const extra = Object.fromEntries(clientUrl.searchParams);
  const pool = mysql.createPool({
    ...extra,
    host: url.hostname === '' ? 'localhost' : url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 3306 : Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)),
    connectionLimit: settings.poolSize,
    connectTimeout: settings.connectTimeoutMs,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const driver = new MysqlDriver(settings, endpoint, pool);
  try {
    await driver.createSchema();
  } catch (err) {
    await driver.close(0).catch(() => undefined);
    throw connectError(scheme, endpoint, err);
  }
  driver.startRetention();
  return driver;
}

export const mysqlDriverFactory: DriverFactory = (url, options) => createMysqlDriver(url, options);
