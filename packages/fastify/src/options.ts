import { DEFAULT_HTTP_OPTIONS, type HttpServerOptions, type IgnorePath } from '@osprofiler/core/instrument';

export type { IgnorePath };

/**
 * Options of `instrumentFastify()`: the kit's HTTP server options (core's
 * `HttpServerOptions`). Unset fields come from the core configuration (`configure()` or
 * `OSPROFILER_*`).
 */
export type FastifyProfilerOptions = HttpServerOptions;

export const DEFAULT_OPTIONS = DEFAULT_HTTP_OPTIONS;
