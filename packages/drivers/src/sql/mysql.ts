/**
 * `mysql://` (MySQL, MariaDB) with mysql2. Batches go in as multi-row INSERTs; a point
 * written twice hits the (trace_id, name) unique key and is ignored
 * (ON DUPLICATE KEY UPDATE id = id: unlike INSERT IGNORE, other errors still fail).
 */
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { DriverOptions } from '@osprofiler/core';
import type { DriverFactory, NormalisedSearch } from '@osprofiler/core/instrument';
import { connectError, endpointOf } from '../errors';
import { requirePeer } from '../optional';
import type { Unrefable } from '../idle-unref';
import { SqlDriver, type TableNames } from './base';
import { sqlSettings, type SqlSettings } from './options';
import type { PointRow } from './rows';
import { likeContains, type SummaryPage, type SummaryResult, type SummaryRow } from './summary';

type Mysql = typeof import('mysql2/promise');

const RESULT_COLUMNS = 'base_id, first_ts, last_ts, first_us, last_us, points, error, root_name, root_service, root_detail, route';

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
    `CREATE TABLE IF NOT EXISTS ${t.traces} (
      base_id VARCHAR(255) NOT NULL PRIMARY KEY,
      first_ts VARCHAR(32) NOT NULL,
      last_ts VARCHAR(32) NOT NULL,
      first_us BIGINT NOT NULL,
      last_us BIGINT NOT NULL,
      duration_us BIGINT NOT NULL,
      points INT NOT NULL,
      error TINYINT(1) NOT NULL,
      root_key VARCHAR(40) NOT NULL,
      root_name VARCHAR(255) NULL,
      root_service VARCHAR(255) NULL,
      root_detail TEXT NULL,
      route TEXT NULL,
      search_text TEXT NOT NULL,
      created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
      KEY ${t.traces}_first (first_us, base_id),
      KEY ${t.traces}_errors (error, first_us, base_id),
      KEY ${t.traces}_created (created_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    `CREATE TABLE IF NOT EXISTS ${t.tags} (
      kind CHAR(1) NOT NULL,
      value VARCHAR(255) NOT NULL,
      base_id VARCHAR(255) NOT NULL,
      created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
      PRIMARY KEY (kind, value, base_id),
      KEY ${t.tags}_base (base_id),
      KEY ${t.tags}_created (created_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  ];
}

