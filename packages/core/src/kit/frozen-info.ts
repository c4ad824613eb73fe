/**
 * An info an adapter builds once per query shape (Knex: per client, method and table;
 * TypeORM: per repository method) and passes to every point of that shape. Frozen all the
 * way down, it is what core's line formatter caches by identity (line.ts, "frozen info"):
 * its text is made once instead of per point (a Knex `db` start line 8.2k → 0.86k
 * instructions). Plain objects and arrays are frozen; anything else in it (a Date, a class
 * instance) is left as it is, and then the info is simply formatted every time.
 */
const MAX_DEPTH = 10;

export function frozenInfo<T extends object>(info: T): Readonly<T> {
  freezePlain(info, 0);
  return info;
}

function freezePlain(v: unknown, depth: number): void {
  if (typeof v !== 'object' || v === null || depth > MAX_DEPTH) return;
  if (!Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype) return;
  Object.freeze(v);
  for (const k of Object.keys(v)) freezePlain((v as Record<string, unknown>)[k], depth + 1);
}
