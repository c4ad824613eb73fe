import { runtime, storage, storageFlags, usesAsyncHooks } from './runtime';
import { untraced } from './api';
import { recordFailure } from './failures';

/** What the check reads of the notifier. */
export interface IdleProbe {
  /** Points waiting in the buffer. */
  readonly pending: number;
  readonly stats: { readonly dropped: number; contextOff: number };
}

/**
 * Turns the trace context's async hooks off while no trace is at work.
 *
 * Node 20's AsyncLocalStorage turns V8's promise hooks on at its first `run()` and keeps them
 * on for the process's life: from the first traced request on, every promise of every
 * request pays them, traced or not. On a Knex route that is most of a traced request's cost
 * (compare app /db under callgrind: plain 1,106k instructions a request, plain after one
 * `run()` 1,308k, traced 1,375k; tools/bench/README.md "Session 31 runs"). Once no point is
 * open, none was recorded and none dropped for a whole `idleMs`, the storage is disabled,
 * which turns the hooks off (when no other AsyncLocalStorage holds them); the next trace's
 * `run()` enables it again.
 *
 * What that gives up: work of a finished request that starts a point only after such a
 * quiet spell (a timer it set, firing `idleMs` after its response) is not traced. Never done
 * once a `run()` was given an async callback (it may await for any time with no point open)
 * or a context was entered for good (`init()`'s enterWith, a child process continuing its
 * parent's trace), nor where AsyncLocalStorage keeps no hooks (AsyncContextFrame). The HTTP
 * adapters enter a request's trace with its `wsgi` point open, not through `run()`.
 */
export class ContextIdle {
  private busy = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly idleMs: number,
    private readonly probe: IdleProbe,
  ) {}

  /** A batch of `points` points, `stops` of them stops, left the buffer. Off the request path. */
  batch(points: number, stops: number): void {
    // Process-wide: a start and its stop may leave through two notifiers (configure() again).
    runtime.openPoints = (runtime.openPoints ?? 0) + points - 2 * stops;
    this.busy = true;
    if (this.timer === undefined && this.idleMs > 0 && usesAsyncHooks) {
      this.timer = untraced(() => setInterval(() => this.check(), this.idleMs));
      this.timer.unref();
    }
  }

  /**
   * Every idleMs: disables the storage after a whole interval in which nothing was open or
   * recorded. Never after a point was dropped (a start dropped by a full buffer, its stop
   * kept, would leave `open` short of a point still open).
   */
  check(): void {
    const quiet = !this.busy && this.probe.pending === 0 && (runtime.openPoints ?? 0) <= 0 && this.probe.stats.dropped === 0;
    this.busy = false;
    if (!quiet || runtime.pinned === true || storageFlags.enabled !== true) return;
    try {
      storage.disable();
      this.probe.stats.contextOff++;
    } catch (err) {
      recordFailure('context.idle', err); // runs in a timer: never thrown into the app
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
