/**
 * Automatic mode: loading this module (or the package) makes core's `createDriver` and
 * `configure({ connectionString })` understand the schemes below. Backend clients are
 * optional peers, loaded only when a connection string uses their scheme.
 */
import { registerDriver } from '@osprofiler/core/instrument';
import { amqpDriverFactory } from './amqp/driver';
import { otlpDriverFactory } from './otlp/driver';
import { redisDriverFactory } from './redis/driver';
import { mysqlDriverFactory } from './sql/mysql';
import { postgresDriverFactory } from './sql/postgres';

/** The schemes this package registers. */
export const DRIVER_SCHEMES = ['redis', 'postgresql', 'postgres', 'mysql', 'amqp', 'otlp'] as const;

/** Registers every driver of this package with core's registry (idempotent). */
export function registerDrivers(): void {
  registerDriver('redis', redisDriverFactory);
  registerDriver('postgresql', postgresDriverFactory);
  registerDriver('postgres', postgresDriverFactory);
  registerDriver('mysql', mysqlDriverFactory);
  registerDriver('amqp', amqpDriverFactory);
  registerDriver('otlp', otlpDriverFactory);
}

registerDrivers();
