// Public surface of @osprofiler/express.
export { profiler, instrumentApp, instrumentExpress, isExpressInstrumented } from './hook';
export type { ExpressMiddleware, Next } from './hook';
export { registerExpress } from './auto';
export { DEFAULT_OPTIONS } from './options';
export type { ExpressProfilerOptions, IgnorePath } from './options';
export { expressFailureCounts } from './contained';
export { pythonPath } from './points';
export type { RequestStartInfo } from './points';
