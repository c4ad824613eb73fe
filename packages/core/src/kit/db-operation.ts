/**
 * Which traced work is a database adapter's `db` operation, so that an adapter of the
 * driver underneath (pg under Knex or TypeORM) records no second `db` point for it. Keyed
 * by the operation point's profiler (the context its work runs in); kept on globalThis so
 * two copies of core agree.
 */
import type { Point } from '../point';
import type { Profiler } from '../profiler';

const KEY = Symbol.for('osprofiler.kit.dbOperations');
const holder = globalThis as unknown as Record<symbol, WeakSet<object> | undefined>;
const open: WeakSet<object> = (holder[KEY] ??= new WeakSet<object>());

/** Marks `point` (just opened by a database adapter) as a `db` operation. */
export function markDbOperation(point: Point): void {
  open.add(point.profiler);
}

/** Whether work running in `profiler` is inside some adapter's `db` operation. */
export function inDbOperation(profiler: Profiler): boolean {
  return open.has(profiler);
}
