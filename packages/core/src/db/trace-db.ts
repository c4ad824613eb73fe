import { getConfig } from '../setup';

let override: boolean | undefined;

/**
 * Switches `sql` points on or off at run time for every instrumented database adapter (Knex, TypeORM, …)
 * (core's config is frozen, so this is the run-time switch); `undefined` goes back to
 * core's `traceDb` (`OSPROFILER_TRACE_DB`). A per-instance `traceDb` option wins.
 */
export function setTraceDb(on: boolean | undefined): void {
  override = on;
}

/** Whether a statement made now gets a `sql` point. */
export function traceDbOn(option: boolean | (() => boolean) | undefined): boolean {
  try {
    if (option !== undefined) return typeof option === 'function' ? option() === true : option;
    return override ?? getConfig().traceDb;
  } catch {
    return false;
  }
}
