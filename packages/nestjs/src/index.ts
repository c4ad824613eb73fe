// Public surface of @osprofiler/nestjs.
export { ProfilerModule, PROFILER_OPTIONS, PROFILER_SETUP } from './module';
export type { ProfilerModuleAsyncOptions, ProfilerSetup } from './module';
export { DEFAULT_OPTIONS } from './options';
export type { NestProfilerOptions, IgnorePath } from './options';
export { nestFailureCounts } from './contained';
export { registerNest } from './auto';
export { Traced } from './traced';
export type { TracedOptions } from './traced';
export { ProfilerTcpSerializer, ProfilerTcpDeserializer, TCP_FIELD } from './tcp';
