import type { DriverFactory } from '@osprofiler/core/instrument';
import { AgentClientDriver } from './driver';
import { clientOptionsFromUrl } from './options';

/** `agent://<socket path>?max_points=…` → a client driver (connects in the background). */
export const agentDriverFactory: DriverFactory = (url, options) => new AgentClientDriver(clientOptionsFromUrl(url), options);
