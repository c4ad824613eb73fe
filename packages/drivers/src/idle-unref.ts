/**
 * A storage driver must not keep the process alive: a script that traced something and
 * finished should exit (core's beforeExit flush still writes what is buffered). Sockets
 * are unref()'d while the driver has nothing in flight and ref()'d while it waits for an
 * answer, so an awaited read (e.g. the CLI's getReport) still completes.
 */
export interface Unrefable {
  ref(): unknown;
  unref(): unknown;
  once(event: 'close', fn: () => void): unknown;
}

export class IdleUnref {
  private busy = 0;
  private readonly handles = new Set<Unrefable>();

  /** Starts managing `handle` (a socket); it is unref'd at once when the driver is idle. */
  add(handle: Unrefable | undefined | null): void {
    if (handle === undefined || handle === null || typeof handle.unref !== 'function' || this.handles.has(handle)) return;
    this.handles.add(handle);
    handle.once('close', () => this.handles.delete(handle));
    if (this.busy === 0) handle.unref();
    else handle.ref();
  }

  /** Runs `op` with every handle ref'd until it settles. */
  run<T>(op: () => Promise<T>): Promise<T> {
    if (this.busy++ === 0) for (const h of this.handles) h.ref();
    let p: Promise<T>;
    try {
      p = op();
    } catch (err) {
      this.done();
      return Promise.reject(err);
    }
    return p.finally(() => this.done());
  }

  private done(): void {
    if (--this.busy === 0) for (const h of this.handles) h.unref();
  }
}
