// The options every database adapter shares live in core (one trace_db switch, one set of
// env variables); this package adds nothing of its own yet.
import { DEFAULT_DB_OPTIONS, resolveDbOptions, type DbInstrumentationOptions, type ResolvedDbOptions } from '@osprofiler/core/instrument';

/** Options of the adapter: see `DbInstrumentationOptions` in @osprofiler/core. */
export type PgInstrumentationOptions = DbInstrumentationOptions;
export type ResolvedPgOptions = ResolvedDbOptions;
export const DEFAULT_OPTIONS: Readonly<ResolvedDbOptions> = DEFAULT_DB_OPTIONS;
export const resolveOptions: (options?: DbInstrumentationOptions) => ResolvedDbOptions = resolveDbOptions;
