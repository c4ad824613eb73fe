// Public surface of @osprofiler/collector.
export { startCollector, initCollector, checkOptions } from './collector';
export type { CollectorHandle } from './collector';
export { DEFAULT_COLLECTOR_OPTIONS } from './options';
export type { CollectorOptions, CollectorOptionsInput } from './options';
export type { CollectorMetrics } from './metrics';
export { loadRules } from './rules';
export type { Rules, KeepRules, CompiledRules } from './rules';
export { runCollectorProcess, parseCollectorArgs } from './run';
export type { RunLog } from './run';
export { CollectorError } from './errors';
export { consumerName, deadLetterStream, leaseBucket } from './setup';
