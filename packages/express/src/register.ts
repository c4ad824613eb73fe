/**
 * Automatic mode for Express alone: `node --require @osprofiler/express/register app.js`
 * or `node --import @osprofiler/express/register app.mjs` (`@osprofiler/auto` loads it
 * with the other adapters). Does nothing unless OSPROFILER_ENABLED is true.
 */
import { registerExpress } from './auto';

registerExpress();
