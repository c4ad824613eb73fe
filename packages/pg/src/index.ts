// Public surface of @osprofiler/pg.
export { instrumentPg, uninstrumentPg } from './hook';
export { setTraceDb } from '@osprofiler/core';
export { DEFAULT_OPTIONS, resolveOptions } from './options';
export type { PgInstrumentationOptions, ResolvedPgOptions } from './options';
