/**
 * The real PostgreSQL (127.0.0.1:5432, user postgres, db test) and MariaDB (127.0.0.1:3306,
 * root, db test). Each test run uses tables with a prefix of its own and drops exactly
 * those tables at the end.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';

export const POSTGRES_URL = 'postgresql://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = 'mysql://root@127.0.0.1:3306/test';

export function uniquePrefix(): string {
  return `osp_t${randomBytes(4).toString('hex')}_`;
}

/** Raw SQL on the same server, for checks behind the driver's back. */
export interface SqlAccess {
  readonly dialect: 'postgresql' | 'mysql';
  readonly url: string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  tables(prefix: string): Promise<string[]>;
  dropTables(prefix: string): Promise<void>;
  close(): Promise<void>;
}

export function postgresAccess(): SqlAccess {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
  const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => (await pool.query(sql, params)).rows as T[];
  return {
    dialect: 'postgresql',
    url: POSTGRES_URL,
    query,
    async tables(prefix) {
      const rows = await query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE $1 ORDER BY 1`,
        [prefix.replace(/_/g, '\\_') + '%'],
      );
      return rows.map((r) => r.t);
    },
    async dropTables(prefix) {
      for (const t of await this.tables(prefix)) await pool.query(`DROP TABLE IF EXISTS ${t}`);
    },
    close: () => pool.end(),
  };
}

export function mysqlAccess(): SqlAccess {
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2, supportBigNumbers: true, bigNumberStrings: true });
  const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => (await pool.query(sql, params))[0] as T[];
  return {
    dialect: 'mysql',
    url: MYSQL_URL,
    query,
    async tables(prefix) {
      const rows = await query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ? ORDER BY 1`,
        [prefix.replace(/_/g, '\\_') + '%'],
      );
      return rows.map((r) => r.t);
    },
    async dropTables(prefix) {
      for (const t of await this.tables(prefix)) await pool.query(`DROP TABLE IF EXISTS ${t}`);
    },
    close: () => pool.end(),
  };
}
