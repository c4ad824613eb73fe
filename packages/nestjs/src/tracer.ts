/**
 * Nest's side of the kit's HTTP server lifecycle: the point opens where the platform
 * receives the request (before Nest's middleware, guards and pipes run); the route
 * template comes from the platform's request at the end when Nest's route hook did not
 * see one; `nest: {controller, handler}` is added by context-hooks.ts.
 */
import type { IncomingMessage } from 'node:http';
import { createHttpTracer, type HttpServerAdapter, type HttpTracer } from '@osprofiler/core/instrument';
import { contained } from './contained';
import type { NestProfilerOptions } from './options';
import { platformRoute } from './points';

export type Tracer = HttpTracer;

const NEST: HttpServerAdapter = {
  name: 'nestjs',
  packageName: '@osprofiler/nestjs',
  contained,
  // The platform has not rewritten anything yet: Node's own target.
  target: (req: IncomingMessage) => req.url ?? '',
  routeAtFinish: platformRoute,
};

/**
 * The lifecycle for these options; undefined when tracing is off. `hmacKeys`/`sampling`
 * are core fields: forRoot passed them to configure() already.
 */
export function createTracer(options: NestProfilerOptions): Tracer | undefined {
  return createHttpTracer(NEST, { ignorePaths: options.ignorePaths, addInfo: options.addInfo, maxHeaderBytes: options.maxHeaderBytes });
}
