/**
 * Automatic mode for Nest alone: `node --require @osprofiler/nestjs/register app.js` (or
 * `--import`, or via `@osprofiler/auto`). Every app made by `NestFactory` after this is
 * traced without importing `ProfilerModule`; loading this twice changes nothing. Nest
 * itself is loaded only when the app loads it.
 */
import { registerNest } from './auto';

registerNest();
