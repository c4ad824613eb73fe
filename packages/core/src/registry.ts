/**
 * Connection string → driver. Backends outside core (packages/drivers, the agent client)
 * register their schemes here; `memory://` and `file://` are built in.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { Driver, DriverFactory, DriverOptions } from './driver';
import { fileDriverFactory } from './drivers/file';
import { memoryDriverFactory } from './drivers/memory';
import { redactConnectionString, scrubSecrets } from './redact';

export { redactConnectionString } from './redact';

const factories = new Map<string, DriverFactory>();

function normaliseScheme(scheme: string): string {
  return scheme.replace(/:(\/\/)?$/, '').toLowerCase();
}

/** Makes `scheme://…` connection strings use `factory`; a later registration replaces it. */
export function registerDriver(scheme: string, factory: DriverFactory): void {
  const s = normaliseScheme(scheme);
  if (!/^[a-z][a-z0-9+.-]*$/.test(s)) throw new Error(`registerDriver: "${scheme}" is not a valid URL scheme`);
  factories.set(s, factory);
}

/** Registered schemes, sorted. */
export function driverSchemes(): string[] {
  return [...factories.keys()].sort();
}

/**
 * Opens the driver a connection string names. Like Python's `get_driver`, a bare scheme
 * ("file", "memory") means "<scheme>://". Errors name the scheme and the known schemes,
 * and never contain a password.
 */
export async function createDriver(connectionString: string, options: Partial<DriverOptions> = {}): Promise<Driver> {
  const cs = connectionString.includes('://') ? connectionString : connectionString + '://';
  let url: URL;
  try {
    url = new URL(cs);
  } catch {
    throw new Error(`invalid connection string "${redactConnectionString(cs)}": expected <scheme>://…`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const factory = factories.get(scheme) ?? loadOptionalPackage(scheme);
  if (factory === undefined) {
    throw new Error(`no storage driver for scheme "${scheme}" (known schemes: ${driverSchemes().join(', ')})`);
  }
  const full: DriverOptions = {
    ...options,
    project: options.project ?? null,
    service: options.service ?? null,
    host: options.host ?? hostname(),
    filterErrorTrace: options.filterErrorTrace ?? false,
  };
  try {
    return await factory(url, full);
  } catch (err) {
    // Factories may echo the URL; whatever they say, the password must not get out.
    if (err instanceof Error) err.message = scrubSecrets(err.message, cs);
    throw err;
  }
}

/**
 * Backends outside core register their schemes when their package loads. Those packages
 * are optional, so a connection string alone is enough: for a scheme core does not know,
 * load the package that provides it if it is installed (next to core, or to the app).
 */
const OPTIONAL_PACKAGES: Readonly<Record<string, string>> = { agent: '@osprofiler/agent' };
const DEFAULT_OPTIONAL_PACKAGE = '@osprofiler/drivers';

function loadOptionalPackage(scheme: string): DriverFactory | undefined {
  const pkg = OPTIONAL_PACKAGES[scheme] ?? DEFAULT_OPTIONAL_PACKAGE;
  const bases = [__filename, require.main?.filename, join(process.cwd(), 'index.js')];
  for (const base of bases) {
    if (base === undefined) continue;
    try {
      createRequire(base)(pkg);
      break;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // Not installed there: try the next place. Anything else is the package's own error.
      if (e.code !== 'MODULE_NOT_FOUND' || !e.message.includes(pkg)) throw err;
    }
  }
  return factories.get(scheme);
}

registerDriver('memory', memoryDriverFactory);
registerDriver('file', fileDriverFactory);
