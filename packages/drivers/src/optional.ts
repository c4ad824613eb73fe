/**
 * Backend clients are optional peer dependencies: each is loaded the first time its
 * scheme is used. Missing ones are one clear error naming every package to install, raised
 * at `configure()` (core runs `checkPeers` then) or when the driver starts.
 */
import { createRequire } from 'node:module';
import { DriverError } from './errors';

const load = createRequire(__filename);

/** The client packages each scheme needs (module paths: `mysql2/promise` is in `mysql2`). */
const PEERS: Readonly<Record<string, readonly string[]>> = {
  redis: ['ioredis'],
  postgresql: ['pg', 'pg-copy-streams'],
  postgres: ['pg', 'pg-copy-streams'],
  mysql: ['mysql2'],
  amqp: ['amqplib'],
  otlp: ['@opentelemetry/api', '@opentelemetry/otlp-transformer', '@opentelemetry/resources'],
};

function installed(pkg: string): boolean {
  try {
    load.resolve(pkg);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'MODULE_NOT_FOUND') return false;
    throw err;
  }
}

/** Throws one error naming every client package `scheme` needs that is not installed. */
export function checkPeers(scheme: string): void {
  const missing = (PEERS[scheme] ?? []).filter((p) => !installed(p));
  if (missing.length === 0) return;
  const list = missing.map((p) => `"${p}"`).join(', ');
  throw new DriverError(
    'OSP_DRIVER_CLIENT_MISSING',
    `${scheme}:// needs ${missing.length === 1 ? 'the package' : 'the packages'} ${list} ` +
      `(optional peer dependencies of @osprofiler/drivers): npm install ${missing.join(' ')}`,
  );
}

/** Loads a client module of `scheme` after checking all of that scheme's packages at once. */
export function requirePeer<T>(pkg: string, scheme: string): T {
  checkPeers(scheme);
  return load(pkg) as T;
}
