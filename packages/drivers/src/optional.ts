/**
 * Backend clients are optional peer dependencies: each is loaded the first time its
 * scheme is used, and a missing one is a clear error saying what to install.
 */
import { createRequire } from 'node:module';
import { DriverError } from './errors';

const load = createRequire(__filename);

export function requirePeer<T>(pkg: string, scheme: string): T {
  try {
    return load(pkg) as T;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${pkg}'`)) {
      throw new DriverError(
        'OSP_DRIVER_CLIENT_MISSING',
        `${scheme}:// needs the "${pkg}" package, an optional peer dependency of @osprofiler/drivers: npm install ${pkg}`,
      );
    }
    throw err;
  }
}
