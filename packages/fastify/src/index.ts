// Public surface of @osprofiler/fastify.
export { instrumentFastify, isFastifyInstrumented, fastifyProfiler } from './hook';
export type { FastifyLike } from './hook';
export { registerFastify } from './auto';
export { DEFAULT_OPTIONS } from './options';
export type { FastifyProfilerOptions, IgnorePath } from './options';
export { fastifyFailureCounts } from './contained';
