/**
 * Optional peers: load a package an adapter can work without. Absent is not a failure;
 * any other error while loading it is counted (contained) and the package is treated as
 * absent.
 */
import { recordFailure } from '../failures';

/** `name` loaded with the adapter's own `require` (so it resolves from the adapter), or undefined when not installed. */
export function optionalRequire<T = unknown>(req: (id: string) => unknown, name: string, pkg = 'kit'): T | undefined {
  try {
    return req(name) as T;
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown } | null;
    const notFound = (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') && typeof e.message === 'string' && e.message.includes(`'${name}'`);
    if (!notFound) recordFailure(`${pkg}.require.${name}`, err);
    return undefined;
  }
}
