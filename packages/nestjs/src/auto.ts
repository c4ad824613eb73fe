/**
 * Automatic mode for Nest, without importing `ProfilerModule`: when `@nestjs/core` loads,
 * `NestFactory.create` and `createMicroservice` are wrapped; each app they make is set up
 * as `ProfilerModule.forRoot()` would (the OSPROFILER_* configuration, the adapter's
 * defaults): routes get their `wsgi` point where the platform receives the request (the
 * Express/Fastify adapters then find the request owned and stand aside, so there is one
 * point per request), microservice handlers continue traces, clients carry them. `@Traced`
 * providers need nothing more than core's configuration.
 *
 * The set-up runs after the app's modules are built and before `init()`/`listen()`
 * registers its routes and handlers, which is where the module's provider runs too.
 */
import { debug, hookModule, isThenable, wrap } from '@osprofiler/core/instrument';
import { contained } from './contained';

const REGISTERED = Symbol.for('osprofiler.nestjs.auto');

interface NestApp {
  getHttpAdapter?(): unknown;
}

function looksLikeNestCore(e: unknown): boolean {
  const x = e as { NestFactory?: { create?: unknown }; HttpAdapterHost?: unknown } | null;
  return typeof x?.NestFactory?.create === 'function' && typeof x.HttpAdapterHost === 'function';
}

function setUpApp(app: unknown): void {
  try {
    // Loaded only once Nest is: the module's code imports @nestjs/core.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { setUp } = require('./module') as typeof import('./module');
    const adapter = (app as NestApp | null)?.getHttpAdapter?.();
    setUp({}, adapter === undefined ? undefined : ({ httpAdapter: adapter } as never));
  } catch (err) {
    contained('auto.setUp', err);
  }
}

function afterCreate(original: (...args: unknown[]) => unknown) {
  return function create(this: unknown, ...args: unknown[]): unknown {
    const made = original.apply(this, args);
    if (isThenable(made)) {
      return (made as Promise<unknown>).then((app) => {
        setUpApp(app);
        return app;
      });
    }
    return made;
  };
}

/** Wraps the factory's methods of one copy of @nestjs/core. */
function instrumentNestCore(core: { NestFactory: Record<string, unknown> }): void {
  const factory = core.NestFactory;
  wrap(factory, 'create', 'nestjs', afterCreate);
  if (typeof factory.createMicroservice === 'function') wrap(factory, 'createMicroservice', 'nestjs', afterCreate);
}

/**
 * Installs the load hook for @nestjs/core (once per process); copies already loaded are
 * instrumented too. `@osprofiler/auto` calls it when OSPROFILER_ENABLED is true.
 */
export function registerNest(): boolean {
  const g = globalThis as unknown as Record<symbol, unknown>;
  if (g[REGISTERED] === true) return true;
  g[REGISTERED] = true;
  debug('nestjs: automatic mode: every NestFactory.create/createMicroservice app is set up as ProfilerModule.forRoot() would');
  hookModule({ name: 'nestjs', packageName: '@nestjs/core', versions: '>=11.0.0 <13', matches: looksLikeNestCore, instrument: (c) => instrumentNestCore(c) });
  return true;
}
