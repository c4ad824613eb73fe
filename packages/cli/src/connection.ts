/**
 * Connection strings: choose one (flag, then OSPROFILER_CONNECTION_STRING, then `file://`),
 * open the driver, and report failures without ever printing a password.
 */
import { createDriver as coreCreateDriver, knownSchemes } from '@osprofiler/core';
import type { Driver } from '@osprofiler/core';
import { redactConnectionString, scrubSecrets } from '@osprofiler/core/instrument';
import { CliError, CONNECTION_ENV, DEFAULT_CONNECTION_STRING } from './io';
import type { CliIO } from './io';

/** The flag if given, else the environment variable if set and non-empty (as Python), else `file://`. */
export function resolveConnectionString(flag: string | undefined, env: CliIO['env']): string {
  if (flag !== undefined) return flag;
  const fromEnv = env[CONNECTION_ENV];
  return fromEnv ? fromEnv : DEFAULT_CONNECTION_STRING;
}

/** Replace every secret of the connection string found in `text` with `***` (core's one redaction). */
export const scrub: (text: string, cs: string) => string = scrubSecrets;

/** The connection string with its password (and password-like query values) replaced by `***`. */
export const redact: (cs: string) => string = redactConnectionString;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A connection string no driver here could ever serve: not a URL, or an unknown scheme. */
function unusable(cs: string): boolean {
  const m = /^([a-z][a-z0-9+.-]*):(?:\/\/|$)/i.exec(cs.includes('://') ? cs : cs + '://');
  if (m === null) return true;
  try {
    return !knownSchemes().includes(m[1].toLowerCase());
  } catch {
    return false;
  }
}

/**
 * Open the driver for `cs`. A bad connection string (not a URL, an unknown scheme) is a
 * usage error (exit 2); a backend that cannot be reached or a missing client package, a
 * failure (exit 1).
 */
export async function openDriver(cs: string, io: CliIO): Promise<Driver> {
  if (cs.trim() === '') {
    throw new CliError(
      `the connection string is empty; pass --connection-string or set ${CONNECTION_ENV} (default: ${DEFAULT_CONNECTION_STRING})`,
      2,
    );
  }
  const create = io.createDriver ?? coreCreateDriver;
  try {
    return await create(cs);
  } catch (err) {
    throw new CliError(`cannot use connection string '${redact(cs)}': ${scrub(messageOf(err), cs)}`, unusable(cs) ? 2 : 1);
  }
}

/** Run `fn` with an open driver and always close it (so the process can exit on its own). */
export async function withDriver<T>(cs: string, io: CliIO, fn: (driver: Driver) => Promise<T>): Promise<T> {
  const driver = await openDriver(cs, io);
  try {
    return await fn(driver);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`reading from '${redact(cs)}' failed: ${scrub(messageOf(err), cs)}`, 1);
  } finally {
    try {
      await driver.close();
    } catch {
      // closing is best effort
    }
  }
}
