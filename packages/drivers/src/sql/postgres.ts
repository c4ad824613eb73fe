/**
 * `postgresql://` (and `postgres://`) with pg. Batches go in with COPY … FROM STDIN
 * (pg-copy-streams); a batch that hits the (trace_id, name) unique key — a point written
 * twice, e.g. resent after a timeout — is retried as INSERT … ON CONFLICT DO NOTHING.
 */
import type { Pool, PoolClient } from 'pg';
import type { DriverOptions } from '@osprofiler/core';
import type { DriverFactory, NormalisedSearch } from '@osprofiler/core/instrument';
import { connectError, endpointOf } from '../errors';
import { requirePeer } from '../optional';
import { SqlDriver, type TableNames } from './base';
import { sqlSettings, type SqlSettings } from './options';
import { COPY_COLUMNS, copyText } from './copy';
import type { PointRow } from './rows';
import { likeContains, type SummaryPage, type SummaryResult, type SummaryRow } from './summary';

/** Below this many traces a tag is "rare": joining its traces beats walking the time index. */
const RARE_TAG = 2000;
const RESULT_COLUMNS = 'base_id, first_ts, last_ts, first_us, last_us, points, error, root_name, root_service, root_detail, route';
const SUMMARY_COLUMNS = 'base_id, first_ts, last_ts, first_us, last_us, duration_us, points, error, root_key, root_name, root_service, root_detail, route, search_text';

type Pg = typeof import('pg');
type CopyStreams = typeof import('pg-copy-streams');

/** Rows per INSERT in the duplicate-tolerant fallback (7 parameters each, under pg's 65535). */
const INSERT_CHUNK = 1000;

/** What tables made by an earlier version lack or have besides (FOUND_SQL, read under the schema's lock). */
interface PostgresFound {
  /** The summaries' `tags` column (or no summary table yet). */
  tagsColumn: boolean;
  /** Earlier versions kept the tags in <prefix>osprofiler_tags (kind, value, base_id). */
  tagTable: boolean;
  /** Earlier versions indexed duration_us. */
  durationIndex: boolean;
}

const FOUND_SQL = `SELECT to_regclass($1) IS NULL OR EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'tags' AND NOT attisdropped) AS "tagsColumn",
  to_regclass($2) IS NOT NULL AS "tagTable", to_regclass($3) IS NOT NULL AS "durationIndex"`;

/**
 * The tables and indexes, created when missing, and what earlier versions made brought up to
 * date (only what `found` says is there: an ALTER TABLE takes the table's strongest lock
 * even when it changes nothing, and every process runs this at start-up).
 */
