/** What a worker thread records: the `thread` point (creator side) and the thread's own points. */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorInfo } from '@osprofiler/core/instrument';
import { contained } from './contained';

export const THREAD_POINT = 'thread';
/** Inside the worker: its main run, under the creator's `thread` point. */
export const WORKER_POINT = 'worker';
/** Inside a pool worker: one task, under the point that submitted it (`wrapTask`). */
export const TASK_POINT = 'task';
/** Inside a child process: its main run, under the parent's `exec` point. */
export const PROCESS_POINT = 'process';

/** The worker's file as text (path or URL), `eval` for code; undefined when Node will reject it. */
export function workerFile(filename: unknown, options: unknown): string | undefined {
  if ((options as { eval?: unknown } | undefined)?.eval === true) return 'eval';
  if (typeof filename === 'string') return filename;
  if (filename instanceof URL) {
    if (filename.protocol !== 'file:') return filename.protocol.slice(0, -1);
    try {
      return fileURLToPath(filename);
    } catch (err) {
      contained('thread.file', err); // not a local file URL: the Worker constructor rejects it itself
      return filename.href;
    }
  }
  return undefined;
}

export function threadStartInfo(file: string): object {
  return { function: { name: basename(file) || file }, thread: { filename: file } };
}

/** `thread: {thread_id, exit_code}` (the id exists once the Worker does, after the start event), plus the worker's uncaught error. */
export function threadStopInfo(threadId: number, exitCode: number | null, err: unknown): object {
  const info = { thread: { thread_id: threadId, exit_code: exitCode } };
  return err === undefined ? info : { ...info, ...errorInfo(err) };
}
