// Public surface of @osprofiler/knex.
export { instrumentKnex, uninstrumentKnex, instrumentKnexModule } from './hook';
export { setTraceDb } from './trace-db';
export { DEFAULT_OPTIONS, resolveOptions } from './options';
export type { KnexInstrumentationOptions, ResolvedKnexOptions } from './options';
export { CUT_MARKER } from './statement';
