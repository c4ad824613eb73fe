/**
 * Automatic mode: `node --import @osprofiler/node/register app.js` (or `--require`, or
 * `import '@osprofiler/node/register'` first thing in the app). Instruments the HTTP
 * client, `child_process` and `worker_threads` on load, and — in a child process or worker
 * started by a traced request — continues that trace (`process` / `worker` point). Loading
 * it twice changes nothing.
 */
import {
  instrumentChildProcess,
  instrumentHttpClient,
  instrumentWorkerThreads,
  isChildProcessInstrumented,
  isHttpClientInstrumented,
  isWorkerThreadsInstrumented,
} from './hook';
import { enterParentTrace } from './parent-trace';

if (!isHttpClientInstrumented()) instrumentHttpClient();
if (!isChildProcessInstrumented()) instrumentChildProcess();
if (!isWorkerThreadsInstrumented()) instrumentWorkerThreads();
enterParentTrace();
