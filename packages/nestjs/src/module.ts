/**
 * `ProfilerModule.forRoot(options)` / `forRootAsync({useFactory, inject, imports})`: one
 * import gives a Nest app `wsgi` points for its routes. The module is global.
 */
import type { DynamicModule, FactoryProvider, ModuleMetadata, Provider } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { configure } from '@osprofiler/core';
import { debug } from '@osprofiler/core/instrument';
import { contained } from './contained';
import { hookClients } from './client-hook';
import { hookRoutes, hookRpcHandlers } from './context-hooks';
import { attachExpress, attachFastify, hookExceptions } from './hook';
import { hookInternals } from './internals';
import { ADAPTER_FIELDS, type NestProfilerOptions } from './options';
import { createTracer, type Tracer } from './tracer';

/** Injection token of the resolved `NestProfilerOptions`. */
export const PROFILER_OPTIONS = Symbol.for('osprofiler.nestjs.options');
/** Injection token of the set-up (the HTTP tracer, or null when tracing is off). */
export const PROFILER_SETUP = Symbol.for('osprofiler.nestjs.setup');

export interface ProfilerSetup {
  readonly tracer: Tracer | undefined;
  /** The HTTP platform the module attached to: 'express', 'fastify', or undefined (none, or not supported). */
  readonly platform: string | undefined;
}

export interface ProfilerModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: any[]) => NestProfilerOptions | Promise<NestProfilerOptions>;
  inject?: FactoryProvider['inject'];
}

/** Passes the core fields to `configure()` when any is given. A bad value throws `ConfigError` at start-up. */
function applyCoreConfig(options: NestProfilerOptions): void {
  const core: Record<string, unknown> = {};
  let any = false;
  for (const [k, v] of Object.entries(options)) {
    if ((ADAPTER_FIELDS as readonly string[]).includes(k) || v === undefined) continue;
    core[k] = v;
    any = true;
  }
  if (any) configure(core);
}

/** Handlers continue traces once a module with tracing on is set up (the wrappers are per process). */
let rpcEnabled = false;

export function setUp(options: NestProfilerOptions, host: HttpAdapterHost | undefined): ProfilerSetup {
  applyCoreConfig(options);
  const tracer = createTracer(options);
  if (tracer === undefined) return { tracer, platform: undefined };
  hookExceptions();
  if (options.traceInternals === true) hookInternals();
  rpcEnabled = true;
  hookRoutes();
  hookRpcHandlers(() => rpcEnabled);
  try {
    hookClients();
  } catch (err) {
    contained('clients', err);
  }
  let platform: string | undefined;
  try {
    const adapter = host?.httpAdapter;
    if (adapter !== undefined && adapter !== null) {
      const type = adapter.getType();
      if (type === 'express' && attachExpress(adapter.getInstance(), tracer)) platform = 'express';
      else if (type === 'fastify' && attachFastify(adapter.getInstance(), tracer)) platform = 'fastify';
    }
  } catch (err) {
    contained('attach', err);
  }
  debug(
    `nestjs: ProfilerModule set up: HTTP ${platform !== undefined ? `on ${platform}` : 'not attached (no supported platform)'}; ` +
      `microservice handlers and clients hooked; traceInternals ${options.traceInternals === true ? 'on' : 'off'}`,
  );
  return { tracer, platform };
}

function providers(optionsProvider: Provider): Provider[] {
  return [
    optionsProvider,
    {
      provide: PROFILER_SETUP,
      useFactory: (options: NestProfilerOptions, host: HttpAdapterHost) => setUp(options, host),
      inject: [PROFILER_OPTIONS, HttpAdapterHost],
    },
  ];
}

export class ProfilerModule {
  static forRoot(options: NestProfilerOptions = {}): DynamicModule {
    return {
      module: ProfilerModule,
      global: true,
      providers: providers({ provide: PROFILER_OPTIONS, useValue: options }),
      exports: [PROFILER_OPTIONS, PROFILER_SETUP],
    };
  }

  static forRootAsync(options: ProfilerModuleAsyncOptions): DynamicModule {
    return {
      module: ProfilerModule,
      global: true,
      imports: options.imports ?? [],
      providers: providers({ provide: PROFILER_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }),
      exports: [PROFILER_OPTIONS, PROFILER_SETUP],
    };
  }
}
