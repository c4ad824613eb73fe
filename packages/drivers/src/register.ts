/**
 * Automatic mode: loading this module (or the package) makes core's `createDriver` and
 * `configure({ connectionString })` understand the schemes below. Backend clients are
 * optional peers, loaded only when a connection string uses their scheme.
 */
import { registerDriver, type DriverRegistration } from '@osprofiler/core/instrument';
import { amqpDriverFactory } from './amqp/driver';
import { otlpDriverFactory } from './otlp/driver';
import { redisDriverFactory } from './redis/driver';
import { mysqlDriverFactory } from './sql/mysql';
import { postgresDriverFactory } from './sql/postgres';
import { checkPeers } from './optional';

/** The schemes this package registers. */
export const DRIVER_SCHEMES = ['redis', 'postgresql', 'postgres', 'mysql', 'amqp', 'otlp'] as const;

/** Registers every driver of this package with core's registry (idempotent). */
export function registerDrivers(): void {
  // At configure(): every missing client package of the scheme, named in one message.
  const peers = (scheme: string): DriverRegistration => ({ check: () => checkPeers(scheme) });
  registerDriver('redis', redisDriverFactory, peers('redis'));
  registerDriver('postgresql', postgresDriverFactory, peers('postgresql'));
  registerDriver('postgres', postgresDriverFactory, peers('postgres'));
  registerDriver('mysql', mysqlDriverFactory, peers('mysql'));
  registerDriver('amqp', amqpDriverFactory, peers('amqp'));
  registerDriver('otlp', otlpDriverFactory, peers('otlp'));
}

registerDrivers();
