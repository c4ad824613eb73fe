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
