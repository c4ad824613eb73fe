/**
 * Which traced work is a database adapter's `db` operation, so that an adapter of the
 * driver underneath (pg under Knex or TypeORM) records no second `db` point for it. The
 * mark is a property of the operation point's profiler (the context its work runs in)
 * under a registered symbol, so two copies of core agree; a property read is cheaper
 * than the WeakSet it replaces (each WeakSet add/has hashes the key: ~1k instructions
 * per query under callgrind).
 */
import type { Point } from '../point';
import type { Profiler } from '../profiler';

const MARK = Symbol.for('osprofiler.kit.dbOperation');
type Marked = { [MARK]?: true };

/** Marks `point` (just opened by a database adapter) as a `db` operation. */
export function markDbOperation(point: Point): void {
  (point.profiler as unknown as Marked)[MARK] = true;
}

/** Whether work running in `profiler` is inside some adapter's `db` operation. */
export function inDbOperation(profiler: Profiler): boolean {
  return (profiler as unknown as Marked)[MARK] === true;
}
