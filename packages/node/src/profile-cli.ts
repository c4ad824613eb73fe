/**
 * `profileCli` for users' own command-line tools, as the Python clients' `--profile <HMAC>`:
 * the command runs in a fresh trace, and `Trace ID: <base_id>` is printed when it is done.
 */
import { flush, get, run } from '@osprofiler/core';
import { isThenable } from '@osprofiler/core/instrument';
import { contained } from './contained';

export interface ProfileCliOptions {
  /**
   * Where to print `Trace ID: <base_id>`: `stdout` by default, as python-novaclient and
   * the other Python clients `print()` it; `stderr` keeps the command's own output clean.
   */
  stream?: 'stdout' | 'stderr' | ((line: string) => void);
  /** Upper bound for storing the points before printing (async commands). */
  flushTimeoutMs?: number;
}


function printer(o: ProfileCliOptions): (line: string) => void {
  const s = o.stream ?? 'stdout';
  if (typeof s === 'function') return s;
  return (line) => void (s === 'stderr' ? process.stderr : process.stdout).write(line);
}

/**
 * Runs `fn` (sync or async) in a new trace signed with `hmacKey` and prints
 * `Trace ID: <base_id>` once it is done — also when it throws. Returns exactly what `fn`
 * returns (a sync result stays sync) and rethrows exactly what it throws. For an async
 * `fn` the points are flushed to the backend before the line is printed; for a sync one
 * they are flushed when the process is about to exit.
 */
export function profileCli<R>(hmacKey: string, fn: () => R, options: ProfileCliOptions = {}): R {
  let baseId = '';
  const done = (): void => {
    try {
      printer(options)(`Trace ID: ${baseId}\n`);
    } catch (err) {
      contained('profileCli.print', err);
    }
  };
  let result: R;
  try {
    result = run({ hmacKey }, () => {
      baseId = get()?.baseId ?? '';
      return fn();
    });
  } catch (err) {
    done();
    throw err;
  }
  if (!isThenable(result)) {
    done();
    return result;
  }
  const flushed = (): Promise<void> => flush(options.flushTimeoutMs).catch((err: unknown) => contained('profileCli.flush', err));
  return Promise.resolve(result).then(
    async (value) => {
      await flushed();
      done();
      return value;
    },
    async (err: unknown) => {
      await flushed();
      done();
      throw err;
    },
  ) as R;
}

/** The HMAC key of a `--profile <HMAC>` / `--profile=<HMAC>` flag, and the other arguments. */
export function findProfileFlag(argv: readonly string[]): { hmacKey: string | undefined; args: string[] } {
  const args: string[] = [];
  let hmacKey: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (a === '--profile' && i + 1 < argv.length) {
      hmacKey = argv[++i];
    } else if (a.startsWith('--profile=')) {
      hmacKey = a.slice('--profile='.length);
    } else {
      args.push(a);
    }
  }
  return { hmacKey: hmacKey === '' ? undefined : hmacKey, args };
}

/**
 * Runs `fn(args)` — `argv` without the `--profile <HMAC>` flag — inside `profileCli` when
 * the flag is there, else as is.
 */
export function profileCliFromArgv<R>(argv: readonly string[], fn: (args: string[]) => R, options?: ProfileCliOptions): R {
  const { hmacKey, args } = findProfileFlag(argv);
  return hmacKey === undefined ? fn(args) : profileCli(hmacKey, () => fn(args), options);
}
