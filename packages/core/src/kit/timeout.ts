/**
 * One timeout helper for drivers and the agent: `work` resolved or rejected, or a typed
 * "timed out" after `ms` — the timer never keeps the process alive, and is cleared once
 * the work settles.
 */
export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** `work`, or a rejection with `TimeoutError` after `ms` (no timeout when `ms` is not finite). */
export function withTimeout<T>(work: PromiseLike<T>, ms: number, what = 'operation'): Promise<T> {
  if (!Number.isFinite(ms)) return Promise.resolve(work);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(what, ms)), Math.max(0, ms));
    timer.unref?.();
    Promise.resolve(work).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** Waits for `work` at most `ms`: true when it settled in time (a rejection counts as settled). */
export async function settledWithin(work: PromiseLike<unknown>, ms: number): Promise<boolean> {
  try {
    await withTimeout(work, ms);
    return true;
  } catch (err) {
    return !(err instanceof TimeoutError);
  }
}
