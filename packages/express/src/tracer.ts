/**
 * Express's side of the kit's HTTP server lifecycle: the request target is
 * `originalUrl` (the kit's default), and once a request is traced the router hooks of
 * its app are installed (route template and forwarded errors).
 */
import type { IncomingMessage } from 'node:http';
import { createHttpTracer, type HttpServerAdapter, type HttpTracer } from '@osprofiler/core/instrument';
import { contained } from './contained';
import type { ExpressProfilerOptions } from './options';
import { ensureRouterHooks } from './router-hooks';

export type ExpressRequest = IncomingMessage & { originalUrl?: string; baseUrl?: string; app?: unknown; route?: unknown };
export type Tracer = HttpTracer;

const EXPRESS: HttpServerAdapter = {
  name: 'express',
  packageName: '@osprofiler/express',
  contained,
  opened(_state, req, app) {
    ensureRouterHooks(app ?? (req as ExpressRequest).app);
  },
};

/** The lifecycle for these options; undefined when tracing is off. Bad options throw. */
export function createTracer(options: ExpressProfilerOptions = {}): Tracer | undefined {
  return createHttpTracer(EXPRESS, options);
}