function postgresSchema(t: TableNames, found: PostgresFound): string[] {
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
    `CREATE TABLE IF NOT EXISTS ${t.traces} (
      base_id text PRIMARY KEY,
      first_ts text COLLATE "C" NOT NULL,
      last_ts text COLLATE "C" NOT NULL,
      first_us bigint NOT NULL,
      last_us bigint NOT NULL,
      duration_us bigint NOT NULL,
      points integer NOT NULL,
      error boolean NOT NULL,
      root_key text COLLATE "C" NOT NULL,
      root_name text,
      root_service text,
      root_detail text,
      route text,
      search_text text NOT NULL,
      tags text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    ...(found.tagsColumn ? [] : [`ALTER TABLE ${t.traces} ADD COLUMN tags text[] NOT NULL DEFAULT '{}'`]),
    // Tags once had a table of their own: folded into the rows, the table dropped. Writers of
    // those versions must be upgraded with this one (their summaries would fail on it).
    ...(found.tagTable
      ? [
          `UPDATE ${t.traces} s SET tags = g.tags
             FROM (SELECT base_id, array_agg(kind || ':' || value ORDER BY kind, value) AS tags FROM ${t.tags} GROUP BY base_id) g
            WHERE g.base_id = s.base_id`,
          `DROP TABLE ${t.tags}`,
        ]
      : []),
    // No index on duration_us: a duration filter is checked while the time index is walked
    // (a page of 50 out of 100,000 traces: 4–6 ms for 1 % of them, 13–24 ms when none match),
    // and keeping the index up cost ~8 % of the points/s (tools/bench/search.cjs). Earlier
    // versions made it.
    ...(found.durationIndex ? [`DROP INDEX ${t.traces}_duration`] : []),
    `CREATE INDEX IF NOT EXISTS ${t.traces}_first ON ${t.traces} (first_us, base_id)`,
    `CREATE INDEX IF NOT EXISTS ${t.traces}_errors ON ${t.traces} (first_us, base_id) WHERE error`,
    `CREATE INDEX IF NOT EXISTS ${t.traces}_created ON ${t.traces} USING brin (created_at)`,
    // A trace's services, projects and hosts as 's:…', 'p:…', 'h:…' in its own row, one GIN
    // index over them: a tag table (a row and two B-tree entries a tag, ~3 a trace) was
    // about half of the index's server work (tools/bench/search.cjs, session 23).
    `CREATE INDEX IF NOT EXISTS ${t.traces}_tags ON ${t.traces} USING gin (tags)`,
  ];
}

export class PostgresDriver extends SqlDriver {
  readonly scheme = 'postgresql';
  protected readonly tagTable = undefined;

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
      const stream = client.query(this.copyFrom(`COPY ${this.tables.points} (${COPY_COLUMNS}) FROM STDIN`));
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
        `INSERT INTO ${this.tables.points} (${COPY_COLUMNS}) VALUES ${values.join(', ')} ON CONFLICT (trace_id, name) DO NOTHING`,
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

  /**
   * One statement per batch, over arrays (`unnest`): its text never changes, so each
   * connection parses and plans it once (a named prepared statement) instead of a fresh
   * VALUES list of 15 parameters per trace every batch. A row's tags go as the text of a
   * PostgreSQL array (unnest cannot take an array of arrays of different lengths).
   */
  protected async upsertSummaries(rows: readonly SummaryRow[], on: Pool | PoolClient = this.pool): Promise<void> {
    const cols: unknown[][] = Array.from({ length: 15 }, () => []);
    for (const r of rows) {
      const v = [r.baseId, r.firstTs, r.lastTs, r.firstUs, r.lastUs, String(Number(r.lastUs) - Number(r.firstUs)), r.points, r.error, r.rootKey, r.rootName, r.rootService, r.rootDetail, r.route, r.text, tagsLiteral(r.tags)];
      for (let i = 0; i < 15; i++) cols[i].push(v[i]);
    }
    await on.query({ name: 'osp_upsert_summaries', text: this.upsertSql ??= this.makeUpsertSql(), values: cols });
  }

  protected async openSummaries(rows: readonly SummaryRow[]): Promise<(commit: boolean) => Promise<void>> {
    const client = await this.pool.connect();
    const conn = { query: (sql: string) => client.query(sql), release: () => client.release(), drop: (err: unknown) => client.release(err as Error) };
    return this.openTransaction(conn, 'BEGIN', () => this.upsertSummaries(rows, client));
  }

  private upsertSql: string | undefined;

  private makeUpsertSql(): string {
    const better = 'EXCLUDED.root_key < t.root_key';
    const types = ['text', 'text', 'text', 'bigint', 'bigint', 'bigint', 'int', 'bool', 'text', 'text', 'text', 'text', 'text', 'text', 'text'];
    const names = types.map((_, i) => `c${i + 1}`);
    return `INSERT INTO ${this.tables.traces} AS t (${SUMMARY_COLUMNS}, tags)
       SELECT ${names.slice(0, 14).join(', ')}, c15::text[]
       FROM unnest(${types.map((ty, i) => `$${i + 1}::${ty}[]`).join(', ')}) AS u(${names.join(', ')})
       ON CONFLICT (base_id) DO UPDATE SET
         first_ts = LEAST(t.first_ts, EXCLUDED.first_ts),
         last_ts = GREATEST(t.last_ts, EXCLUDED.last_ts),
         first_us = LEAST(t.first_us, EXCLUDED.first_us),
         last_us = GREATEST(t.last_us, EXCLUDED.last_us),
         duration_us = GREATEST(t.last_us, EXCLUDED.last_us) - LEAST(t.first_us, EXCLUDED.first_us),
         points = t.points + EXCLUDED.points,
         error = t.error OR EXCLUDED.error,
         root_name = CASE WHEN ${better} THEN EXCLUDED.root_name ELSE t.root_name END,
         root_service = CASE WHEN ${better} THEN EXCLUDED.root_service ELSE t.root_service END,
         root_detail = CASE WHEN ${better} THEN EXCLUDED.root_detail ELSE t.root_detail END,
         root_key = LEAST(t.root_key, EXCLUDED.root_key),
         route = COALESCE(t.route, EXCLUDED.route),
         search_text = CASE WHEN length(t.search_text) >= 4096 OR EXCLUDED.search_text = '' OR strpos(t.search_text, EXCLUDED.search_text) > 0
           THEN t.search_text ELSE left(t.search_text || E'\\n' || EXCLUDED.search_text, 4096) END,
         tags = CASE WHEN EXCLUDED.tags <@ t.tags THEN t.tags
           ELSE ARRAY(SELECT DISTINCT x FROM unnest(t.tags || EXCLUDED.tags) x ORDER BY x) END`;
  }

  protected async selectSummaries(s: NormalisedSearch, limit: number): Promise<SummaryPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown): string => {
      params.push(v);
      return `$${params.length}`;
    };
    for (const [kind, value] of [['s', s.service], ['p', s.project], ['h', s.host]] as const) {
      if (value !== undefined) where.push(await this.tagCondition(kind, value, p));
    }
    if (s.errorsOnly) where.push('t.error');
    if (s.root !== undefined) where.push(`t.root_name = ${p(s.root)}`);
    if (s.sinceMs !== undefined) where.push(`t.first_us >= ${p(Math.round(s.sinceMs * 1000))}`);
    if (s.untilMs !== undefined) where.push(`t.first_us <= ${p(Math.round(s.untilMs * 1000))}`);
    if (s.minDurationMs !== undefined) where.push(`t.duration_us >= ${p(Math.round(s.minDurationMs * 1000))}`);
    if (s.maxDurationMs !== undefined) where.push(`t.duration_us <= ${p(Math.round(s.maxDurationMs * 1000))}`);
    if (s.after !== undefined) where.push(`(t.first_us, t.base_id) < (${p(s.after.startUs)}, ${p(s.after.baseId)})`);
    const filter = where.length > 0 ? 'WHERE ' + where.join(' AND ') : '';
    if (s.text === undefined) {
      const sql = `SELECT ${RESULT_COLUMNS} FROM ${this.tables.traces} t ${filter}
         ORDER BY t.first_us DESC, t.base_id DESC LIMIT ${p(limit)}`;
      return { rows: (await this.pool.query<SummaryResult>(sql, params)).rows };
    }
    // Bounded: the text is looked for in the newest `textBound` traces the other filters
    // let through (c), and c's oldest trace comes back as the edge when c was full.
    const like = p(likeContains(s.text));
    const bound = p(this.textBound);
    const sql = `WITH c AS MATERIALIZED (
         SELECT ${RESULT_COLUMNS}, search_text FROM ${this.tables.traces} t ${filter}
         ORDER BY t.first_us DESC, t.base_id DESC LIMIT ${bound})
       SELECT * FROM (
         (SELECT false AS edge, ${RESULT_COLUMNS} FROM c WHERE c.search_text LIKE ${like} ESCAPE '!' OR lower(c.root_name) LIKE ${like} ESCAPE '!'
          ORDER BY first_us DESC, base_id DESC LIMIT ${p(limit)})
         UNION ALL
         (SELECT true AS edge, ${RESULT_COLUMNS} FROM c WHERE (SELECT count(*) FROM c) >= ${bound}
          ORDER BY first_us ASC, base_id ASC LIMIT 1)
       ) u ORDER BY edge, first_us DESC, base_id DESC`;
    const all = (await this.pool.query<SummaryResult & { edge: boolean }>(sql, params)).rows;
    const edge = all[all.length - 1]?.edge === true ? all.pop() : undefined;
    return { rows: all, edge };
  }

  /**
   * A tag filter as SQL. A rare tag (few traces) is looked up in the GIN index and its traces
   * sorted; a common one is checked row by row while the time index is walked newest first,
   * so the page ends early (the planner, left to choose, bitmap-scans all of a 5 % host's
   * traces of 100,000 and sorts them: ~260 ms, tools/bench/search.cjs). `= ANY` cannot use
   * the GIN index, `@>` can.
   */
  private async tagCondition(kind: string, value: string, p: (v: unknown) => string): Promise<string> {
    const tag = tagText(kind, value);
    const r = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM (SELECT 1 FROM ${this.tables.traces} WHERE tags @> ARRAY[$1::text] LIMIT ${RARE_TAG}) x`,
      [tag],
    );
    const rare = Number(r.rows[0]?.n ?? 0) < RARE_TAG;
    return rare ? `t.tags @> ARRAY[${p(tag)}::text]` : `${p(tag)}::text = ANY(t.tags)`;
  }

  protected async selectTags(baseIds: string[]): Promise<{ base_id: string; kind: string; value: string }[]> {
    const r = await this.pool.query<{ base_id: string; tags: string[] }>(`SELECT base_id, tags FROM ${this.tables.traces} WHERE base_id = ANY($1)`, [baseIds]);
    const out: { base_id: string; kind: string; value: string }[] = [];
    for (const row of r.rows) for (const tag of [...row.tags].sort()) out.push({ base_id: row.base_id, kind: tag[0], value: tag.slice(TAG_HEAD) });
    return out;
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
  // A startup parameter of every connection (libpq's `options`, after the user's own), not a
  // `SET` queued on pg's 'connect' event: no round trip a connection, no failure ignored
  // (a refused SET left the connection committing synchronously), and nothing queued ahead
  // of the caller's first query (pg 9 drops client-side query queues).
  if (!settings.synchronousCommit) {
    const own = clientUrl.searchParams.get('options');
    clientUrl.searchParams.set('options', (own === null || own === '' ? '' : own + ' ') + '-c synchronous_commit=off');
  }
  const pool = new Pool({
    connectionString: clientUrl.href,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    // Idle connections do not keep the process alive (active ones do, until answered).
    allowExitOnIdle: true,
  });
  // An idle client that loses its server emits 'error' on the pool; pg would rethrow it.
  pool.on('error', () => undefined);
  const driver = new PostgresDriver(settings, endpoint, pool, from);
  try {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // Several processes may start at once: CREATE … IF NOT EXISTS alone can still race.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`osprofiler:${settings.tablePrefix}`]);
      const t = driver.tables;
      const found = (await client.query<PostgresFound>(FOUND_SQL, [t.traces, t.tags, `${t.traces}_duration`])).rows[0];
      for (const ddl of postgresSchema(t, found)) await client.query(ddl);
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


/** A tag as the `tags` column holds it: its kind's letter, ':', its value (the fold of earlier tables writes the same). */
function tagText(kind: string, value: string): string {
  return `${kind}:${value}`;
}

/** Where a tag's value starts in its text. */
const TAG_HEAD = 2;

/** A row's tags (sorted) as the text of a PostgreSQL text[]. */
function tagsLiteral(tags: SummaryRow['tags']): string {
  const texts = tags.map(([kind, value]) => tagText(kind, value)).sort();
  let out = '{';
  for (let i = 0; i < texts.length; i++) out += (i === 0 ? '"' : ',"') + texts[i].replace(/["\\]/g, '\\$&') + '"';
  return out + '}';
}
