// Public surface of @osprofiler/logs.
export { logIds } from './ids';
export type { LogIds } from './ids';
export { pinoMixin } from './pino';
export { winstonFormat } from './winston';
export type { WinstonFormat } from './winston';
