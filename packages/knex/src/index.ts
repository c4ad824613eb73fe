// Public surface of @osprofiler/knex.
export { instrumentKnex, uninstrumentKnex, instrumentKnexModule } from './hook';
export { setTraceDb, CUT_MARKER } from '@osprofiler/core';
export { DEFAULT_OPTIONS, resolveOptions } from './options';
export type { KnexInstrumentationOptions, ResolvedKnexOptions } from './options';
