/**
 * Options every database adapter (Knex, TypeORM, …) takes; env variables are the defaults'
 * outer layer.
 */
export interface DbInstrumentationOptions {
  /**
   * Record each SQL statement as a `sql` point. Default: `setTraceDb()` if called, else
   * core's `traceDb` (`OSPROFILER_TRACE_DB`), read at every statement. A function is
   * called at every statement, so it can switch at run time.
   */
  traceDb?: boolean | (() => boolean);
  /** Put the bindings (parameters) into `sql` points (`db.params`). Default `OSPROFILER_DB_SHOW_PARAMS` or false. */
  showParams?: boolean;
  /** Statements longer than this are cut, with a marker. Default `OSPROFILER_DB_MAX_STATEMENT_LENGTH` or 4096. */
  maxStatementLength?: number;
}

export interface ResolvedDbOptions {
  traceDb: boolean | (() => boolean) | undefined;
  showParams: boolean;
  maxStatementLength: number;
}

export const DEFAULT_DB_OPTIONS: Readonly<ResolvedDbOptions> = Object.freeze({
  traceDb: undefined,
  showParams: false,
  maxStatementLength: 4096,
});

export const ENV_DB_SHOW_PARAMS = 'OSPROFILER_DB_SHOW_PARAMS';
export const ENV_DB_MAX_STATEMENT_LENGTH = 'OSPROFILER_DB_MAX_STATEMENT_LENGTH';

function envBool(name: string): boolean | undefined {
  const v = process.env[name]?.trim().toLowerCase();
  if (v === undefined || v === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return undefined; // a bad value is ignored: the adapter never throws into the app
}

function envInt(name: string): number | undefined {
  const v = process.env[name]?.trim();
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** Merges explicit options over env over `DEFAULT_DB_OPTIONS`; out-of-range numbers are clamped. */
export function resolveDbOptions(options: DbInstrumentationOptions = {}): ResolvedDbOptions {
  const max = options.maxStatementLength ?? envInt(ENV_DB_MAX_STATEMENT_LENGTH) ?? DEFAULT_DB_OPTIONS.maxStatementLength;
  return {
    traceDb: options.traceDb ?? DEFAULT_DB_OPTIONS.traceDb,
    showParams: options.showParams ?? envBool(ENV_DB_SHOW_PARAMS) ?? DEFAULT_DB_OPTIONS.showParams,
    maxStatementLength: Number.isFinite(max) ? Math.max(16, Math.floor(max)) : DEFAULT_DB_OPTIONS.maxStatementLength,
  };
}
