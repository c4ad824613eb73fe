/** OSProfiler timestamps as µs and back: core's one implementation (packages/core/src/timestamp.ts). */
export { microsToTimestamp, timestampMicrosText } from '@osprofiler/core/instrument';
