/**
 * Automatic mode: importing `@osprofiler/agent` (or `@osprofiler/agent/register`) makes
 * `agent://` connection strings work with core's `configure()` and `createDriver()`.
 */
import { registerDriver } from '@osprofiler/core/instrument';
import { agentDriverFactory } from './client/factory';

export function register(): void {
  registerDriver('agent', agentDriverFactory);
}

register();
