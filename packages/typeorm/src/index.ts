// Public surface of @osprofiler/typeorm.
export { instrumentDataSource, uninstrumentDataSource, instrumentTypeormModule } from './hook';
export { setTraceDb } from './trace-db';
export { DEFAULT_OPTIONS, resolveOptions } from './options';
export type { TypeormInstrumentationOptions, ResolvedTypeormOptions } from './options';
export { CUT_MARKER } from './statement';
