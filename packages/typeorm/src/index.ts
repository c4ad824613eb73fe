// Public surface of @osprofiler/typeorm.
export { instrumentDataSource, uninstrumentDataSource, instrumentTypeormModule } from './hook';
export { setTraceDb, CUT_MARKER } from '@osprofiler/core';
export { DEFAULT_OPTIONS, resolveOptions } from './options';
export type { TypeormInstrumentationOptions, ResolvedTypeormOptions } from './options';
