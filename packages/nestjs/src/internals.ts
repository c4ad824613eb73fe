/**
 * Option `traceInternals`: guards, pipes, interceptors and exception filters each get a
 * nested point inside a traced request or message, so a slow guard is visible.
 *
 * Nest calls them through three consumers (`GuardsConsumer.tryActivate`,
 * `PipesConsumer.applyPipes`, `InterceptorsConsumer.intercept`), each given the list of
 * instances for one handler; there is no public hook around one guard or pipe. Those
 * methods are wrapped (once per copy of @nestjs/core): inside a trace, each instance in the
 * list is replaced by a stand-in that runs the real one inside a point; outside a trace the
 * list is passed on untouched, after one context lookup. Exception filters: the
 * `ExceptionsHandler.next` wrapper (hook.ts) runs the filters inside a `filter` point.
 *
 * Points: `guard`, `pipe`, `interceptor`, `filter`, each with `function: {name}`
 * (`DenyGuard.canActivate`, `ParseIntPipe.transform`, …). A guard or interceptor result
 * that is an Observable keeps its point open until it completes or errors.
 */
import { failPoint } from './errors';
import { get, openPoint } from '@osprofiler/core';
import { callInPoint, wrap, type Follow } from '@osprofiler/core/instrument';
import { Observable } from 'rxjs';
import { contained } from './contained';

let enabled = false;

export function internalsEnabled(): boolean {
  return enabled;
}

/** How Nest's points end: Observables followed (RxJS's class), RPC error objects recorded by their message. */
export const NEST_FOLLOW: Follow = { Observable: Observable as unknown as Follow['Observable'], fail: failPoint, contained };

/** Runs `fn` inside a `name` point; sync, promise and Observable results are all followed to their end. */
export function pointAround<R>(name: string, info: object, fn: () => R): R {
  const point = openPoint(name, info);
  if (point === undefined) return fn();
  return callInPoint(point, fn, NEST_FOLLOW);
}

function nameOf(obj: unknown): string {
  return (obj as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'anonymous';
}

type Method = (this: unknown, ...args: any[]) => any;

function wrapProto(modulePath: string, className: string, method: string, make: (original: Method) => Method): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(modulePath) as Record<string, { prototype: Record<string, unknown> } | undefined>;
    const proto = mod[className]?.prototype;
    if (proto !== undefined) wrap(proto, method, 'nestjs', make);
  } catch (err) {
    contained(`internals.${className}`, err);
  }
}

/** Installs the consumer wrappers (once) and turns internal points on. */
export function hookInternals(): void {
  enabled = true;
  wrapProto('@nestjs/core/guards/guards-consumer', 'GuardsConsumer', 'tryActivate', (original) =>
    function tryActivate(this: unknown, guards: unknown[], ...rest: unknown[]) {
      if (!enabled || get() === undefined || !Array.isArray(guards) || guards.length === 0) return original.call(this, guards, ...rest);
      const standIns = guards.map((g) => ({
        canActivate: (ctx: unknown) => pointAround('guard', { function: { name: `${nameOf(g)}.canActivate` } }, () => (g as { canActivate(c: unknown): unknown }).canActivate(ctx)),
      }));
      return original.call(this, standIns, ...rest);
    },
  );
  wrapProto('@nestjs/core/pipes/pipes-consumer', 'PipesConsumer', 'applyPipes', (original) =>
    function applyPipes(this: unknown, value: unknown, metadata: unknown, pipes: unknown[]) {
      if (!enabled || get() === undefined || !Array.isArray(pipes) || pipes.length === 0) return original.call(this, value, metadata, pipes);
      const standIns = pipes.map((p) => ({
        transform: (v: unknown, m: unknown) => pointAround('pipe', { function: { name: `${nameOf(p)}.transform` } }, () => (p as { transform(v: unknown, m: unknown): unknown }).transform(v, m)),
      }));
      return original.call(this, value, metadata, standIns);
    },
  );
  wrapProto('@nestjs/core/interceptors/interceptors-consumer', 'InterceptorsConsumer', 'intercept', (original) =>
    function intercept(this: unknown, interceptors: unknown[], ...rest: unknown[]) {
      if (!enabled || get() === undefined || !Array.isArray(interceptors) || interceptors.length === 0) return original.call(this, interceptors, ...rest);
      const standIns = interceptors.map((i) => ({
        intercept: (ctx: unknown, next: unknown) =>
          pointAround('interceptor', { function: { name: `${nameOf(i)}.intercept` } }, () => (i as { intercept(c: unknown, n: unknown): unknown }).intercept(ctx, next)),
      }));
      return original.call(this, standIns, ...rest);
    },
  );
}
