// Public surface of @osprofiler/knex.
export { instrumentKnex, uninstrumentKnex, instrumentKnexModule } from './hook';
export { setTraceDb } from '@osprofiler/core';
export { CUT_MARKER } from '@osprofiler/core/instrument';
export { DEFAULT_OPTIONS, resolveOptions } from './options';
export type { KnexInstrumentationOptions, ResolvedKnexOptions } from './options';
