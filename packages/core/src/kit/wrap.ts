/**
 * Wrapping functions in place, with one marker for every package of ours: a wrapper
 * carries `{original, by}` under `Symbol.for('osprofiler.wrapped')`, so any copy of any
 * adapter can tell that a function is a wrapper, whose, and undo it.
 */
const WRAPPED = Symbol.for('osprofiler.wrapped');

/** The marker's key, for wrappers that cannot carry a property of their own (a Proxy answers it in its `get` trap). */
export const WRAPPED_MARK: symbol = WRAPPED;

type AnyFn = (...args: any[]) => any;

interface Mark {
  readonly original: AnyFn;
  /** The owner had no own property (the method was inherited): unwrap deletes ours. */
  inherited?: boolean;
  /** The package that wrapped it ('express', 'knex', …). */
  readonly by: string;
}

function markOf(fn: unknown): Mark | undefined {
  return typeof fn === 'function' ? ((fn as unknown as Record<symbol, unknown>)[WRAPPED] as Mark | undefined) : undefined;
}

/**
 * True when `fn` is a wrapper of ours — by package `by` when given, looking through
 * wrappers of other packages underneath it.
 */
export function isWrapped(fn: unknown, by?: string): boolean {
  for (let m = markOf(fn); m !== undefined; m = markOf(m.original)) {
    if (by === undefined || m.by === by) return true;
  }
  return false;
}

/** The function a wrapper of ours replaced (through every layer), or `fn` itself. */
export function originalOf<F>(fn: F): F {
  let f: unknown = fn;
  for (let m = markOf(f); m !== undefined; m = markOf(f)) f = m.original;
  return f as F;
}

/** Marks `wrapper` as `by`'s wrapper of `original` (for wrappers installed by other means, e.g. listeners). */
export function markWrapped<F extends AnyFn>(wrapper: F, original: AnyFn, by: string): F {
  Object.defineProperty(wrapper, WRAPPED, { value: { original, by } as Mark, enumerable: false, configurable: true });
  try {
    Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
  } catch {
    // a name that cannot be copied only changes how the wrapper prints
  }
  return wrapper;
}

/**
 * Replaces `owner[name]` with `make(original)`, marked as `by`'s. Does nothing (returns
 * false) when the property is not a function or `by` wrapped it already — so calling it
 * twice, or from two copies of an adapter, wraps once. The property keeps its
 * enumerability; an inherited method gets an own property on `owner`.
 */
export function wrap<T extends object>(owner: T, name: string | symbol, by: string, make: (original: AnyFn) => AnyFn): boolean {
  const o = owner as Record<string | symbol, unknown>;
  const original = o[name];
  if (typeof original !== 'function' || isWrapped(original, by)) return false;
  const wrapper = markWrapped(make(original as AnyFn), original as AnyFn, by);
  const d = Object.getOwnPropertyDescriptor(owner, name);
  if (d !== undefined && 'value' in d) Object.defineProperty(owner, name, { ...d, value: wrapper });
  else {
    (markOf(wrapper) as Mark).inherited = d === undefined;
    o[name] = wrapper;
  }
  return true;
}

/**
 * Puts back what `wrap` replaced on `owner[name]` (when the wrapper of `by`, or any of ours,
 * is the outermost one). Returns whether it did.
 */
export function unwrap<T extends object>(owner: T, name: string | symbol, by?: string): boolean {
  const o = owner as Record<string | symbol, unknown>;
  const m = markOf(o[name]);
  if (m === undefined || (by !== undefined && m.by !== by) || !Object.prototype.hasOwnProperty.call(owner, name)) return false;
  if (m.inherited === true) {
    delete o[name];
    return true;
  }
  const d = Object.getOwnPropertyDescriptor(owner, name)!;
  Object.defineProperty(owner, name, { ...d, value: m.original });
  return true;
}

/** The object on `obj`'s prototype chain that owns `name` (stops before Object/Function.prototype). */
export function ownerOf(obj: object | null | undefined, name: string): object | undefined {
  for (let p = obj ?? null; p !== null && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.prototype.hasOwnProperty.call(p, name)) return p;
  }
  return undefined;
}
