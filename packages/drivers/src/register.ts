/**
 * Automatic mode: loading this module (or the package) makes core's `createDriver` and
 * `configure({ connectionString })` understand the schemes below. Backend clients are
 * optional peers, loaded only when a connection string uses their scheme.
 */
import { registerDriver } from '@osprofiler/core';
import { redisDriverFactory } from './redis/driver';

/** Scheme → what it stores into. */
export const DRIVER_SCHEMES = ['redis'] as const;

/** Registers every driver of this package with core's registry (idempotent). */
export function registerDrivers(): void {
  registerDriver('redis', redisDriverFactory);
}

registerDrivers();
