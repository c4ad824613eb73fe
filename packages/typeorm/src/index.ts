// Public surface of @osprofiler/typeorm.
export { instrumentDataSource, uninstrumentDataSource, instrumentTypeormModule } from './hook';
export { setTraceDb } from '@osprofiler/core';
export { CUT_MARKER } from '@osprofiler/core/instrument';
export { DEFAULT_OPTIONS, resolveOptions } from './options';
export type { TypeormInstrumentationOptions, ResolvedTypeormOptions } from './options';
