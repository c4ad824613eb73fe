import { describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { ConfigError, DEFAULT_CONFIG, ENV_NAMES, resolveConfig } from '../src/index';

describe('config', () => {
  it('defaults: disabled, no keys, file:// store, trace_requests on, trace_db off', () => {
    const c = resolveConfig({}, {});
    expect(c).toMatchObject({ ...DEFAULT_CONFIG, host: hostname() });
    expect(c.hmacKeys).toEqual([]);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every OSPROFILER_* variable', () => {
    const env = {
      OSPROFILER_ENABLED: 'true',
      OSPROFILER_HMAC_KEYS: ' new , old ,,',
      OSPROFILER_CONNECTION_STRING: 'memory://x',
      OSPROFILER_TRACE_DB: '1',
      OSPROFILER_TRACE_REQUESTS: 'no',
      OSPROFILER_FILTER_ERROR_TRACE: 'yes',
      OSPROFILER_PROJECT: 'p',
      OSPROFILER_SERVICE: 's',
      OSPROFILER_HOST: 'h',
      OSPROFILER_SAMPLING: '1/10',
      OSPROFILER_FLUSH_INTERVAL_MS: '250',
      OSPROFILER_MAX_BUFFER_POINTS: '1000',
      OSPROFILER_EXIT_FLUSH_TIMEOUT_MS: '500',
      OSPROFILER_MAX_TRACE_POINTS: '2000',
      OSPROFILER_MAX_INFO_BYTES: '4096',
      OSPROFILER_RESPONSE_TRACE_HEADER: 'X-Request-Trace',
      OSPROFILER_CONTEXT_IDLE_MS: '30000',
    };
    expect(Object.keys(env).sort()).toEqual(Object.values(ENV_NAMES).sort());
    expect(resolveConfig({}, env)).toEqual({
      enabled: true,
      hmacKeys: ['new', 'old'],
      connectionString: 'memory://x',
      traceDb: true,
      traceRequests: false,
      filterErrorTrace: true,
      project: 'p',
      service: 's',
      host: 'h',
      sampling: { everyNth: 10 },
      flushIntervalMs: 250,
      maxBufferPoints: 1000,
      exitFlushTimeoutMs: 500,
      maxTracePoints: 2000,
      maxInfoBytes: 4096,
      responseTraceHeader: 'X-Request-Trace',
      contextIdleMs: 30000,
    });
  });

  it('explicit options override the environment', () => {
    const c = resolveConfig({ enabled: false, hmacKeys: ['a'], sampling: { rate: 0.5 } }, { OSPROFILER_ENABLED: 'true', OSPROFILER_HMAC_KEYS: 'b' });
    expect(c.enabled).toBe(false);
    expect(c.hmacKeys).toEqual(['a']);
    expect(c.sampling).toEqual({ rate: 0.5 });
  });

  it.each([
    [{ OSPROFILER_ENABLED: 'maybe' }, 'enabled (OSPROFILER_ENABLED)'],
    [{ OSPROFILER_TRACE_DB: '2' }, 'traceDb (OSPROFILER_TRACE_DB)'],
    [{ OSPROFILER_FLUSH_INTERVAL_MS: '-5' }, 'flushIntervalMs (OSPROFILER_FLUSH_INTERVAL_MS)'],
    [{ OSPROFILER_MAX_BUFFER_POINTS: '1e3' }, 'maxBufferPoints (OSPROFILER_MAX_BUFFER_POINTS)'],
    [{ OSPROFILER_SAMPLING: '1/10' }, 'sampling (OSPROFILER_SAMPLING): sampling needs hmacKeys'],
    [{ OSPROFILER_SAMPLING: '2.5', OSPROFILER_HMAC_KEYS: 'k' }, 'sampling (OSPROFILER_SAMPLING)'],
    [{ OSPROFILER_CONNECTION_STRING: 'nonsense' }, 'connectionString (OSPROFILER_CONNECTION_STRING)'],
    [{ OSPROFILER_MAX_TRACE_POINTS: '0' }, 'maxTracePoints (OSPROFILER_MAX_TRACE_POINTS)'],
    [{ OSPROFILER_MAX_INFO_BYTES: '100' }, 'maxInfoBytes (OSPROFILER_MAX_INFO_BYTES)'],
    [{ OSPROFILER_RESPONSE_TRACE_HEADER: 'Bad Header' }, 'responseTraceHeader (OSPROFILER_RESPONSE_TRACE_HEADER)'],
    [{ OSPROFILER_RESPONSE_TRACE_HEADER: 'X-Trace-HMAC' }, 'responseTraceHeader (OSPROFILER_RESPONSE_TRACE_HEADER)'],
  ])('bad value %j fails naming the field', (env, field) => {
    expect(() => resolveConfig({}, env)).toThrow(ConfigError);
    expect(() => resolveConfig({}, env)).toThrow(field);
  });

  it('never echoes a connection string that may hold a password', () => {
    try {
      resolveConfig({}, { OSPROFILER_CONNECTION_STRING: 'redis:/:hunter2@host' });
      expect.unreachable();
    } catch (e) {
      expect(String(e)).not.toContain('hunter2');
    }
  });

  it('responseTraceHeader: off by default, true/on for the default name, or a name', () => {
    expect(resolveConfig({}, {}).responseTraceHeader).toBeNull();
    expect(resolveConfig({}, { OSPROFILER_RESPONSE_TRACE_HEADER: 'on' }).responseTraceHeader).toBe('X-OSProfiler-Base-Id');
    expect(resolveConfig({ responseTraceHeader: true }, {}).responseTraceHeader).toBe('X-OSProfiler-Base-Id');
    expect(resolveConfig({ responseTraceHeader: false }, { OSPROFILER_RESPONSE_TRACE_HEADER: 'on' }).responseTraceHeader).toBeNull();
    expect(resolveConfig({ responseTraceHeader: 'X-Trace-Id' }, {}).responseTraceHeader).toBe('X-Trace-Id');
  });

  it('rejects non-string keys in an array', () => {
    expect(() => resolveConfig({ hmacKeys: ['ok', ''] }, {})).toThrow('hmacKeys');
  });
});
