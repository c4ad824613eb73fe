/**
 * Automatic mode for Fastify alone: `node --require @osprofiler/fastify/register app.js`
 * or `node --import @osprofiler/fastify/register app.mjs` (`@osprofiler/auto` loads it
 * with the other adapters). Does nothing unless OSPROFILER_ENABLED is true.
 */
import { registerFastify } from './auto';

registerFastify();
