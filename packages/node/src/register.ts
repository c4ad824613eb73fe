/**
 * Automatic mode: `node --import @osprofiler/node/register app.js` (or `--require`, or
 * `import '@osprofiler/node/register'` first thing in the app). Instruments the HTTP
 * client on load; loading it twice changes nothing.
 */
import { instrumentHttpClient, isHttpClientInstrumented } from './hook';

if (!isHttpClientInstrumented()) instrumentHttpClient();
