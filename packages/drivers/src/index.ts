// Public surface of @osprofiler/drivers. Importing it registers every scheme with core.
export { registerDrivers, DRIVER_SCHEMES } from './register';
export { DriverError } from './errors';
export type { DriverErrorCode } from './errors';
export type { DriverCounters } from './inflight';
export { parseDurationMs } from './duration';

// redis://
export { RedisDriver, createRedisDriver, redisDriverFactory } from './redis/driver';
export { DEFAULT_REDIS_SETTINGS, redisSettings } from './redis/options';
export type { RedisSettings } from './redis/options';

// postgresql:// (postgres://) and mysql://
export { SqlDriver, tableNames } from './sql/base';
export type { SqlPruneResult, TableNames } from './sql/base';
export { DEFAULT_SQL_SETTINGS, sqlSettings } from './sql/options';
export type { SqlSettings } from './sql/options';
export { PostgresDriver, createPostgresDriver, postgresDriverFactory } from './sql/postgres';
export { MysqlDriver, createMysqlDriver, mysqlDriverFactory } from './sql/mysql';

// amqp:// (publish as Python's messaging driver does)
export { AmqpDriver, createAmqpDriver, amqpDriverFactory } from './amqp/driver';
export { DEFAULT_AMQP_SETTINGS, ROUTING_KEY, amqpSettings } from './amqp/options';
export type { AmqpSettings } from './amqp/options';
export { notificationMessage, pythonStrUtcNow } from './amqp/message';

// otlp:// (spans over OTLP/HTTP protobuf)
export { OtlpDriver, createOtlpDriver, otlpDriverFactory } from './otlp/driver';
export type { OtlpCounters } from './otlp/driver';
export { DEFAULT_OTLP_SETTINGS, otlpSettings } from './otlp/options';
export type { OtlpSettings } from './otlp/options';
export { otelSpanId, otelTraceId } from './otlp/ids';

// copying a stored trace to another driver (`trace export`)
export { exportTrace, traceNotifications } from '@osprofiler/core';
