import type { Point } from '@osprofiler/core';

/** Per-request marker of this package: the state of a traced request, `null` once checked and untraced. */
export const STATE = Symbol.for('osprofiler.nestjs.request');

/**
 * @osprofiler/express's marker (a public Symbol.for): set to `null` on requests this package
 * handles, so Express's automatic mode does not open a second `wsgi` point for them.
 */
export const EXPRESS_STATE = Symbol.for('osprofiler.express.request');

export interface NestDetails {
  controller: string;
  handler: string;
}

export interface RequestState {
  readonly point: Point;
  route: string | undefined;
  nest: NestDetails | undefined;
  error: unknown;
  hasError: boolean;
}

export type Marked = Record<symbol, unknown>;

/** The state of a traced request: Node's request (Express) or its `raw` one (a FastifyRequest). */
export function stateOf(req: unknown): RequestState | undefined {
  if (req === null || typeof req !== 'object') return undefined;
  let s = (req as Marked)[STATE];
  if (s === undefined) {
    const raw = (req as { raw?: unknown }).raw;
    if (raw !== null && typeof raw === 'object') s = (raw as Marked)[STATE];
  }
  return s === null ? undefined : (s as RequestState | undefined);
}