const SPECIAL = /[\0\n\r\x1a'\\]/;
const SPECIAL_ALL = /[\0\n\r\x1a'\\]/g;
const ESCAPED: Record<string, string> = { '\0': '\\0', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z', "'": "\\'", '\\': '\\\\' };

/**
 * A string literal as mysql2 escapes it (the server's default sql_mode, backslash escapes
 * on), but only rewritten when it holds something to escape: a stored line always holds
 * `"`, which mysql2 escapes too (a callback per quote) though a single-quoted literal
 * needs no escape for it.
 */
function quote(v: string | null): string {
  if (v === null) return 'NULL';
  return "'" + (SPECIAL.test(v) ? v.replace(SPECIAL_ALL, (c) => ESCAPED[c]) : v) + "'";
}

export class MysqlDriver extends SqlDriver {
  readonly scheme = 'mysql';
  protected readonly tagTable = this.tables.tags;

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
      let values = '';
      for (let k = i; k < Math.min(rows.length, i + INSERT_CHUNK); k++) {
        const r = rows[k];
        values += (k === i ? '(' : ', (') + quote(r.baseId) + ', ' + quote(r.traceId) + ', ' + quote(r.name) + ', ' + r.ts + ', ' +
          quote(r.event) + ', ' + quote(r.project) + ', ' + quote(r.service) + ')';
      }
      await this.pool.query(
        `INSERT INTO ${this.tables.points} (base_id, trace_id, name, ts, event, project, service) VALUES ${values} ON DUPLICATE KEY UPDATE id = id`,
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

  protected async upsertSummaries(rows: readonly SummaryRow[], on: Pool | PoolConnection = this.pool): Promise<void> {
    const values = rows.map((r) => [
      r.baseId, r.firstTs, r.lastTs, r.firstUs, r.lastUs, String(BigInt(r.lastUs) - BigInt(r.firstUs)), r.points, r.error ? 1 : 0,
      r.rootKey, r.rootName, r.rootService, r.rootDetail, r.route, r.text,
    ]);
    const better = 'VALUES(root_key) < root_key';
    // ON DUPLICATE KEY UPDATE assigns left to right and later ones see earlier results:
    // the root fields before root_key, duration after first_us/last_us.
    await on.query(
      `INSERT INTO ${this.tables.traces} (base_id, first_ts, last_ts, first_us, last_us, duration_us, points, error, root_key, root_name, root_service, root_detail, route, search_text)
       VALUES ? ON DUPLICATE KEY UPDATE
         root_name = IF(${better}, VALUES(root_name), root_name),
         root_service = IF(${better}, VALUES(root_service), root_service),
         root_detail = IF(${better}, VALUES(root_detail), root_detail),
         root_key = LEAST(root_key, VALUES(root_key)),
         first_ts = LEAST(first_ts, VALUES(first_ts)),
         last_ts = GREATEST(last_ts, VALUES(last_ts)),
         first_us = LEAST(first_us, VALUES(first_us)),
         last_us = GREATEST(last_us, VALUES(last_us)),
         duration_us = last_us - first_us,
         points = points + VALUES(points),
         error = GREATEST(error, VALUES(error)),
         route = COALESCE(route, VALUES(route)),
         search_text = IF(CHAR_LENGTH(search_text) >= 4096 OR VALUES(search_text) = '' OR LOCATE(VALUES(search_text), search_text) > 0,
           search_text, LEFT(CONCAT(search_text, '\n', VALUES(search_text)), 4096))`,
      [values],
    );
    const tags = rows.flatMap((r) => r.tags.map(([kind, value]) => [kind, value, r.baseId]));
    if (tags.length > 0) await on.query(`INSERT IGNORE INTO ${this.tables.tags} (kind, value, base_id) VALUES ?`, [tags]);
  }

  protected async openSummaries(rows: readonly SummaryRow[]): Promise<(commit: boolean) => Promise<void>> {
    const conn = await this.pool.getConnection();
    const tx = { query: (sql: string) => conn.query(sql), release: () => conn.release(), drop: () => conn.destroy() };
    return this.openTransaction(tx, 'START TRANSACTION', () => this.upsertSummaries(rows, conn));
  }

  protected async selectSummaries(s: NormalisedSearch, limit: number): Promise<SummaryPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const tag = (kind: string, value: string | undefined): void => {
      if (value === undefined) return;
      where.push(`EXISTS (SELECT 1 FROM ${this.tables.tags} g WHERE g.kind = ? AND g.value = ? AND g.base_id = t.base_id)`);
      params.push(kind, value);
    };
    tag('s', s.service);
    tag('p', s.project);
    tag('h', s.host);
    const cond = (sql: string, ...v: unknown[]): void => {
      where.push(sql);
      params.push(...v);
    };
    if (s.errorsOnly) cond('t.error = 1');
    if (s.root !== undefined) cond('t.root_name = ?', s.root);
    if (s.sinceMs !== undefined) cond('t.first_us >= ?', Math.round(s.sinceMs * 1000));
    if (s.untilMs !== undefined) cond('t.first_us <= ?', Math.round(s.untilMs * 1000));
    if (s.minDurationMs !== undefined) cond('t.duration_us >= ?', Math.round(s.minDurationMs * 1000));
    if (s.maxDurationMs !== undefined) cond('t.duration_us <= ?', Math.round(s.maxDurationMs * 1000));
    if (s.after !== undefined) cond('(t.first_us < ? OR (t.first_us = ? AND t.base_id < ?))', s.after.startUs, s.after.startUs, s.after.baseId);
    const filter = where.length > 0 ? 'WHERE ' + where.join(' AND ') : '';
    if (s.text === undefined) {
      const [rows] = await this.pool.query<RowDataPacket[]>(
        `SELECT ${RESULT_COLUMNS} FROM ${this.tables.traces} t ${filter} ORDER BY t.first_us DESC, t.base_id DESC LIMIT ${Math.floor(limit)}`,
        params,
      );
      return { rows: rows as unknown as SummaryResult[] };
    }
    // Bounded as in postgres.ts: the newest `textBound` traces the other filters let through (c).
    const bound = Math.floor(this.textBound);
    const like = likeContains(s.text);
    const [all] = await this.pool.query<RowDataPacket[]>(
      `WITH c AS (SELECT ${RESULT_COLUMNS}, search_text FROM ${this.tables.traces} t ${filter}
         ORDER BY t.first_us DESC, t.base_id DESC LIMIT ${bound})
       SELECT * FROM (
         (SELECT 0 AS edge, ${RESULT_COLUMNS} FROM c WHERE c.search_text LIKE ? ESCAPE '!' OR LOWER(c.root_name) LIKE ? ESCAPE '!'
          ORDER BY first_us DESC, base_id DESC LIMIT ${Math.floor(limit)})
         UNION ALL
         (SELECT 1 AS edge, ${RESULT_COLUMNS} FROM c WHERE (SELECT COUNT(*) FROM c) >= ${bound}
          ORDER BY first_us ASC, base_id ASC LIMIT 1)
       ) u ORDER BY edge, first_us DESC, base_id DESC`,
      [...params, like, like],
    );
    const rows = all as unknown as (SummaryResult & { edge: number | string })[];
    const edge = Number(rows[rows.length - 1]?.edge) === 1 ? rows.pop() : undefined;
    return { rows, edge };
  }

  protected async selectTags(baseIds: string[]): Promise<{ base_id: string; kind: string; value: string }[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT base_id, kind, value FROM ${this.tables.tags} WHERE base_id IN (?) ORDER BY base_id, kind, value`,
      [baseIds],
    );
    return rows as unknown as { base_id: string; kind: string; value: string }[];
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
