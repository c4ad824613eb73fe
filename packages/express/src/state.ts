import type { Point } from '@osprofiler/core';
import type { StopState } from './points';

/**
 * Per-request marker, shared by every copy of this package (Symbol.for): a `RequestState`
 * for a traced request, `null` once a request was checked and is served untraced. An outer
 * app, the auto-mode hook or a second middleware then leaves the request alone.
 */
export const STATE = Symbol.for('osprofiler.express.request');

export interface RequestState extends StopState {
  readonly point: Point;
}
