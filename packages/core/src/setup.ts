import { isMainThread } from 'node:worker_threads';
import { run, untraced, type TraceOptions } from './api';
import { resolveConfig, type ConfigInput, type ProfilerConfig } from './config';
import type { Driver } from './driver';
import { ENV_NAMES } from './config';
import { recordFailure } from './failures';
import { warnOnce } from './diagnostics';
import { BatchNotifier, type NotifierStats } from './notifier';
import { extract, type Carrier } from './propagation';
import { createDriver } from './registry';
import { runtime, type PointSink } from './runtime';
import { createSampler, type Sampler } from './sampling';

interface State {
  config: Readonly<ProfilerConfig>;
  notifier: BatchNotifier;
  sampler: Sampler;
}

let state: State | undefined;

export interface ConfigureOptions extends ConfigInput {
  /** Use this driver instead of the one `connectionString` names. */
  driver?: Driver;
}

/**
 * Sets the process up from options over `OSPROFILER_*` env over defaults, and routes all
 * trace points to the configured driver. Call it at start-up: a bad value throws a
 * `ConfigError` naming the field. Calling it again replaces the previous set-up.
 */
export function configure(options: ConfigureOptions = {}): Readonly<ProfilerConfig> {
  // Outside any trace: the driver's connection and the notifier's promises live as long as the
  // process, and made inside a trace (the lazy set-up at its first point) they would carry it:
  // its profiler held for good, and the driver's own socket callbacks run in that trace.
  return untraced(() => setUp(options));
}

function setUp(options: ConfigureOptions): Readonly<ProfilerConfig> {
  const { driver, ...rest } = options;
  const config = resolveConfig(rest);
  const driverP: Promise<Driver> =
    driver !== undefined
      ? Promise.resolve(driver)
      : createDriver(config.connectionString, {
          project: config.project,
          service: config.service,
          host: config.host,
          filterErrorTrace: config.filterErrorTrace,
        });
  // A driver that fails to connect is contained: points are then counted as lost.
  driverP.catch((err) => recordFailure('driver.create', err));
  const notifier = new BatchNotifier(driverP, config);
  const previous = state;
  state = { config, notifier, sampler: createSampler(config.sampling) };
  runtime.sink = notifier;
  runtime.maxTracePoints = config.maxTracePoints;
  if (previous !== undefined) void previous.notifier.close();
  installExitFlush();
  // Keys while off: said when they were given here, in the main thread (a worker's copy of
  // its creator's settings, or the lazy set-up from the environment, is not the user's call).
  warnAboutConfig(config, { keysWhileOff: rest.hmacKeys !== undefined && isMainThread });
  return config;
}

/**
 * Says, once per process, when a configuration cannot trace what its author most likely
 * expects: keys given while tracing is off (adapters then do nothing, silently), or
 * tracing on with neither keys nor sampling (no request can start a trace).
 */
export function warnAboutConfig(config: Readonly<ProfilerConfig>, checks: { keysWhileOff?: boolean } = {}): void {
  if (!config.enabled && config.hmacKeys.length > 0) {
    if (checks.keysWhileOff === false) return;
    warnOnce(
      'config.disabled',
      `hmacKeys are set but tracing is off (enabled: false, the default, as in Python): no incoming request is traced ` +
        `(the Express and Nest adapters and automatic mode do nothing). ` +
        `Set enabled: true in configure() or ${ENV_NAMES.enabled}=true. Traces started by hand with run() still record.`,
      'OSPROFILER_DISABLED',
    );
  } else if (config.enabled && config.hmacKeys.length === 0 && config.sampling === null) {
    warnOnce(
      'config.no-keys',
      `tracing is on (enabled, ${ENV_NAMES.enabled}) but there are no hmacKeys (${ENV_NAMES.hmacKeys}) and no sampling (${ENV_NAMES.sampling}): ` +
        `no incoming request can start a trace. Traces started by hand with run({ hmacKey }) still record.`,
      'OSPROFILER_NO_KEYS',
    );
  }
}

/** The active configuration; on first use without `configure()`, read from the environment. */
export function getConfig(): Readonly<ProfilerConfig> {
  return ensureState()?.config ?? resolveConfig({});
}

function ensureState(): State | undefined {
  if (state === undefined) {
    try {
      configure();
    } catch (err) {
      recordFailure('configure.env', err);
    }
  }
  return state;
}

/** Sends buffered points to the driver and waits until they are stored (bounded by `timeoutMs`). */
export async function flush(timeoutMs = 5000): Promise<void> {
  if (state !== undefined) await state.notifier.flush(timeoutMs);
}

/** Flushes and closes the driver. */
export async function shutdown(timeoutMs = 5000): Promise<void> {
  const s = state;
  state = undefined;
  runtime.sink = lazySink;
  if (s !== undefined) await s.notifier.close(timeoutMs);
}

export function notifierStats(): NotifierStats | undefined {
  return state?.notifier.stats;
}

/**
 * For adapters: the trace an incoming request should run in — its verified headers, or a
 * new sampled trace (signed with the first key) — or undefined to serve it untraced.
 */
export function incomingTrace(
  carrier: Carrier | null | undefined,
  config: Readonly<ProfilerConfig> = getConfig(),
  sampler?: Sampler,
): TraceOptions | undefined {
  const t = extract(carrier, config.hmacKeys);
  if (t !== undefined || config.sampling === null) return t;
  const decide = sampler ?? ensureState()?.sampler;
  return decide !== undefined && decide() ? { hmacKey: config.hmacKeys[0] } : undefined;
}

/** Until configured, the first point configures from the environment, then forwards. */
const lazySink: PointSink = {
  point(phase, name, baseId, traceId, parentId, info) {
    const s = ensureState();
    if (s !== undefined) s.notifier.point(phase, name, baseId, traceId, parentId, info);
  },
};

let exitHookInstalled = false;
function installExitFlush(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('beforeExit', () => {
    const s = state;
    if (s !== undefined && s.notifier.pending > 0) void s.notifier.flush(s.config.exitFlushTimeoutMs);
  });
}

// The first copy of core to load replaces the runtime's default no-op sink.
if ((runtime.sink as { isDefault?: boolean }).isDefault === true) runtime.sink = lazySink;

/**
 * Runs `fn` inside the trace that `carrier` carries (verified against the configured
 * keys, or `hmacKeys`), or untraced when it carries none or a bad one.
 */
export function continueFrom<R>(carrier: Carrier | null | undefined, fn: () => R, hmacKeys?: readonly string[]): R {
  const t = extract(carrier, hmacKeys ?? getConfig().hmacKeys);
  return t === undefined ? fn() : run(t, fn);
}
