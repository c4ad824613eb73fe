/**
 * `--nice N`: the agent below the apps it serves — a lower CPU priority (a higher nice
 * value), so on a saturated node the kernel gives the apps' threads the CPU first and the
 * agent catches up in their idle time (its queue and the clients' buffers absorb the lag,
 * bounded by maxQueuePoints). Not the default: on the compare bench's two cores (app, wrk,
 * agent and Redis on them) an agent at nice 10 did not serve the app better than one at
 * nice 0 in the same runs — traced /nested 0.807 / 0.856 / 0.847 / 0.807 / 0.952 / 0.807 of
 * plain req/s against 0.905 / 0.839 / 0.822 / 0.861 / 1.012 / 0.871, /chain 0.578 against
 * 0.708, the app's own CPU a request as high or higher (tools/bench/README.md, "Session 25
 * runs").
 */
import { getPriority, setPriority } from 'node:os';
import { readdirSync } from 'node:fs';

/** Highest nice value (lowest priority) the kernel accepts. */
export const MAX_NICE = 19;

/** What is wrong with `nice` as the agent's nice value, for a message after its name; undefined when it is one. */
export function niceProblem(nice: number): string | undefined {
  return Number.isInteger(nice) && nice >= 0 && nice <= MAX_NICE ? undefined : `expected an integer from 0 to ${MAX_NICE}`;
}

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
