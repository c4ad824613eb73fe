import type { Point } from '@osprofiler/core';

/**
 * Stops `point` with the error's `etype`/`message`. Nest turns a microservice handler's
 * exception into a plain object before it travels (`{status: 'error', message}` from
 * `RpcException` and the default RPC filter), and the client receives that object: core's
 * `errorInfo` would record it as `Object`/`[object Object]`, so such objects are recorded
 * with their `message` and `etype` `RpcException` (or their own `name`).
 */
export function failPoint(point: Point, err: unknown): void {
  if (!(err instanceof Error) && err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    const name = (err as { name?: unknown }).name;
    point.stop({ etype: typeof name === 'string' && name !== '' ? name : 'RpcException', message: (err as { message: string }).message });
    return;
  }
  point.fail(err);
}
