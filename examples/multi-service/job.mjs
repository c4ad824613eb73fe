// The gateway's worker-thread job: a checksum of the order id. With
// @osprofiler/node/register preloaded, the thread continues the request's trace.
import { parentPort, workerData } from 'node:worker_threads';

parentPort.postMessage({ checksum: [...String(workerData.id)].reduce((a, c) => a * 31 + c.charCodeAt(0), 7) });
