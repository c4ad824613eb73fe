/**
 * The agent runs below the apps it serves: a lower CPU priority (a higher nice value), so
 * on a busy node the kernel gives the apps' threads the CPU first and the agent catches up
 * in their idle time (its queue and the clients' buffers absorb the lag, bounded by
 * maxQueuePoints). Without it, each batch's wake-up preempted the app: on two cores a traced
 * Express server was preempted 81–82 times a 1,000 requests against 15–18 for plain Express
 * (tools/bench/README.md, "Session 20 runs").
 */
import { getPriority, setPriority } from 'node:os';
import { readdirSync } from 'node:fs';

/** Highest nice value (lowest priority) the kernel accepts. */
export const MAX_NICE = 19;

/**
 * Lowers this process's priority to `nice` (0–19); never raises it (a process started
 * under `nice -n 15` stays at 15). On Linux a nice value belongs to a thread, so every
 * thread the process has now (V8's and libuv's) is set; threads made later inherit it from
 * the main thread. Returns the nice value now in effect, or the error's message.
 */
export function lowerPriority(nice: number): { nice: number } | { error: string } {
  try {
    const current = getPriority();
    if (nice <= current) return { nice: current };
    for (const tid of threadIds()) {
      try {
        setPriority(tid, nice);
      } catch (err) {
        // A thread that ended since the listing: nothing to lower.
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
    return { nice: getPriority() };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * This process's thread ids (Linux), the main thread first: a thread started while the
 * others are set inherits the main thread's value. Else 0: the whole process, where nice
 * is per process.
 */
function threadIds(): number[] {
  if (process.platform !== 'linux') return [0];
  try {
    return [0, ...readdirSync('/proc/self/task').map(Number).filter((tid) => tid !== process.pid)];
  } catch {
    return [0];
  }
}
